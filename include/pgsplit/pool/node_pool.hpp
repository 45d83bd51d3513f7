#pragma once
// Backend connections to one (node, database, user), owned by one worker: no locks. Idle
// connections are reused most-recently-used first; when the limit is reached, clients wait in
// arrival order until a connection is released or their checkout deadline passes.
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>

#include "pgsplit/asio.hpp"
#include "pgsplit/backend/backend_connection.hpp"

namespace pgsplit::pool {

using backend::BackendConnection;

struct CheckoutFailure {
  backend::LoginFailure login;  // the node's error or ours
  bool timedOut = false;        // waited checkout_timeout_ms for a connection
};

class NodePool {
 public:
  // Called after every login attempt: the connection (nullptr on failure) and the failure.
  using LoginObserver =
      std::function<void(std::size_t node, const BackendConnection*, const backend::LoginFailure*)>;

  NodePool(asio::any_io_executor ex, backend::LoginParams login, std::uint32_t maxConnections,
           std::chrono::milliseconds checkoutTimeout, LoginObserver observer);
  NodePool(const NodePool&) = delete;
  NodePool& operator=(const NodePool&) = delete;
  ~NodePool();

  // An idle connection, a new one, or one released while waiting; nullptr with `failure` set.
  Task<BackendConnection::Ptr> checkout(CheckoutFailure& failure);
  // Returns a connection: reused if idle and healthy, otherwise closed.
  void release(BackendConnection::Ptr conn);

  std::size_t node() const { return login_.nodeIndex; }
  std::uint32_t openConnections() const { return open_; }
  std::size_t idleConnections() const { return idle_.size(); }
  std::size_t waiting() const { return waiters_.size(); }
  // ParameterStatus values from the most recent login (empty before the first).
  const BackendConnection::Parameters& serverParameters() const { return serverParameters_; }
  // Closes idle connections (shutdown).
  void closeIdle();

  // A reload: new login parameters (password, timeouts) for connections opened from now on, a
  // new limit and checkout deadline. Over the limit, connections close as they are released.
  void reconfigure(backend::LoginParams login, std::uint32_t maxConnections,
                   std::chrono::milliseconds checkoutTimeout);
  std::uint32_t maxConnections() const { return maxConnections_; }
  const backend::LoginParams& login() const { return login_; }
  const std::deque<BackendConnection::Ptr>& idle() const { return idle_; }

  // Statistics (read on the owning worker's thread).
  struct Stats {
    std::uint64_t waits = 0;       // checkouts that waited in line
    std::uint64_t waitMicros = 0;  // time spent waiting, all of them
    std::uint64_t timeouts = 0;    // waits that ran out
    std::uint64_t connects = 0;    // logins that succeeded
    std::uint64_t connectFailures = 0;
  };
  const Stats& stats() const { return stats_; }

 private:
  struct Waiter {
    asio::steady_timer* timer;
    BackendConnection::Ptr handed;  // a released connection given straight to this waiter
    bool slotFreed = false;         // a slot opened up: the waiter may connect
  };
  Task<BackendConnection::Ptr> connectNew(CheckoutFailure& failure);
  void wakeFirstWaiter(BackendConnection::Ptr conn);

  asio::any_io_executor executor_;
  backend::LoginParams login_;
  std::uint32_t maxConnections_;
  std::chrono::milliseconds checkoutTimeout_;
  LoginObserver observer_;
  std::deque<BackendConnection::Ptr> idle_;
  std::deque<Waiter*> waiters_;
  std::uint32_t open_ = 0;  // idle + checked out + connecting
  BackendConnection::Parameters serverParameters_;
  Stats stats_;
};

}  // namespace pgsplit::pool
