#include "pgsplit/pool/node_pool.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

namespace pgsplit::pool {

namespace {
using Clock = std::chrono::steady_clock;
// Idle connections released at least this long ago are checked before they are handed out.
constexpr std::chrono::milliseconds kPeekIdleAfter{100};
// A warm-up login that failed is not tried again for this long (a database that does not exist
// must not be asked for every tick).
constexpr std::chrono::seconds kWarmRetry{5};
// How long a closing connection's slot waits for the server to let go of it.
constexpr std::chrono::milliseconds kCloseWait{1000};

void logBug(const char* where, std::exception_ptr e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    spdlog::error("bug: exception escaped the pool's {}: {}", where, ex.what());
  } catch (...) {
    spdlog::error("bug: unknown exception escaped the pool's {}", where);
  }
}
}  // namespace

NodePool::NodePool(asio::any_io_executor ex, unsigned worker, std::shared_ptr<ServerBudget> budget,
                   backend::LoginParams login, PoolTimings timings, LoginObserver observer)
    : executor_(std::move(ex)),
      worker_(worker),
      budget_(std::move(budget)),
      login_(std::move(login)),
      timings_(timings),
      observer_(std::move(observer)) {
  budget_->attach(worker_, {executor_, this});
}

NodePool::~NodePool() {
  closeIdle();
  budget_->detach(worker_);
}

void NodePool::close(BackendConnection::Ptr conn, bool now) {
  --open_;
  if (now || conn->broken() || !conn->socket().is_open()) {
    conn->terminate();
    budget_->release();
    return;
  }
  asio::co_spawn(executor_, closeThenRelease(budget_, std::move(conn)), [](std::exception_ptr e) {
    if (e) logBug("close", e);
  });
}

Task<void> NodePool::closeThenRelease(std::shared_ptr<ServerBudget> budget,
                                      BackendConnection::Ptr conn) {
  co_await conn->terminateAndWait(kCloseWait);
  budget->release();
}

void NodePool::closeIdle() {
  // (Shutdown: no waiting for the servers.)
  while (!idle_.empty()) {
    auto conn = std::move(idle_.front());
    idle_.pop_front();
    close(std::move(conn), true);
  }
  publishIdle();
}

bool NodePool::expired(const BackendConnection& conn, Clock::time_point now) const {
  return timings_.lifetime.count() > 0 && now - conn.createdAt() >= timings_.lifetime;
}

std::uint32_t NodePool::localMinIdle() const {
  // This worker's part of min_idle (the whole process keeps min_idle; see maintain()).
  const std::uint32_t total = std::min(timings_.minIdle, budget_->limit());
  const unsigned workers = budget_->workers();
  return (total + workers - 1) / workers;
}

BackendConnection::Ptr NodePool::tryCheckout() {
  if (idle_.empty()) return nullptr;
  const auto now = Clock::now();
  while (!idle_.empty()) {
    auto conn = std::move(idle_.back());
    idle_.pop_back();
    publishIdle();
    const bool old = expired(*conn, now);
    // A connection idle for a while is peeked at (one system call): the server may have closed
    // it meanwhile (idle_session_timeout, pg_terminate_backend, a restart). One released moments
    // ago is handed out as is — under load that is nearly every checkout, and the peek was a
    // third of pgsplit's failed system calls per transaction. If such a connection did die in
    // that moment, a read on it is retried elsewhere and a write fails with 08006, unapplied.
    const bool peek = now - conn->lastUsed() >= kPeekIdleAfter;
    if (!old && !(peek && conn->idleSocketLooksDead())) return conn;
    if (old) ++stats_.lifetimeCloses;
    close(std::move(conn));
  }
  return nullptr;
}

