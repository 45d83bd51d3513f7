// ClientSession: lifecycle and the query loop (forming units of work and routing them).
#include "pgsplit/session/client_session.hpp"
#include "pgsplit/sql/pgsplit_commands.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "pgsplit/protocol/messages.hpp"
#include "pgsplit/sql/lexer.hpp"

namespace pgsplit::session {

using namespace protocol;

namespace {
constexpr std::size_t kCopyFlushBytes = 64 * 1024;
// Client reads: while the client is idle its next message is usually one small query, read into a
// small buffer (an idle client then costs little memory); after a read that filled it, or with a
// message partly read, into a big one.
constexpr std::size_t kIdleRead = 512;
constexpr std::size_t kBusyRead = 16 * 1024;

std::size_t settingStatements(const std::vector<sql::SessionEffect>& effects) {
  return static_cast<std::size_t>(std::count_if(effects.begin(), effects.end(), [](const auto& e) {
    return e.kind == sql::EffectKind::Set || e.kind == sql::EffectKind::Reset ||
           e.kind == sql::EffectKind::ResetAll;
  }));
}

bool forgetsStatements(const std::vector<sql::SessionEffect>& effects) {
  return std::any_of(effects.begin(), effects.end(), [](const auto& e) {
    return e.kind == sql::EffectKind::Deallocate || e.kind == sql::EffectKind::DeallocateAll ||
           e.kind == sql::EffectKind::DiscardAll;
  });
}
}  // namespace

ClientSession::ClientSession(WorkerContext& worker, tcp::socket socket)
    : worker_(worker),
      runtime_(worker.runtime()),
      socket_(std::move(socket)),
      id_(worker.runtime().nextSessionId.fetch_add(1)),
      sessionMode_(worker.runtime().config->pool.mode == config::PoolMode::Session),
      idleTxnTimer_(socket_.get_executor()),
      clientSignal_(socket_.get_executor()),
      relaySignal_(socket_.get_executor()),
      writeSignal_(socket_.get_executor()) {
  error_code ec;
  auto ep = socket_.remote_endpoint(ec);
  peer_ = ec ? std::string("unknown") : ep.address().to_string() + ":" + std::to_string(ep.port());
  socket_.set_option(tcp::no_delay(true), ec);
}

ClientSession::~ClientSession() {
  if (registered_) runtime_.cancels.remove(cancelPid_);
  if (counted_) runtime_.clients.fetch_sub(1);
}

void ClientSession::abort() {
  error_code ec;
  socket_.close(ec);
}

Task<void> ClientSession::run(std::shared_ptr<ClientSession> self) {
  if (co_await self->startup()) {
    self->relayRunning_ = true;
    asio::co_spawn(self->socket_.get_executor(), relay(self),
                   [id = self->id_](std::exception_ptr e) {
                     if (e) logSessionBug(id, "relay", e);
                   });
    co_await self->queryLoop();
    spdlog::info("[c{}] client {} disconnected", self->id_, self->peer_);
  }
  self->state_ = State::Closed;
  self->abort();
  self->idleTxnTimer_.cancel();
  // The relay stops reading the active backend (without closing it: it may go back to the pool)
  // and finishes before the backends are handed back.
  if (self->active_) {
    error_code ignored;
    self->active_->socket().cancel(ignored);
  }
  self->wake();
  while (self->relayRunning_) {
    co_await self->clientSignal_.wait();
  }
  self->returnBackends();
}

Task<void> ClientSession::queryLoop() {
  const std::size_t maxMessage = runtime_.config->server.maxMessageSize;
  for (;;) {
    // Handle every whole message already buffered.
    for (;;) {
      std::string_view pending = in_.view(inStart_);
      FrameResult r = readFrame(pending, maxMessage);
      if (r.status == FrameStatus::NeedMore) {
        if (r.needed > 0 && in_.capacity() < r.needed) in_.reserve(inStart_ + r.needed);
        break;
      }
      if (r.status == FrameStatus::Malformed) {
        spdlog::info("[c{}] protocol violation from client: {}", id_, r.error);
        co_await waitUntilSettled();
        co_await writeClientError({"FATAL", "08P01", std::string("invalid message: ") + r.error},
                                  true);
        co_return;
      }
      // Views into in_ stay valid while the message is handled: only this loop appends to in_.
      inStart_ += r.frame.size;
      if (!co_await handleMessage(r.frame, pending.substr(0, r.frame.size))) co_return;
    }
    if (!co_await flushCopy()) co_return;
    // Compact, then read more.
    if (inStart_ == in_.size()) {
      in_.clear();
      inStart_ = 0;
    } else if (inStart_ > 0) {
      in_.consume(inStart_);
      inStart_ = 0;
    }
    const std::size_t old = in_.size();
    std::size_t want;
    if (old == 0 && !lastReadFilled_) {
      in_.shrink(kIdleRead);  // probably idle from here: a big buffer goes back to the allocator
      want = kIdleRead;
    } else {
      want = std::max(kBusyRead, in_.capacity() - old);
    }
    // Room without zeroing it (the read fills what it uses).
    char* room = in_.prepare(want);
    armIdleInTransaction();
    error_code ec;
    std::size_t n = co_await socket_.async_read_some(asio::buffer(room, want),
                                                     asio::redirect_error(asio::use_awaitable, ec));
    ++clientReads_;
    lastReadFilled_ = n == want;
    in_.commit(n);
    if (ec) co_return;
  }
}

bool ClientSession::idleInTransaction() const {
  if (state_ != State::Ready || !active_ || active_->txnStatus() == 'I') return false;
  return pendingSyncs_ == 0 && !batchOpen_ && batchOps_.empty() && !relayFlushing_ && !retrying_ &&
         !copyIn_ && !copyWriting_;
}

void ClientSession::armIdleInTransaction() {
  if (idleInTxnTimeout_.count() == 0 || !idleInTransaction()) return;
  const std::uint64_t generation = ++idleTxnArm_;
  const std::uint64_t reads = clientReads_;
  idleTxnTimer_.expires_after(idleInTxnTimeout_);
  idleTxnTimer_.async_wait([weak = weak_from_this(), generation, reads](const error_code& ec) {
    auto self = weak.lock();
    if (ec || !self || generation != self->idleTxnArm_) return;
    // Input since then, or work in flight: not idle (it is armed again when idle again).
    if (self->clientReads_ != reads || !self->idleInTransaction()) return;
    spdlog::info("[c{}] closing client {}: idle in transaction for {} ms", self->id_, self->peer_,
                 self->idleInTxnTimeout_.count());
    self->closeWithFatal("25P03", "terminating connection due to idle-in-transaction timeout");
  });
}

Task<bool> ClientSession::flushCopy() {
  if (copyOut_.empty()) co_return true;
  if (auto conn = active_) {
    // The COPY may end (an error) while this write is still going: the relay must then not pool
    // the connection with our bytes still arriving on it (copyWriting_).
    copyWriting_ = true;
    error_code ec;
    co_await asio::async_write(conn->socket(), asio::buffer(copyOut_),
                               asio::redirect_error(asio::use_awaitable, ec));
    copyWriting_ = false;
    if (ec) conn->markBroken();
  }
  copyOut_.clear();
  co_return true;
}

Task<bool> ClientSession::handleMessage(Frame frame, std::string_view raw) {
  const bool copyMessage = frame.type == client::CopyData || frame.type == client::CopyDone ||
                           frame.type == client::CopyFail;
  if (!copyOut_.empty() && !copyMessage && !co_await flushCopy()) co_return false;
  // (An if-chain, not a switch: g++ 12 miscompiles co_await inside switch cases.)
  const char type = frame.type;
  const bool skipping = skipUntilSync_;
  if ((type == client::Query || type == client::FunctionCall) && skipping) {
    co_return true;  // PostgreSQL discards everything up to Sync after an error in a batch
  }
  if (type == client::Query) {
    auto text = decodeQuery(frame.body);
    if (!text) {
      co_await waitUntilSettled();
      co_await writeClientError({"FATAL", "08P01", "invalid Query message"}, true);
      co_return false;
    }
    if (batchOps_.empty() && sql::containsIgnoreAsciiCase(*text, "deallocate") &&
        co_await answerDeallocate(*text))
      co_return true;
    if (batchOps_.empty() && sql::mentionsPgsplitParameter(*text) &&
        co_await answerPgsplitCommand(*text))
      co_return true;
    // A Query ends any extended batch left open without Sync, and drops the unnamed statement
    // and portal.
    unnamedValid_ = false;
    if (!portalEffects_.empty()) portalEffects_.erase(std::string());
    sql::Classification c = worker_.classifier().classify(*text, database_, user_);
    noteRules(*text, c);
    std::vector<sql::SessionEffect> effects;
    if (c.setsSessionState || (!c.readOnly && sql::mentionsSessionControl(*text)))
      effects = sql::sessionEffects(*text);
    if (forgetsStatements(effects) && namesInDoubt()) co_await settleNames();
    noteStatement(c);
    notePins(effects);
    const auto [begin, end] = noteEffectList(effects, true);
    noteExecution(c, settingStatements(effects));
    addOp(client::Query, raw);
    BatchOp& op = batchOps_.back();
    op.effectsBegin = begin;
    op.effectsEnd = end;
    // A lone RESET of startup parameters goes out so that their startup values follow it.
    op.restoresStartup = c.statements == 1 && !startupResets(begin, end).empty();
    co_return co_await submitUnit(true);
  }
  if (type == client::Parse || type == client::Bind || type == client::Describe ||
      type == client::Close) {
    // A statement a unit in flight creates, closes or deallocates: its answer decides.
    if (!skipping && namesInDoubt() && nameInDoubt(statementNameOf(frame))) co_await settleNames();
    const bool ok = type == client::Parse  ? noteParse(frame, raw)
                    : type == client::Bind ? noteBind(frame, raw)
                                           : noteDescribeOrClose(frame, raw);
    if (!ok) {
      co_await waitUntilSettled();
      co_await writeClientError({"FATAL", "08P01",
                                 std::string("invalid ") +
                                     (type == client::Parse  ? "Parse"
                                      : type == client::Bind ? "Bind"
                                                             : "Describe or Close") +
                                     " message"},
                                true);
      co_return false;
    }
    co_return true;
  }
  if (type == client::Execute) {
    if (!skipping && !portalEffects_.empty() && namesInDoubt()) {
      // It runs a DEALLOCATE or DISCARD ALL: which names it drops depends on units in flight.
      auto exec = decodeExecute(frame.body);
      auto it = exec ? portalEffects_.find(exec->portal) : portalEffects_.end();
      if (it != portalEffects_.end() && forgetsStatements(it->second.effects))
        co_await settleNames();
    }
    if (!noteExecute(frame, raw)) {
      co_await waitUntilSettled();
      co_await writeClientError({"FATAL", "08P01", "invalid Execute message"}, true);
      co_return false;
    }
    co_return true;
  }
  if (type == client::Flush) {
    if (skipUntilSync_ || batchOps_.empty()) co_return true;
    addOp(client::Flush, raw);
    co_return co_await submitUnit(false);
  }
  if (type == client::Sync) co_return co_await handleSync(raw);
  if (type == client::FunctionCall) {
    sql::Classification c;  // unknown: a write
    c.reason = "write: function call message";
    c.statements = 1;
    noteStatement(c);
    noteExecution(c, 0);
    addOp(client::FunctionCall, raw);
    co_return co_await submitUnit(true);
  }
  if (copyMessage) {
    // Only meaningful while the active backend is in COPY IN; PostgreSQL ignores them otherwise.
    // Gathered and written in bulk when the input buffer runs dry (see queryLoop).
    if (!active_ || !busy()) co_return true;
    copyOut_.append(raw);
    if (type != client::CopyData) copyIn_ = false;  // CopyDone, CopyFail end the copy
    if (copyOut_.size() >= kCopyFlushBytes) co_return co_await flushCopy();
    co_return true;
  }
  if (type == client::Terminate) co_return false;
  spdlog::info("[c{}] protocol violation: unexpected message '{}'", id_, frame.type);
  co_await waitUntilSettled();
  co_await writeClientError({"FATAL", "08P01",
                             std::string("invalid frontend message type ") +
                                 std::to_string(static_cast<unsigned char>(frame.type))},
                            true);
  co_return false;
}

Task<bool> ClientSession::handleSync(std::string_view raw) {
  if (skipUntilSync_) {
    skipUntilSync_ = false;
    clearBatch();
    closeUnit();
    co_await waitUntilSettled();
    scratch_.clear();
    writeReadyForQuery(scratch_, active_ ? active_->txnStatus() : 'I');
    co_return co_await writeClient(scratch_);
  }
  if ((copyIn_ || absorbSync_) && active_ && batchOps_.empty()) {
    // The server ignores a Sync during COPY FROM STDIN; after an extended-protocol copy, its
    // ReadyForQuery answers the Sync the client sent with the Execute (already expected).
    if (!copyIn_) absorbSync_ = false;
    error_code ec;
    co_await asio::async_write(active_->socket(), asio::buffer(raw.data(), raw.size()),
                               asio::redirect_error(asio::use_awaitable, ec));
    if (ec && active_) active_->markBroken();
    co_return true;
  }
  addOp(client::Sync, raw);
  co_return co_await submitUnit(true);
}

void ClientSession::noteWriteTarget(const sql::Classification& cls,
                                    const backend::BackendConnection& target) {
  if (cls.readOnly) return;
  const auto& node = worker_.nodes().nodes[target.nodeIndex()];
  if (node.role == routing::Role::Primary) {
    writeInFlight_ = true;  // its ReadyForQuery marks the write as acknowledged (relayOnce)
    writeCluster_ = node.cluster;
  }
}

void ClientSession::noteWriteAcknowledged(std::uint64_t lsn) {
  if (writes_.size() <= writeCluster_) writes_.resize(writeCluster_ + 1);
  routing::WriteRecord& w = writes_[writeCluster_];
  w.wrote = true;
  w.lastAckAt = routing::Clock::now();
  w.requiredLsn = lsn;
}

void ClientSession::applyReadYourWrites(routing::SessionView& view,
                                        const routing::NodeSnapshot& snap, std::size_t cluster) {
  // pgsplit.min_lsn is a position of the session's own cluster (the one its database maps to).
  const std::uint64_t floor = cluster == rulesView_.cluster ? minLsnFloor_ : 0;
  view.minReplayLsn = floor;
  if (cluster >= writes_.size() || !writes_[cluster].wrote) return;
  // The policy ([consistency] read_your_writes) lives in routing/consistency.cpp.
  routing::applyReadYourWrites(worker_.router().options().consistency, writes_[cluster],
                               routing::Clock::now(), snap, view, cluster);
  if (view.minReplayLsn < floor) view.minReplayLsn = floor;
}

// Waits until no reply is outstanding, so pgsplit's own answers keep their place in the stream
// and the next routing decision sees the transaction state the backend reported.
Task<void> ClientSession::waitUntilSettled() {
  while ((pendingSyncs_ > 0 || relayFlushing_ || retrying_) && relayRunning_) {
    co_await clientSignal_.wait();
  }
}

Task<bool> ClientSession::answerLocally(ErrorSpec error) {
  worker_.stats().countProxyError(error.sqlstate);  // operations: metrics
  scratch_.clear();
  writeError(scratch_, error);  // encoded before the first suspension: `error` may view temporaries
  std::string bytes = std::move(scratch_);
  co_await waitUntilSettled();
  co_return co_await writeClient(bytes);
}

Task<bool> ClientSession::submitUnit(bool endsWithSync) {
  while (retrying_ && relayRunning_) {  // the relay is sending a unit again: it goes first
    co_await clientSignal_.wait();
  }
  if (runtime_.pause.active() && !co_await passPause()) co_return false;
  // From here until the unit is written, PAUSE counts it as in flight.
  struct RoutingFlag {
    bool& flag;
    explicit RoutingFlag(bool& f) : flag(f) { flag = true; }
    ~RoutingFlag() { flag = false; }
  } routing(routingUnit_);
  sql::Classification cls = batchClass_;
  const bool hasStatement = batchHasStatement_;
  if (!endsWithSync) {
    // The rest of a batch sent on Flush follows it onto the same backend, whatever it holds: the
    // first part must therefore go where any statement can run.
    cls.readOnly = false;
    if (cls.txnStart == sql::TxnStart::ReadOnly) cls.txnStart = sql::TxnStart::ReadWrite;
  }
  if (serializableDefault_) {
    // default_transaction_isolation = serializable: a standby refuses every transaction.
    cls.readOnly = false;
    if (cls.txnStart == sql::TxnStart::ReadOnly) cls.txnStart = sql::TxnStart::ReadWrite;
  }
  if (absorbSync_ && !copyIn_) {
    // After an extended-protocol COPY the client sent a new unit, not the bare Sync the server
    // waits for: the Sync sent with the Execute will never be answered.
    absorbSync_ = false;
    if (replies_.dropQueuedSync() && pendingSyncs_ > 0) {
      --pendingSyncs_;
      units_.forget();
    }
  }

  // Pipelining: a unit may follow earlier ones onto the busy active backend if it belongs there;
  // otherwise wait for their replies, which also settles the transaction state.
  // (A unit a routing rule may decide is routed once the transaction state is settled.)
  bool rideAlong = false;
  if (active_ && (busy() || relayFlushing_)) {
    if (batchOpen_) {
      rideAlong = true;  // the rest of a batch already partly sent
    } else if (unitMayBeRuled()) {
      rideAlong = false;
    } else if (pinned_) {
      rideAlong = true;  // everything goes to the pinned backend anyway
    } else {
      const auto& snap = worker_.nodes();
      const auto& node = snap.nodes[active_->nodeIndex()];
      const bool replicaOk = cls.readOnly || cls.txnStart == sql::TxnStart::ReadOnly;
      // (Only on the session's own cluster: after a rule sent a unit elsewhere, the next one
      // goes home unless the transaction status, once settled, keeps it there.)
      rideAlong = node.cluster == rulesNow().cluster &&
                  (node.role == routing::Role::Primary || (replicaOk && hasStatement));
    }
    if (!rideAlong) co_await waitUntilSettled();
  }

  backend::BackendConnection::Ptr target = rideAlong ? active_ : nullptr;
  if (!target) {
    if (endsWithSync && answerableLocally()) {
      // A lone Sync, or Closes of statements the client forgets: nothing for a server to do.
      scratch_.clear();
      for (std::size_t i = 0; i + 1 < batchOps_.size(); ++i)
        scratch_.append("3\0\0\0\4", 5);
      writeReadyForQuery(scratch_, 'I');
      clearBatch();
      closeUnit();
      std::string bytes = std::move(scratch_);
      co_return co_await writeClient(bytes);
    }
    routing::SessionView view;
    if (active_) {
      view.inTransaction = active_->txnStatus() != 'I';
      view.transactionNode = static_cast<int>(active_->nodeIndex());
    }
    // Routing rules ([[rules]]): the first that matches decides where the unit may go, or
    // refuses it.
    const UnitRule ruled = ruleForUnit(view.inTransaction);
    if (ruled.rule != nullptr && ruled.rule->blocks) {
      noteRuleDecision(*ruled.rule, false);
      spdlog::debug("[c{}] rule \"{}\" blocks the statement", id_, ruled.rule->name);
      co_return co_await refuseUnit("42501", ruled.rule->blockMessage, endsWithSync);
    }
    applyReadYourWrites(view, worker_.nodes(), ruled.request.cluster);
    view.pinned = pinned_;
    view.pinnedNode = pinned_ && active_ ? static_cast<int>(active_->nodeIndex()) : -1;
    if (pinned_ && !active_) view.pinned = false;  // the pinned backend died; start over

    const auto& snap = worker_.nodes();
    routing::Decision d =
        worker_.router().route(cls, view, snap, worker_.balancer(), ruled.request);
    if (ruled.rule != nullptr) noteRuleDecision(*ruled.rule, d.writeGuarded, &cls);
    if (d.crossCluster) {
      const std::size_t held = active_ ? snap.nodes[active_->nodeIndex()].cluster : 0;
      co_return co_await refuseUnit(
          routing::kCrossClusterSqlstate,
          std::string("pgsplit: ") +
              (view.inTransaction ? "this transaction runs" : "this session is pinned") +
              " on cluster \"" + clusterName(held) + "\"; rule \"" + ruled.rule->name +
              "\" sends this statement to cluster \"" + clusterName(ruled.request.cluster) +
              "\" (a transaction or pinned session cannot span clusters)",
          endsWithSync);
    }
    ErrorSpec err;
    std::string errText;
    const bool hintIgnored =
        cls.hint == sql::Hint::Replica && !cls.readOnly && cls.txnStart != sql::TxnStart::ReadOnly;
    if (hintIgnored)
      spdlog::debug("[c{}] ignoring /* pgsplit:replica */ on what needs the primary: {}", id_,
                    cls.reason);
    if (d.node >= 0) {
      const bool byRule = ruled.rule != nullptr;
      spdlog::debug("[c{}] route -> {} ({}): {}{}{}{}", id_,
                    snap.nodes[static_cast<std::size_t>(d.node)].name,
                    d.target == routing::Target::Replica ? "replica" : "primary", d.reason,
                    byRule ? " [rule " : "",
                    byRule ? std::string_view(ruled.rule->name) : std::string_view(),
                    byRule ? "]" : "");
      target = acquireNow(d.node);  // (without suspending when a connection is at hand)
      if (!target) target = co_await acquire(d.node, err, errText);
    } else {
      errText = std::move(d.refusal);  // names the node(s) at fault (routing/router.cpp)
      err = {"ERROR", routing::kRefusalSqlstate, errText};
      spdlog::debug("[c{}] route -> none: {}", id_, d.reason);
    }
    if (!target) {
      abandonBatch();
      if (endsWithSync)
        closeUnit();
      else
        skipUntilSync_ = true;
      if (!co_await answerLocally(err)) co_return false;
      if (endsWithSync) {
        scratch_.clear();
        writeReadyForQuery(scratch_, active_ ? active_->txnStatus() : 'I');
        co_return co_await writeClient(scratch_);
      }
      co_return true;
    }
  }
  if (cls.pins && !pinned_) {
    const auto& snap = worker_.nodes();
    if (snap.nodes[target->nodeIndex()].role == routing::Role::Primary) {
      spdlog::info("[c{}] session pinned to node {}: {}", id_, snap.nodes[target->nodeIndex()].name,
                   cls.reason);
      pinned_ = true;
      pinReason_ = cls.reason;
      worker_.stats().sessionsPinned.add();  // operations: metrics
    } else {
      // State pgsplit cannot move left on a replica backend (inside BEGIN READ ONLY): never
      // pool that connection.
      target->markBroken();
    }
  }

  if (batchPoisons_) target->markBroken();
  batchPoisons_ = false;
  captureLsn_ = wantsWriteLsn(*target, endsWithSync);
  if (batchWrites_) noteWriteTarget(cls, *target);
  batchWrites_ = false;
  // Operations: queries by node and route (metrics, SHOW STATS).
  worker_.stats().countUnit(target->nodeIndex(), worker_.nodes().nodes[target->nodeIndex()].role ==
                                                     routing::Role::Replica);
  // (writeUnit's steps, without its coroutine frame when the unit goes out at once.)
  std::string_view out = renderUnit(*target, endsWithSync, cls);
  if (sendUnitNow(*target, out)) co_return true;
  co_return co_await finishUnit(std::move(target), out);
}

}  // namespace pgsplit::session
