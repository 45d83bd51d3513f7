// ClientSession: backends, the relay of their replies, and writes to the client.
#include <cstring>

#include <spdlog/spdlog.h>

#include "pgsplit/net/send_now.hpp"
#include "pgsplit/protocol/messages.hpp"
#include "pgsplit/session/client_session.hpp"

namespace pgsplit::session {

using namespace protocol;
using backend::BackendConnection;

namespace {
constexpr std::size_t kRelayBuffer = 32 * 1024;
}

void logSessionBug(std::uint64_t id, const char* where, std::exception_ptr e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    spdlog::error("[c{}] bug: exception escaped the {}: {}", id, where, ex.what());
  } catch (...) {
    spdlog::error("[c{}] bug: unknown exception escaped the {}", id, where);
  }
}

BackendConnection::Ptr ClientSession::acquireNow(int node) {
  if (state_ == State::Closed) return nullptr;
  const auto idx = static_cast<std::size_t>(node);
  // Operations hook: a node added by a reload after this client logged in.
  for (std::size_t i = pools_.size(); i <= idx; ++i) {
    pools_.push_back(&worker_.poolFor(i, database_, user_));
    held_.emplace_back();
  }
  if (active_) {
    if (active_->nodeIndex() == idx) return active_;
    // Switching nodes (only ever when settled and idle): the relay's pending read on the current
    // backend ends, then session mode parks it; transaction mode gives it back.
    error_code ignored;
    active_->socket().cancel(ignored);
    if (sessionMode_ || pinned_)
      held_[active_->nodeIndex()] = active_;
    else
      pools_[active_->nodeIndex()]->release(active_);
    active_ = nullptr;
  }
  BackendConnection::Ptr conn = std::move(held_[idx]);
  if (!conn) {
    conn = pools_[idx]->tryCheckout();
    if (!conn) return nullptr;
    const auto gotAt = UnitTracker::Clock::now();  // also the send time of the unit
    if (NodeLatency* l = worker_.stats().latency(idx)) l->poolWait.observe(0);
    units_.checkedOut(conn.get(), gotAt);
  }
  attach(conn);
  return conn;
}

Task<BackendConnection::Ptr> ClientSession::acquire(int node, ErrorSpec& error,
                                                    std::string& errorText) {
  if (auto conn = acquireNow(node)) co_return conn;
  if (state_ == State::Closed) co_return nullptr;
  // (acquireNow made room for the node and let any other active backend go: the pool's turn.)
  const auto idx = static_cast<std::size_t>(node);
  BackendConnection::Ptr conn;
  {
    pool::CheckoutFailure failure;
    const auto askedAt = UnitTracker::Clock::now();  // operations: pool-wait histogram
    conn = co_await pools_[idx]->checkout(failure);
    if (!conn) {
      const auto& name = runtime_.config->nodes[idx].name;
      errorText = "pgsplit: node " + name + ": " + failure.login.text;
      errorState_ = failure.login.sqlstate.empty() ? "08006" : failure.login.sqlstate;
      error = {"ERROR", errorState_, errorText};  // views into members that outlive the call
      const bool unreachable = !failure.timedOut && failure.login.errorMessage.empty();
      spdlog::warn("[c{}] no server connection to node {}: {}{}", id_, name, failure.login.text,
                   unreachable ? " (node out of rotation until a health check reaches it)" : "");
      co_return nullptr;
    }
    const auto gotAt = UnitTracker::Clock::now();  // also the send time of the unit
    if (NodeLatency* l = worker_.stats().latency(idx))
      l->poolWait.observe(static_cast<std::uint64_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(gotAt - askedAt).count()));
    units_.checkedOut(conn.get(), gotAt);
  }
  if (state_ == State::Closed) {  // the client left while we waited
    pools_[idx]->release(std::move(conn));
    co_return nullptr;
  }
  attach(conn);
  co_return conn;
}