Task<BackendConnection::Ptr> NodePool::checkout(CheckoutFailure& failure) {
  if (auto conn = tryCheckout()) co_return conn;
  const auto now = Clock::now();
  if (waiters_.empty() && budget_->tryAcquire()) co_return co_await connectNew(failure);

  // Wait in line. The timer doubles as the wake-up signal: release() and slotGranted() cancel it.
  ++stats_.waits;
  asio::steady_timer timer(executor_);
  timer.expires_after(timings_.checkoutTimeout);
  Waiter me{&timer, now, 0, nullptr, false};
  me.ticket = budget_->enqueue(worker_, now);
  if (me.ticket == 0) co_return co_await connectNew(failure);  // a slot freed meanwhile
  waiters_.push_back(&me);
  error_code ec;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  auto it = std::find(waiters_.begin(), waiters_.end(), &me);
  if (it != waiters_.end()) waiters_.erase(it);
  stats_.waitMicros += static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - now).count());
  if (me.handed) co_return std::move(me.handed);
  if (me.slotGranted) co_return co_await connectNew(failure);
  // Out of time. If a slot was granted meanwhile, it is on its way: slotGranted passes it on.
  budget_->withdraw(me.ticket);
  ++stats_.timeouts;
  failure.timedOut = true;
  failure.login.sqlstate = "53300";
  failure.login.text = "no server connection became free within checkout_timeout_ms (" +
                       std::to_string(timings_.checkoutTimeout.count()) + " ms): all " +
                       std::to_string(budget_->limit()) + " allowed for user \"" + login_.user +
                       "\" and database \"" + login_.database +
                       "\" (max_server_connections) are in use; the statement was not sent";
  co_return nullptr;
}

Task<BackendConnection::Ptr> NodePool::connectNew(CheckoutFailure& failure) {
  ++open_;
  auto conn = co_await BackendConnection::connect(login_, failure.login);
  if (observer_) observer_(login_.nodeIndex, conn.get(), conn ? nullptr : &failure.login);
  if (!conn) {
    ++stats_.connectFailures;
    --open_;
    budget_->release();  // the slot goes to the next waiter, who tries for itself
    co_return nullptr;
  }
  ++stats_.connects;
  budget_->markLoggedIn();
  budget_->setServerParameters(
      std::make_shared<const BackendConnection::Parameters>(conn->parameters()));
  co_return conn;
}

void NodePool::release(BackendConnection::Ptr conn) {
  if (!conn) return;
  const auto now = Clock::now();
  // Over the limit (lowered by a reload): the connection closes instead of waiting idle.
  bool reusable = !conn->broken() && conn->txnStatus() == 'I' && conn->socket().is_open() &&
                  !budget_->overLimit();
  if (reusable && expired(*conn, now)) {
    reusable = false;
    ++stats_.lifetimeCloses;
  }
  if (!reusable) {
    close(std::move(conn));
    return;
  }
  conn->touch();
  if (!waiters_.empty()) {
    Waiter* first = waiters_.front();
    // Another worker's client waiting longest (by the margin) gets the connection instead.
    if (handOver(conn, first->since - kCrossWorkerMargin)) return;
    waiters_.pop_front();
    budget_->withdraw(first->ticket);  // (false: its granted slot is passed on on arrival)
    first->handed = std::move(conn);
    first->timer->cancel();
    return;
  }
  // A client of another worker waits (none of ours does): it gets this connection.
  if (handOver(conn)) return;
  idle_.push_back(std::move(conn));
  publishIdle();
}

bool NodePool::handOver(BackendConnection::Ptr& conn, Clock::time_point waitingSince) {
  // The socket moves to the other worker's event loop (no new login, no server round trip); the
  // slot goes with it.
  if (!budget_->handOver(worker_, conn, waitingSince)) return false;
  --open_;
  ++stats_.handedOver;
  return true;
}

void NodePool::adopt(std::uint64_t ticket, BackendConnection::Ptr conn) {
  ++open_;
  if (conn->broken()) {
    close(std::move(conn));
    return;
  }
  if (Waiter* w = takeWaiter(ticket)) {
    w->handed = std::move(conn);
    w->timer->cancel();
    return;
  }
  release(std::move(conn));  // that client is gone or was served: as if released here
}

void NodePool::recycle(BackendConnection::Ptr conn, bool discardAll) {
  if (!conn) return;
  if (conn->broken() || !conn->socket().is_open()) {
    release(std::move(conn));
    return;
  }
  asio::co_spawn(executor_, resetThenRelease(this, std::move(conn), discardAll),
                 [](std::exception_ptr e) {
                   if (e) logBug("reset", e);
                 });
}

