#pragma once
// How many backend connections one (node, database, user) may have open in the whole process,
// shared by every worker thread (each worker keeps its own idle connections; see NodePool).
//
// While nobody waits, a slot is taken or given back with one atomic operation. When the limit is
// reached, the clients that wait for a slot, on every worker, queue here in arrival order; a slot
// that frees up (a connection closed, a login failed) goes to the oldest of them, handed to its
// worker by posting to that worker's executor. The mutex is taken only on that slow path.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "pgsplit/asio.hpp"

namespace pgsplit::backend {
class BackendConnection;
}

namespace pgsplit::pool {

class NodePool;

class ServerBudget {
 public:
  using Clock = std::chrono::steady_clock;

  // What the budget asks of a worker's pool, always by posting to the worker's executor.
  struct Member {
    asio::any_io_executor executor;
    NodePool* pool = nullptr;
  };

  ServerBudget(unsigned workers, std::uint32_t limit);
  ServerBudget(const ServerBudget&) = delete;
  ServerBudget& operator=(const ServerBudget&) = delete;

  // A worker's pool for this key joins (its constructor) or leaves (its destructor).
  void attach(unsigned worker, Member member);
  void detach(unsigned worker);

  // A slot, if one is free and no client waits for one (they come first).
  bool tryAcquire();
  // A connection closed, or a login failed: the slot goes to the oldest waiter, or is free.
  void release();

  // A client of `worker` starts waiting. Returns its ticket, or 0 when a slot turned out to be
  // free after all (taken for the caller: it connects). A worker holding idle connections is asked
  // to close one, so that its slot comes here.
  std::uint64_t enqueue(unsigned worker, Clock::time_point since);
  // The waiter leaves (served by a connection released on its own worker, or timed out). False: a
  // slot was already granted to it and is on its way to its worker, which passes it on.
  bool withdraw(std::uint64_t ticket);
  // An idle connection of `worker` for the oldest waiter of another worker, if that one started
  // waiting before `waitingSince`: it leaves the queue, the socket leaves `worker`'s event loop
  // and the connection is posted to the waiter's worker (NodePool::adopt), slot and all. False
  // (conn untouched) when no such client waits.
  bool handOver(unsigned worker, std::shared_ptr<backend::BackendConnection>& conn,
                Clock::time_point waitingSince = Clock::time_point::max());
  // True when the oldest waiter belongs to another worker and has been waiting longer than
  // `margin` more than a waiter of `worker` that started at `localSince`.
  bool remoteWaiterFirst(unsigned worker, Clock::time_point localSince, Clock::duration margin);

  // min_idle: a slot for a connection opened ahead of need, while the process holds fewer than
  // `minIdle` idle (or opening) connections for this key and nobody waits.
  bool tryAcquireWarm(std::uint32_t minIdle);
  void warmDone();  // the warm connection is idle now, or failed

  // Idle connections of `worker` (published by its pool on every change).
  void setIdle(unsigned worker, std::uint32_t idle);
  std::uint32_t idleTotal() const;

  // Some login for this key succeeded: min_idle may open connections ahead of need (never for a
  // database or user that the node refuses).
  void markLoggedIn() { loggedIn_.store(true, std::memory_order_relaxed); }
  bool loggedIn() const { return loggedIn_.load(std::memory_order_relaxed); }

  // ParameterStatus values of the most recent login for this key, by any worker (nullptr before
  // the first): a client logging in is answered with them, without a server connection.
  using Parameters = std::vector<std::pair<std::string, std::string>>;
  void setServerParameters(std::shared_ptr<const Parameters> parameters);
  std::shared_ptr<const Parameters> serverParameters() const;

  unsigned workers() const { return workers_; }
  std::uint32_t open() const { return open_.load(); }
  std::uint32_t limit() const { return limit_.load(); }
  std::uint32_t waiting() const { return waiting_.load(); }
  bool overLimit() const { return open_.load() > limit_.load(); }
  // A reload: a raised limit serves waiting clients at once; over a lowered one, connections close
  // as they are released.
  void setLimit(std::uint32_t limit);

 private:
  struct Waiter {
    unsigned worker;
    Clock::time_point since;
  };
  void grantFreeSlotsLocked();
  struct RemoteWaiter {
    std::uint64_t ticket = 0;  // 0: none
    unsigned worker = 0;
    Clock::time_point since{};
  };
  // The oldest waiter of a worker other than `worker` (with `withPool`: one whose pool is there).
  RemoteWaiter oldestRemoteLocked(unsigned worker, bool withPool) const;
  void askForIdleLocked(unsigned except);

  std::atomic<std::uint32_t> open_{0};     // idle + in use + opening, every worker
  std::atomic<std::uint32_t> limit_;       // max_server_connections for this key
  std::atomic<std::uint32_t> waiting_{0};  // == queue_.size(), readable without the lock
  std::atomic<bool> loggedIn_{false};
  std::unique_ptr<std::atomic<std::uint32_t>[]> idle_;  // per worker
  unsigned workers_;

  mutable std::mutex mutex_;               // guards what follows
  std::vector<Member> members_;            // by worker
  std::map<std::uint64_t, Waiter> queue_;  // by ticket = arrival order
  // The same tickets per worker (ticket -> since), so that the oldest waiter of other workers is
  // found without walking past this worker's.
  std::vector<std::map<std::uint64_t, Clock::time_point>> byWorker_;
  std::uint64_t nextTicket_ = 1;
  std::uint32_t warming_ = 0;  // min_idle connections being opened
  std::shared_ptr<const Parameters> serverParameters_;
};

// The budgets of every (node, database, user), created on first use by any worker.
class BudgetRegistry {
 public:
  struct Key {
    std::size_t node;
    std::string database;
    std::string user;
    auto operator<=>(const Key&) const = default;
  };
  // The key's budget; `created` tells whether this call made it.
  std::shared_ptr<ServerBudget> get(const Key& key, unsigned workers, std::uint32_t limit,
                                    bool& created);

 private:
  std::mutex mutex_;
  std::map<Key, std::shared_ptr<ServerBudget>> budgets_;
};

}  // namespace pgsplit::pool
