#pragma once
// One non-blocking send() on a connected stream socket, outside Asio's reactor: what the socket
// buffer takes goes out now, and the caller suspends (an Asio async_write of the rest) only when
// it did not take everything. On the hot path that saves a suspension, a trip through the
// scheduler and an operation object per write: a reply or a query almost always fits.
#include <cerrno>
#include <string_view>

#include <sys/socket.h>

#include "pgsplit/asio.hpp"

namespace pgsplit::net {

// Advances `bytes` past what was written. False: the connection failed (or the socket is
// closed). A full socket buffer is not a failure: `bytes` then keeps what is left.
inline bool sendNow(tcp::socket& socket, std::string_view& bytes) {
  if (bytes.empty()) return true;
  for (;;) {
    const ssize_t n =
        ::send(socket.native_handle(), bytes.data(), bytes.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n >= 0) {
      bytes.remove_prefix(static_cast<std::size_t>(n));
      return true;
    }
    if (errno == EINTR) continue;
    return errno == EAGAIN || errno == EWOULDBLOCK;
  }
}

}  // namespace pgsplit::net
