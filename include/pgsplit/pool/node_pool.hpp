#pragma once
// Backend connections to one (node, database, user) on one worker. The worker's idle connections
// live here, touched only from its thread (no lock); how many connections the whole process may
// have open for the key is the shared ServerBudget's business. Idle connections are reused
// most-recently-used first; when the limit is reached, this worker's clients wait in arrival
// order, and the budget orders them with the other workers' (see server_budget.hpp).
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "pgsplit/asio.hpp"
#include "pgsplit/backend/backend_connection.hpp"
#include "pgsplit/pool/server_budget.hpp"

namespace pgsplit::pool {

using backend::BackendConnection;

struct CheckoutFailure {
  backend::LoginFailure login;  // the node's error or ours
  bool timedOut = false;        // waited checkout_timeout_ms for a connection
};

// The timing side of [pool] (and its per-node and per-user overrides) for one key.
struct PoolTimings {
  std::chrono::milliseconds checkoutTimeout{5000};
  std::chrono::milliseconds idleTimeout{0};  // 0: idle connections stay
  std::chrono::milliseconds lifetime{0};     // 0: no limit
  std::uint32_t minIdle = 0;                 // for the key, in the whole process
  std::chrono::milliseconds resetTimeout{5000};
};

// A connection released on a worker whose own clients wait goes to them, unless a client of
// another worker has been waiting this much longer than the first of them: then the connection is
// closed and its slot goes there (a reconnect costs a few milliseconds; waiting forever more).
inline constexpr std::chrono::milliseconds kCrossWorkerMargin{20};

class NodePool {
 public:
  // Called after every login attempt: the connection (nullptr on failure) and the failure.
  using LoginObserver =
      std::function<void(std::size_t node, const BackendConnection*, const backend::LoginFailure*)>;

  NodePool(asio::any_io_executor ex, unsigned worker, std::shared_ptr<ServerBudget> budget,
           backend::LoginParams login, PoolTimings timings, LoginObserver observer);
  NodePool(const NodePool&) = delete;
  NodePool& operator=(const NodePool&) = delete;
  ~NodePool();

  // An idle connection, a new one, or one released while waiting; nullptr with `failure` set.
  Task<BackendConnection::Ptr> checkout(CheckoutFailure& failure);
  // checkout() when an idle connection is at hand (no login, no wait, no suspension); null
  // otherwise.
  BackendConnection::Ptr tryCheckout();
  // Returns a connection: reused if idle and healthy, otherwise closed.
  void release(BackendConnection::Ptr conn);
  // Returns a connection that needs a reset first: ROLLBACK when it is in a transaction, then
  // DISCARD ALL when `discardAll` (session mode, pinned sessions). Done in the background; the
  // connection is closed if the reset does not succeed within resetTimeout.
  void recycle(BackendConnection::Ptr conn, bool discardAll);

  // --- asked by the budget (posted to this worker) ---
  // A slot for the waiter holding `ticket`; passed on if that waiter is gone.
  void slotGranted(std::uint64_t ticket);
  // A client of another worker waits: one idle connection of this worker goes to it.
  void surrenderIdle();
  // A connection another worker handed over for the waiter holding `ticket` (its socket already
  // joined this worker's event loop); kept here as if released if that waiter is gone.
  void adopt(std::uint64_t ticket, BackendConnection::Ptr conn);
  // This worker's executor (the budget hands connections over to it).
  const asio::any_io_executor& executor() const { return executor_; }

  // Periodic upkeep (the worker's maintenance timer): idle_timeout, server_lifetime and min_idle.
  // `nodeUp`: the health checks see the node up (no warming of a node that is down).
  void maintain(bool nodeUp);

  // A client of this database and user logged in: they exist, so min_idle may open connections
  // for them on this node too (never for a database or user a node refused).
  void markLoggedIn() { budget_->markLoggedIn(); }

