#pragma once
// A watchdog for one phase of a connection: if the phase is not over when the time runs out, the
// socket is closed and whatever awaits on it completes with an error. Every wait needs one.
#include <chrono>
#include <memory>

#include "pgsplit/asio.hpp"

namespace pgsplit::net {

class Deadline {
 public:
  Deadline(tcp::socket& socket, std::chrono::milliseconds after)
      : timer_(socket.get_executor()),
        state_(std::make_shared<State>(State{&socket, false, true})) {
    timer_.expires_after(after);
    timer_.async_wait([state = state_](const error_code& ec) {
      // The session and its socket live on this executor; `active` tells whether they still do.
      if (ec || !state->active) return;
      state->expired = true;
      error_code ignored;
      state->socket->close(ignored);
    });
  }
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;
  ~Deadline() {
    state_->active = false;
    timer_.cancel();
  }
  bool expired() const { return state_->expired; }

 private:
  struct State {
    tcp::socket* socket;
    bool expired;
    bool active;
  };
  asio::steady_timer timer_;
  std::shared_ptr<State> state_;
};

}  // namespace pgsplit::net