void ClientSession::attach(BackendConnection::Ptr conn) {
  replies_.reset();
  carry_ = 0;
  active_ = std::move(conn);
  relaySignal_.notify();
}

bool ClientSession::releasable(char status) const {
  return status == 'I' && !pinned_ && !sessionMode_ && replies_.pending() == 0;
}

void ClientSession::wake() {
  relaySignal_.notify();
  clientSignal_.notify();
}

void ClientSession::returnBackends() {
  // The active backend is in a known state only if every reply the session expected was read to
  // its end and nothing of a COPY or a half-sent batch is left on it.
  const bool settled = pendingSyncs_ == 0 && !batchOpen_ && replies_.pending() == 0 &&
                       replies_.atBoundary() && carry_ == 0 && !copyIn_ && !copyWriting_ &&
                       !absorbSync_ && !relayFlushing_ && !retrying_;
  // Session state of this client (session mode, or what pinned it) must not reach the next one.
  const bool discardAll = sessionMode_ || pinned_;
  auto giveBack = [this, discardAll](BackendConnection::Ptr conn) {
    pool::NodePool* pool = pools_[conn->nodeIndex()];
    if (!discardAll && conn->txnStatus() == 'I')
      pool->release(std::move(conn));
    else
      pool->recycle(std::move(conn), discardAll);  // (a broken one is simply closed)
  };
  if (active_) {
    if (!settled) active_->markBroken();
    giveBack(std::move(active_));
    active_ = nullptr;
  }
  for (auto& held : held_) {
    if (held) giveBack(std::move(held));
    held = nullptr;
  }
}

Task<void> ClientSession::relay(std::shared_ptr<ClientSession> self) {
  while (self->state_ != State::Closed) {
    auto conn = self->active_;
    if (!conn) {
      co_await self->relaySignal_.wait();
      continue;
    }
    if (!co_await self->relayOnce(std::move(conn))) {
      self->abort();
      break;
    }
  }
  self->relayRunning_ = false;
  self->clientSignal_.notify();
}