Task<void> NodePool::resetThenRelease(NodePool* self, BackendConnection::Ptr conn,
                                      bool discardAll) {
  const bool ok = co_await conn->reset(discardAll, self->timings_.resetTimeout);
  if (ok) {
    ++self->stats_.resets;
  } else {
    ++self->stats_.resetFailures;
    spdlog::warn("server connection pid {} to {}:{} could not be reset; closed", conn->pid(),
                 self->login_.host, self->login_.port);
    conn->markBroken();
  }
  self->release(std::move(conn));
}

NodePool::Waiter* NodePool::takeWaiter(std::uint64_t ticket) {
  auto it = std::find_if(waiters_.begin(), waiters_.end(),
                         [ticket](const Waiter* w) { return w->ticket == ticket; });
  if (it == waiters_.end()) return nullptr;
  Waiter* w = *it;
  waiters_.erase(it);
  return w;
}

void NodePool::slotGranted(std::uint64_t ticket) {
  if (Waiter* w = takeWaiter(ticket)) {
    w->slotGranted = true;
    w->timer->cancel();
    return;
  }
  budget_->release();  // that client is gone or was served here: the slot goes on
}

void NodePool::surrenderIdle() {
  if (idle_.empty()) return;
  auto conn = std::move(idle_.front());
  idle_.pop_front();
  publishIdle();
  if (!handOver(conn)) {
    idle_.push_front(std::move(conn));  // nobody waits any more
    publishIdle();
  }
}

void NodePool::maintain(bool nodeUp) {
  const auto now = Clock::now();
  if (timings_.lifetime.count() > 0) {
    for (auto it = idle_.begin(); it != idle_.end();) {
      if (!expired(**it, now)) {
        ++it;
        continue;
      }
      auto conn = std::move(*it);
      it = idle_.erase(it);
      ++stats_.lifetimeCloses;
      close(std::move(conn));
    }
    publishIdle();
  }
  if (timings_.idleTimeout.count() > 0) {
    // Least recently used first, as long as the process keeps min_idle idle connections.
    const std::uint32_t keep = std::min(timings_.minIdle, budget_->limit());
    while (!idle_.empty() && now - idle_.front()->lastUsed() >= timings_.idleTimeout &&
           budget_->idleTotal() > keep) {
      auto conn = std::move(idle_.front());
      idle_.pop_front();
      publishIdle();
      ++stats_.idleTimeouts;
      close(std::move(conn));
    }
  }
  // min_idle: opened in the background, within the limit, never ahead of a waiting client, and
  // only for a key some login has proven (not for a database that does not exist).
  if (timings_.minIdle == 0 || !nodeUp || !budget_->loggedIn() || now < warmAgainAt_) return;
  while (waiters_.empty() && idle_.size() + warming_ < localMinIdle() &&
         budget_->tryAcquireWarm(timings_.minIdle)) {
    ++warming_;
    asio::co_spawn(executor_, warm(this), [](std::exception_ptr e) {
      if (e) logBug("warm-up", e);
    });
  }
}

Task<void> NodePool::warm(NodePool* self) {
  CheckoutFailure failure;
  auto conn = co_await self->connectNew(failure);
  --self->warming_;
  if (conn) {
    self->release(std::move(conn));  // to a waiter, or idle (counted before warmDone below)
  } else {
    self->warmAgainAt_ = Clock::now() + kWarmRetry;
    spdlog::debug("min_idle connection to {}:{} failed: {}", self->login_.host, self->login_.port,
                  failure.login.text);
  }
  self->budget_->warmDone();
}

void NodePool::reconfigure(backend::LoginParams login, PoolTimings timings,
                           std::uint32_t maxConnections) {
  login_ = std::move(login);
  timings_ = timings;
  budget_->setLimit(maxConnections);
  while (budget_->overLimit() && !idle_.empty()) {
    auto conn = std::move(idle_.front());
    idle_.pop_front();
    close(std::move(conn));
  }
  publishIdle();
}

}  // namespace pgsplit::pool