  std::size_t node() const { return login_.nodeIndex; }
  std::uint32_t openConnections() const { return open_; }
  std::size_t idleConnections() const { return idle_.size(); }
  std::size_t waiting() const { return waiters_.size(); }
  // ParameterStatus values from the most recent login to this node for this database and user,
  // by any worker (nullptr before the first).
  std::shared_ptr<const BackendConnection::Parameters> serverParameters() const {
    return budget_->serverParameters();
  }
  // Closes idle connections (shutdown).
  void closeIdle();

  // A reload: new login parameters (password, timeouts) for connections opened from now on, new
  // timings, and the key's limit. Over the limit, connections close as they are released.
  void reconfigure(backend::LoginParams login, PoolTimings timings, std::uint32_t maxConnections);
  std::uint32_t maxConnections() const { return budget_->limit(); }
  const ServerBudget& budget() const { return *budget_; }
  const backend::LoginParams& login() const { return login_; }
  const PoolTimings& timings() const { return timings_; }
  const std::deque<BackendConnection::Ptr>& idle() const { return idle_; }

  // Statistics (read on the owning worker's thread).
  struct Stats {
    std::uint64_t waits = 0;       // checkouts that waited in line
    std::uint64_t waitMicros = 0;  // time spent waiting, all of them
    std::uint64_t timeouts = 0;    // waits that ran out
    std::uint64_t connects = 0;    // logins that succeeded
    std::uint64_t connectFailures = 0;
    std::uint64_t resets = 0;          // connections reset and reused (ROLLBACK, DISCARD ALL)
    std::uint64_t resetFailures = 0;   // ... and closed because the reset failed
    std::uint64_t idleTimeouts = 0;    // closed after idle_timeout_ms
    std::uint64_t lifetimeCloses = 0;  // closed after server_lifetime_ms
    std::uint64_t handedOver = 0;      // moved to another worker for its waiting client
  };
  const Stats& stats() const { return stats_; }

 private:
  // Gives `conn` (idle, of this worker) to the oldest waiting client of another worker, if that
  // one started waiting before `waitingSince`; false (conn untouched) otherwise.
  bool handOver(BackendConnection::Ptr& conn, std::chrono::steady_clock::time_point waitingSince =
                                                  std::chrono::steady_clock::time_point::max());
  struct Waiter {
    asio::steady_timer* timer;
    std::chrono::steady_clock::time_point since;
    std::uint64_t ticket = 0;       // in the budget's queue
    BackendConnection::Ptr handed;  // a released connection given straight to this waiter
    bool slotGranted = false;       // the budget gave it a slot: it connects
  };
  // The waiter holding `ticket`, taken out of the line; nullptr if it is gone.
  Waiter* takeWaiter(std::uint64_t ticket);
  // Opens a connection on a slot already taken from the budget.
  Task<BackendConnection::Ptr> connectNew(CheckoutFailure& failure);
  static Task<void> warm(NodePool* self);
  static Task<void> resetThenRelease(NodePool* self, BackendConnection::Ptr conn, bool discardAll);
  // Closes a connection this pool counted as open and frees its slot: at once if it is broken
  // (or `now`), else once the server has let go of it (see terminateAndWait).
  void close(BackendConnection::Ptr conn, bool now = false);
  static Task<void> closeThenRelease(std::shared_ptr<ServerBudget> budget,
                                     BackendConnection::Ptr conn);
  bool expired(const BackendConnection& conn, std::chrono::steady_clock::time_point now) const;
  void publishIdle() { budget_->setIdle(worker_, static_cast<std::uint32_t>(idle_.size())); }
  std::uint32_t localMinIdle() const;

  asio::any_io_executor executor_;
  unsigned worker_;
  std::shared_ptr<ServerBudget> budget_;
  backend::LoginParams login_;
  PoolTimings timings_;
  LoginObserver observer_;
  std::deque<BackendConnection::Ptr> idle_;  // least recently used first
  std::deque<Waiter*> waiters_;
  std::uint32_t open_ = 0;     // this worker's: idle + checked out + opening + resetting
  std::uint32_t warming_ = 0;  // min_idle connections being opened here
  std::chrono::steady_clock::time_point warmAgainAt_{};  // after a failed warm-up login
  Stats stats_;
};

}  // namespace pgsplit::pool