// One read from the active backend, matched to the requests and forwarded in bulk. False: the
// session must end.
Task<bool> ClientSession::relayOnce(BackendConnection::Ptr conn) {
  std::string& buf = conn->readBuffer();
  if (buf.size() < kRelayBuffer) buf.resize(kRelayBuffer);
  error_code ec;
  std::size_t n = co_await conn->socket().async_read_some(
      asio::buffer(buf.data() + carry_, buf.size() - carry_),
      asio::redirect_error(asio::use_awaitable, ec));
  if (state_ == State::Closed) {
    // The client left. Bytes read now are lost to the stream: the backend cannot be reused.
    if (!ec && n > 0) conn->markBroken();
    co_return false;
  }
  if (active_ != conn) {
    // Parked (session mode switched nodes) while we waited. Bytes now would be unsolicited.
    if (!ec && n > 0) conn->markBroken();
    co_return true;
  }
  if (ec) {
    const auto& name = runtime_.config->nodes[conn->nodeIndex()].name;
    spdlog::warn("[c{}] lost server connection to node {}: {}", id_, name, ec.message());
    conn->markBroken();
    active_ = nullptr;
    if (armed_) {
      // A read none of whose reply reached the client: it runs elsewhere instead.
      pools_[conn->nodeIndex()]->release(std::move(conn));
      co_await retryElsewhere("its replica connection was lost");
      co_return state_ != State::Closed;
    }
    const bool boundary = replies_.atBoundary() && carry_ == 0;
    pools_[conn->nodeIndex()]->release(std::move(conn));
    // We cannot know whether the unit in flight took effect: the client must not assume either
    // way, so the session ends with a clear error, as when a server connection drops.
    if (boundary)
      co_await writeClientError(
          {"FATAL", "08006", "pgsplit: server connection to node " + name + " was lost"}, true);
    co_return false;
  }

  std::string_view chunk(buf.data(), carry_ + n);
  releaseAfterScan_ = false;
  const ReplyStream::Result result = replies_.process(chunk, relayOut_, *this);
  std::string_view out =
      result.rewritten ? std::string_view(relayOut_) : chunk.substr(0, result.consumed);
  if (result.status == ReplyStream::Status::Malformed) {
    spdlog::error("[c{}] node {} sent a malformed or unexpected message; closing", id_,
                  runtime_.config->nodes[conn->nodeIndex()].name);
    conn->markBroken();
    active_ = nullptr;
    pools_[conn->nodeIndex()]->release(std::move(conn));
    if (co_await writeClient(out))
      co_await writeClientError(
          {"FATAL", "08P01", "pgsplit: the server sent a reply it could not match"}, true);
    co_return false;
  }
  if (retryNow_) {
    // The replica refused the read as a write, or is going away: its reply is dropped whole and
    // the unit goes to the primary. (Bytes after its ReadyForQuery would be unsolicited.)
    retryNow_ = false;
    active_ = nullptr;
    if (result.consumed < chunk.size()) conn->markBroken();
    carry_ = 0;
    pools_[conn->nodeIndex()]->release(std::move(conn));
    co_await retryElsewhere(retryWhy_);
    co_return state_ != State::Closed;
  }
  if (armed_ && retryWanted_) {
    // Its ReadyForQuery (or the end of the connection) is still to come: hold everything back.
    carry_ = chunk.size() - result.consumed;
    if (carry_ > 0) std::memmove(buf.data(), buf.data() + result.consumed, carry_);
    co_return true;
  }
  if (armed_ && !out.empty()) armed_ = false;  // the reply has begun: no retry any more
  const bool release = releaseAfterScan_;
  if (release) {
    // The next unit may be routed anywhere from now on, even before these bytes are written.
    active_ = nullptr;
    if (copyWriting_) conn->markBroken();                    // our CopyData may still be on its way
    if (result.consumed < chunk.size()) conn->markBroken();  // unsolicited bytes after it
  }
  relayFlushing_ = true;
  bool ok = writeClientNow(out);  // (the usual case: all of it, without suspending)
  if (ok && !out.empty()) ok = co_await writeClient(out);
  relayFlushing_ = false;
  if (units_.hasAnswered()) units_.delivered(worker_, id_);  // operations: latency
  if (release) {
    carry_ = 0;
    pools_[conn->nodeIndex()]->release(std::move(conn));
  } else {
    // A partial message waits at the start of the buffer for the rest.
    carry_ = chunk.size() - result.consumed;
    if (carry_ > 0) std::memmove(buf.data(), buf.data() + result.consumed, carry_);
  }
  clientSignal_.notify();
  armIdleInTransaction();  // the unit is done and its transaction still open: the clock starts
  co_return ok;
}

// --- what the replies mean (ReplyListener) ---

bool ClientSession::readyForQuery(const PendingReply& entry, char status, bool failed) {
  BackendConnection* conn = active_.get();
  if (conn) conn->setTxnStatus(status);
  if (entry.forClient && armed_) {
    armed_ = false;
    if (retryWanted_) {
      retryNow_ = true;  // the relay sends the unit again; this ReadyForQuery is not the client's
      return true;
    }
  }
  const std::uint64_t captured = std::exchange(capturedLsn_, 0);
  if (!entry.forClient) {
    // pgsplit's own settings SQL. If it failed the client was told (as a notice); the backend's
    // settings are unknown now and get RESET ALL before the next unit.
    if (failed && conn) {
      spdlog::warn("[c{}] could not apply the client's settings on node {}", id_,
                   runtime_.config->nodes[conn->nodeIndex()].name);
      conn->state().settingsUnknown = true;
    }
    return false;
  }
  copyIn_ = false;
  // The statements of the unit that ran are known now; at 'I' its transaction is over.
  if (!ledger_.empty()) ledger_.unitEnded(entry.unit, status, failed, *this);
  answeredUnit_ = entry.unit;
  if (!namesInFlight_.empty())
    std::erase_if(namesInFlight_, [this](const auto& kv) { return kv.second <= answeredUnit_; });
  if (pendingSyncs_ > 0) {
    --pendingSyncs_;
    units_.answered();  // operations: latency, once the reply reaches the client
  }
  if (writeInFlight_ && pendingSyncs_ == 0 && !batchOpen_) {
    writeInFlight_ = false;
    noteWriteAcknowledged(captured);
    if (status != 'I') txnWrote_ = true;
  }
  if (status == 'I' && txnWrote_) {
    // The transaction that wrote is over: its commit is what later reads must see.
    txnWrote_ = false;
    noteWriteAcknowledged(captured);
  }
  if (pendingSyncs_ == 0 && !batchOpen_ && releasable(status)) {
    releaseAfterScan_ = true;
    return true;
  }
  return false;
}

