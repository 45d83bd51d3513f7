// ClientSession: what operations see and do (admin console, drain). Kept apart from the data
// path; everything here runs on the session's worker thread.
#include <spdlog/spdlog.h>

#include "pgsplit/protocol/writer.hpp"
#include "pgsplit/session/client_session.hpp"

namespace pgsplit::session {

ClientInfo ClientSession::describe() const {
  ClientInfo info;
  info.id = id_;
  info.worker = worker_.index();
  info.peer = peer_;
  info.user = user_;
  info.database = database_;
  info.application = applicationName_;
  info.state = state_ == State::Startup          ? "startup"
               : state_ == State::Authenticating ? "authenticating"
               : state_ == State::Ready          ? "ready"
                                                 : "closed";
  info.busy = busy() || relayFlushing_;
  info.pinned = pinned_;
  if (pinReason_ != nullptr) info.pinReason = pinReason_;
  if (active_) {
    info.txnStatus = active_->txnStatus();
    info.backends.push_back({active_->nodeIndex(), active_->pid(), active_->txnStatus(), true});
  }
  for (const auto& held : held_) {
    if (held && held != active_)
      info.backends.push_back({held->nodeIndex(), held->pid(), held->txnStatus(), false});
  }
  return info;
}

bool ClientSession::idleForShutdown() const {
  if (state_ != State::Ready) return true;  // no transaction before the first ReadyForQuery
  if (busy() || relayFlushing_ || writingClient() || retrying_ || copyIn_ || copyWriting_)
    return false;
  // A batch being formed (Parse/Bind... without Sync yet) is work in flight. (Part of a message
  // not yet read whole is not: nothing of it has run.)
  if (!batchOps_.empty()) return false;
  if (active_ && active_->txnStatus() != 'I') return false;
  for (const auto& held : held_)
    if (held && held->txnStatus() != 'I') return false;
  return true;
}

void ClientSession::closeForShutdown() {
  if (state_ == State::Closed || !socket_.is_open()) return;
  spdlog::info("[c{}] closing client {} (shutdown)", id_, peer_);
  closeWithFatal("57P01", "terminating connection: pgsplit is shutting down");
}

void ClientSession::closeWithFatal(const char* sqlstate, const char* message) {
  if (state_ == State::Closed || !socket_.is_open()) return;
  // Written at once, without waiting: the session is between units (or being cut short), so no
  // other write is under way unless writingClient() says so, and then the message would interleave.
  if (!writingClient() && !relayFlushing_) {
    std::string out;
    protocol::writeError(out, {"FATAL", sqlstate, message});
    error_code ec;
    socket_.non_blocking(true, ec);
    if (!ec) socket_.write_some(asio::buffer(out), ec);
  }
  worker_.stats().countProxyError(sqlstate);
  abort();
}

}  // namespace pgsplit::session
