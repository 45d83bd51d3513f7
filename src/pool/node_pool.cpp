#include "pgsplit/pool/node_pool.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

namespace pgsplit::pool {

NodePool::NodePool(asio::any_io_executor ex, backend::LoginParams login,
                   std::uint32_t maxConnections, std::chrono::milliseconds checkoutTimeout,
                   LoginObserver observer)
    : executor_(std::move(ex)),
      login_(std::move(login)),
      maxConnections_(maxConnections),
      checkoutTimeout_(checkoutTimeout),
      observer_(std::move(observer)) {}

NodePool::~NodePool() {
  closeIdle();
}

void NodePool::closeIdle() {
  for (auto& c : idle_)
    c->terminate();
  open_ -= static_cast<std::uint32_t>(idle_.size());
  idle_.clear();
}

Task<BackendConnection::Ptr> NodePool::checkout(CheckoutFailure& failure) {
  while (!idle_.empty()) {
    auto conn = std::move(idle_.back());
    idle_.pop_back();
    if (!conn->idleSocketLooksDead()) co_return conn;
    conn->terminate();
    --open_;
  }
  if (open_ < maxConnections_ && waiters_.empty()) co_return co_await connectNew(failure);

  // Wait in line. The timer doubles as the wake-up signal: release() cancels it.
  const auto waitStart = std::chrono::steady_clock::now();
  ++stats_.waits;
  asio::steady_timer timer(executor_);
  timer.expires_after(checkoutTimeout_);
  Waiter me{&timer, nullptr, false};
  waiters_.push_back(&me);
  error_code ec;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  auto it = std::find(waiters_.begin(), waiters_.end(), &me);
  if (it != waiters_.end()) waiters_.erase(it);
  stats_.waitMicros +=
      static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                     std::chrono::steady_clock::now() - waitStart)
                                     .count());
  if (me.handed) co_return std::move(me.handed);
  if (me.slotFreed) co_return co_await connectNew(failure);
  ++stats_.timeouts;
  failure.timedOut = true;
  failure.login.sqlstate = "53300";
  failure.login.text = "timed out after " + std::to_string(checkoutTimeout_.count()) +
                       " ms waiting for a server connection to " + login_.host + ":" +
                       std::to_string(login_.port);
  co_return nullptr;
}

Task<BackendConnection::Ptr> NodePool::connectNew(CheckoutFailure& failure) {
  ++open_;
  auto conn = co_await BackendConnection::connect(login_, failure.login);
  if (observer_) observer_(login_.nodeIndex, conn.get(), conn ? nullptr : &failure.login);
  if (!conn) {
    ++stats_.connectFailures;
    --open_;
    // The slot we held is free again: let the next waiter try.
    if (!waiters_.empty() && open_ < maxConnections_) wakeFirstWaiter(nullptr);
    co_return nullptr;
  }
  ++stats_.connects;
  serverParameters_ = conn->parameters();
  co_return conn;
}

void NodePool::wakeFirstWaiter(BackendConnection::Ptr conn) {
  Waiter* w = waiters_.front();
  waiters_.pop_front();
  if (conn)
    w->handed = std::move(conn);
  else
    w->slotFreed = true;
  w->timer->cancel();
}

void NodePool::release(BackendConnection::Ptr conn) {
  if (!conn) return;
  // Over the limit (lowered by a reload): the connection closes instead of waiting idle.
  const bool reusable = !conn->broken() && conn->txnStatus() == 'I' && conn->socket().is_open() &&
                        open_ <= maxConnections_;
  if (!reusable) {
    conn->terminate();
    --open_;
    if (!waiters_.empty() && open_ < maxConnections_) wakeFirstWaiter(nullptr);
    return;
  }
  conn->touch();
  if (!waiters_.empty()) {
    wakeFirstWaiter(std::move(conn));
    return;
  }
  idle_.push_back(std::move(conn));
}

void NodePool::reconfigure(backend::LoginParams login, std::uint32_t maxConnections,
                           std::chrono::milliseconds checkoutTimeout) {
  login_ = std::move(login);
  maxConnections_ = maxConnections;
  checkoutTimeout_ = checkoutTimeout;
  while (open_ > maxConnections_ && !idle_.empty()) {
    idle_.front()->terminate();
    idle_.pop_front();
    --open_;
  }
  // A raised limit lets waiting clients connect now.
  std::uint32_t free = open_ < maxConnections_ ? maxConnections_ - open_ : 0;
  for (; free > 0 && !waiters_.empty(); --free)
    wakeFirstWaiter(nullptr);
}

}  // namespace pgsplit::pool