void ClientSession::statementFailed(const PendingReply& entry) {
  // The optimistic bookkeeping done when the request went out is undone.
  backend::ServerState* st = active_ ? &active_->state() : nullptr;
  if (entry.request == client::Parse) {
    if (entry.synthetic == 0 && st) st->prepared.erase(entry.statement.get());
    if (entry.forClient && !entry.clientName.empty() && !retryWanted_) {  // (a retry re-sends it)
      auto it = statements_.find(entry.clientName);
      if (it != statements_.end() && it->second == entry.statement) statements_.erase(it);
    }
  } else if (entry.request == client::Close) {
    if (entry.synthetic == 0 && st) st->prepared.restore(entry.statement);
    if (entry.forClient && !entry.clientName.empty())
      statements_.emplace(entry.clientName, entry.statement);
  }
}

void ClientSession::commandComplete(std::string_view tag, const PendingReply& entry) {
  // The server's word that a statement ran (see EffectLedger). A COMMIT or ROLLBACK needs no
  // record of its own to end a transaction that holds settings.
  if (entry.effectsBegin != entry.effectsEnd || ledger_.inTransaction())
    ledger_.commandComplete(tag, entry.effectsBegin, entry.effectsEnd, *this);
}

void ClientSession::copyInStarted(bool syncQueued) {
  copyIn_ = true;
  absorbSync_ = syncQueued;
}

void ClientSession::errorResponse(std::string_view body, const PendingReply& entry) {
  // Operations: errors by node and SQLSTATE class (metrics, SHOW STATS).
  if (active_ && entry.forClient) {
    const std::size_t node = active_->nodeIndex();
    worker_.stats().countServerError(
        node, worker_.nodes().nodes[node].role == routing::Role::Replica, body);
  }
  if (!armed_ || !entry.forClient) return;
  auto fields = decodeError(body);
  if (!fields) return;
  if (fields->sqlstate == "25006") {
    // "cannot execute ... in a read-only transaction": the classifier let a write through.
    retryWanted_ = true;
    retryWhy_ = "the replica refused it as a write (25006)";
  } else if (fields->sqlstate == "0A000") {
    // "cannot access temporary or unlogged relations during recovery": a relation the catalog
    // could not vouch for (lookups off, or the primary unreachable when it was looked up). (The
    // message may be translated, so any 0A000 of a read counts: a read that fails cannot have
    // written, and one the primary refuses too gets the primary's error.)
    retryWanted_ = true;
    retryWhy_ = "the replica refused it as not supported during recovery (0A000)";
  } else if (fields->severity == "FATAL" || fields->severity == "PANIC") {
    retryWanted_ = true;  // the replica is closing the connection (shutdown, termination)
    retryWhy_ = "the replica ended the connection";
  }
}

