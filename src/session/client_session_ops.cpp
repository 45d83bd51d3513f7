// ClientSession: what operations see and do (admin console, drain, PAUSE), and the few hooks
// operations have on the data path (timing units, statement statistics). Everything here runs on
// the session's worker thread.
#include <spdlog/spdlog.h>

#include "pgsplit/protocol/messages.hpp"
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
  info.paused = heldByPause_;
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
  // (One held by PAUSE has not started: closing now loses nothing.)
  if (!batchOps_.empty() && !heldByPause_) return false;
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
  if (heldByPause_) worker_.releasePaused();  // it looks again, and sees the session closed
}

bool ClientSession::busyForPause(const std::string& database) const {
  if (state_ != State::Ready) return false;
  if (!database.empty() && database != database_) return false;
  if (routingUnit_ || busy() || relayFlushing_ || retrying_ || copyIn_ || copyWriting_) return true;
  if (active_ && active_->txnStatus() != 'I') return true;
  for (const auto& held : held_)
    if (held && held->txnStatus() != 'I') return true;
  return false;
}

Task<bool> ClientSession::passPause() {
  // Only a unit that would start outside a transaction waits: the rest of a batch partly sent,
  // and anything inside an open transaction, go on (PAUSE waits for them to finish).
  while (runtime_.pause.active() && state_ != State::Closed && socket_.is_open()) {
    if (batchOpen_) break;
    co_await waitUntilSettled();  // the transaction status the backend reports, and in order
    if (active_ && active_->txnStatus() != 'I') break;
    if (!runtime_.pause.holds(database_)) break;
    if (!heldByPause_) {
      heldByPause_ = true;
      spdlog::debug("[c{}] paused: the next unit of work waits for RESUME", id_);
    }
    co_await worker_.pauseGate().wait();
  }
  if (heldByPause_) {
    heldByPause_ = false;
    spdlog::debug("[c{}] resumed", id_);
  }
  co_return state_ != State::Closed&& socket_.is_open();
}

void ClientSession::unitWritten(const backend::BackendConnection& target, bool endsWithSync,
                                bool answered) {
  const std::size_t node = target.nodeIndex();
  const bool replica = worker_.nodes().nodes[node].role == routing::Role::Replica;
  const QueryStatsTable::Ref statement =
      endsWithSync && answered ? statementEntry() : QueryStatsTable::Ref{};
  units_.sent(&target, node, replica, !endsWithSync, answered, statement);
}

QueryStatsTable::Ref ClientSession::statementEntry() {
  const std::uint64_t key = units_.key();
  if (key == 0) return {};
  QueryStatsTable& table = worker_.queryStats();
  if (const QueryStatsTable::Ref known = table.find(key); known.valid()) return known;
  // A statement new to this worker: its text as the client sent it (normalised when shown).
  // The statements the unit executes, repeats once: a Query's text, a Bind's statement.
  std::string_view first;
  std::string joined;
  std::string_view last;
  auto add = [&](std::string_view text) {
    if (text.empty() || text == last) return;
    if (first.empty()) {
      first = text;
    } else {
      if (joined.empty()) joined.assign(first);
      joined.append("; ").append(text);
    }
    last = text;
  };
  for (const BatchOp& op : batchOps_) {
    const std::string_view raw = std::string_view(batch_).substr(op.offset, op.size);
    if (op.type == protocol::client::Query) {
      if (auto q = protocol::decodeQuery(raw.substr(5))) add(*q);
    } else if (op.type == protocol::client::Bind) {
      if (op.statement)
        add(op.statement->query);
      else if (op.usesUnnamed && unnamedValid_)
        add(std::string_view(unnamedBody_).substr(0, unnamedBody_.find('\0')));
    }
  }
  if (first.empty()) return {};
  return table.enter(key, joined.empty() ? first : std::string_view(joined));
}

}  // namespace pgsplit::session