Task<void> ClientSession::retryElsewhere(const char* why) {
  armed_ = false;
  retryWanted_ = false;
  retrying_ = true;
  const bool safetyNet = std::string_view(why).find("25006") != std::string_view::npos ||
                         std::string_view(why).find("0A000") != std::string_view::npos;
  (safetyNet ? runtime_.safetyNetRetries : runtime_.readRetries).fetch_add(1);
  const auto& snap = worker_.nodes();
  // The primary of the replica's cluster (the unit was routed to that cluster).
  const auto retryNode = static_cast<std::size_t>(retry_.node);
  const int primary = routing::Router::primaryOf(
      snap, retryNode < snap.nodes.size() ? snap.nodes[retryNode].cluster : 0);
  const std::string& from = runtime_.config->nodes[retryNode].name;
  std::string text;
  if (!retry_.ops.empty() && retry_.ops.front().type == client::Query) {
    auto q = decodeQuery(std::string_view(retry_.batch).substr(5, retry_.ops.front().size - 5));
    if (q) text = std::string(q->substr(0, 120));
  }
  if (safetyNet)
    spdlog::warn(
        "[c{}] safety net: node {} {}; sent again to the primary (classified \"{}\"; "
        "fingerprint {:016x}): {}",
        id_, from, why, retry_.cls.reason, std::hash<std::string>{}(retry_.batch), text);
  else
    spdlog::warn("[c{}] read sent to node {}: {}; sent again to the primary", id_, from, why);

  BackendConnection::Ptr target;
  ErrorSpec err;
  std::string errText;
  if (primary >= 0) {
    target = co_await acquire(primary, err, errText);
    units_.forgetCheckout();  // the unit keeps the time it was first sent
  } else {
    errText = "pgsplit: no primary node is available";
    err = {"ERROR", "08006", errText};
  }
  if (state_ == State::Closed) {
    retrying_ = false;
    co_return;
  }
  if (!target) {
    // The client's unit fails with the reason, and its Sync gets its ReadyForQuery here.
    scratch_.clear();
    writeError(scratch_, err);
    writeReadyForQuery(scratch_, 'I');
    std::string bytes = std::move(scratch_);
    pendingSyncs_ = 0;
    units_.clear();
    retrying_ = false;
    clientSignal_.notify();
    co_await writeClient(bytes);
    co_return;
  }
  // The client's Sync is still counted in pendingSyncs_: the primary's ReadyForQuery answers it.
  wire_.clear();
  if (target->txnStatus() == 'I') syncSettings(*target);
  const bool rewritten = renderBatch(*target, true, retry_.batch, retry_.ops, retry_.unit);
  std::string_view out = rewritten ? std::string_view(wire_) : std::string_view(retry_.batch);
  bool sent = transmitNow(*target, out);
  if (sent && !out.empty()) sent = co_await transmit(target, out);
  retrying_ = false;
  clientSignal_.notify();
  if (sent && active_ == target && replies_.syntheticReady()) co_await writeSynthetic(target);
}

bool ClientSession::writeClientNow(std::string_view& bytes) {
  // Only with no write under way or waiting: nothing may overtake them.
  if (writingClient()) return true;
  return net::sendNow(socket_, bytes);
}

Task<bool> ClientSession::writeClient(std::string_view bytes) {
  if (!writeClientNow(bytes)) co_return false;
  if (bytes.empty()) co_return true;
  // Writes go out in the order they were asked for (tickets): the relay's replies and pgsplit's
  // own answers must never overtake each other.
  const std::uint64_t ticket = nextWriteTicket_++;
  while (servingWriteTicket_ != ticket) {
    co_await writeSignal_.wait();
  }
  error_code ec;
  if (socket_.is_open())
    co_await asio::async_write(socket_, asio::buffer(bytes.data(), bytes.size()),
                               asio::redirect_error(asio::use_awaitable, ec));
  else
    ec = asio::error::not_connected;
  ++servingWriteTicket_;
  writeSignal_.notify();
  co_return !ec;
}

Task<bool> ClientSession::writeClientError(ErrorSpec e, bool fatal) {
  std::string out;
  if (fatal) e.severity = "FATAL";
  worker_.stats().countProxyError(e.sqlstate);  // operations: metrics
  writeError(out, e);  // before the first suspension: `e` may view temporaries
  co_return co_await writeClient(out);
}

}  // namespace pgsplit::session
