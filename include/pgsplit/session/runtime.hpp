#pragma once
// State shared by all workers (immutable or guarded), and the per-worker context a session runs
// in. Nothing here is global: main builds one Runtime and hands it down.
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "pgsplit/asio.hpp"
#include "pgsplit/config/config.hpp"
#include "pgsplit/pool/node_pool.hpp"
#include "pgsplit/protocol/auth.hpp"
#include "pgsplit/routing/node_snapshot.hpp"
#include "pgsplit/routing/router.hpp"
#include "pgsplit/session/config_store.hpp"
#include "pgsplit/session/control_plane.hpp"
#include "pgsplit/session/inspect.hpp"
#include "pgsplit/session/pause_board.hpp"
#include "pgsplit/session/query_stats.hpp"
#include "pgsplit/session/signal.hpp"
#include "pgsplit/session/statement_cache.hpp"
#include "pgsplit/sql/caching_classifier.hpp"
#include "pgsplit/sql/catalog_board.hpp"
#include "pgsplit/session/worker_stats.hpp"

namespace pgsplit::session {

class ClientSession;
class WorkerContext;

// Maps the BackendKeyData pgsplit gave each client to that client's session, so a CancelRequest
// (which arrives on a new connection, maybe on another worker) can find it.
class CancelRegistry {
 public:
  struct Entry {
    WorkerContext* worker;
    std::weak_ptr<ClientSession> session;
  };
  // Registers a session and returns its (pid, secret) key.
  std::pair<std::uint32_t, std::uint32_t> add(WorkerContext* worker,
                                              std::weak_ptr<ClientSession> session);
  void remove(std::uint32_t pid);
  std::optional<Entry> find(std::uint32_t pid, std::uint32_t secret) const;

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::uint32_t, std::pair<std::uint32_t, Entry>> entries_;
  std::uint32_t nextPid_ = 1;
};

// An admin console connection (admin module), closed by the drain like a client.
class AdminConnection {
 public:
  virtual ~AdminConnection() = default;
  virtual void closeForShutdown() = 0;
};

struct Runtime {
  // The configuration in force and its SCRAM verifiers (swapped by reloads; see ConfigStore).
  ConfigStore config;
  protocol::ScramVerifier mockVerifier;  // for unknown users: fail like a wrong password
  routing::NodeStateBoard nodes;
  // The primary's catalog facts the classifiers share (fed by catalog::Fetcher).
  sql::CatalogBoard catalog;
  sql::ClassifierCounters classifierCounters;
  CancelRegistry cancels;
  // How many server connections each (node, database, user) has open, across every worker.
  pool::BudgetRegistry budgets;
  std::atomic<std::uint32_t> clients{0};
  std::atomic<std::uint64_t> nextSessionId{1};
  // Units a replica refused as writes (25006) or lost, sent again to the primary.
  std::atomic<std::uint64_t> safetyNetRetries{0};
  std::atomic<std::uint64_t> readRetries{0};
  // A rule's write guard was logged at warn level (once per rule statistics slot).
  std::array<std::atomic<bool>, config::kMaxRuleSlots> ruleWriteWarned{};
  unsigned workerCount = 1;
  // Every worker, set by net::Server before any runs (fixed afterwards).
  std::vector<WorkerContext*> workers;
  // SIGTERM or SHUTDOWN: new clients are refused and /readyz says so.
  std::atomic<bool> draining{false};
  // PAUSE / RESUME (admin console).
  PauseBoard pause;
  ControlPlane* control = nullptr;  // set by main; reload and shutdown requests
  std::chrono::system_clock::time_point startedAt = std::chrono::system_clock::now();

  explicit Runtime(std::shared_ptr<const config::Config> cfg, routing::NodeSnapshot initial);
  // After RESUME (or a PAUSE that gave up): every worker's held sessions look again.
  void wakePausedSessions();
};

// One worker thread's world: its executor, its pools, its router state. Touched only from that
// worker's thread, so nothing in it is locked.
class WorkerContext {
 public:
  WorkerContext(Runtime& runtime, asio::io_context& io, unsigned index);

  Runtime& runtime() { return runtime_; }
  asio::io_context& io() { return io_; }
  unsigned index() const { return index_; }
  const routing::NodeSnapshot& nodes() { return snapshot_.get(); }
  routing::ReplicaBalancer& balancer() { return balancer_; }
  StatementCache& statements() { return statements_; }
  const routing::Router& router() const { return router_; }
  // Classifies statement text (cached per worker; see sql::CachingClassifier). A session calls
  // classifier().classify(text, database, user).
  sql::CachingClassifier& classifier() { return classifier_; }

  // The pool of (node, database, user) on this worker, created on first use (and then on every
  // other worker too, so that min_idle spreads over them).
  pool::NodePool& poolFor(std::size_t node, const std::string& database, const std::string& user);
  void closeIdle();
  // Starts the periodic pool upkeep (idle_timeout_ms, server_lifetime_ms, min_idle) on this
  // worker's thread.
  void startMaintenance();

  // --- operations (worker_operations.cpp); all on this worker's thread ---
  WorkerStats& stats() { return stats_; }
  const WorkerStats& stats() const { return stats_; }
  // Sessions and admin connections living on this worker (weakly held), for inspection and the
  // drain.
  void track(const std::shared_ptr<ClientSession>& session);
  void trackAdmin(std::weak_ptr<AdminConnection> connection);
  WorkerReport report();
  // Drain: closes the sessions that have nothing in flight and no open transaction (57P01);
  // returns how many sessions remain.
  std::size_t closeIdleSessions();
  // Closes every session and admin connection (57P01); returns how many sessions remain.
  std::size_t closeAllSessions();
  // Applies the configuration now in force to this worker's pools (after a reload).
  void reconfigure();
  // Statement statistics (SHOW QUERIES).
  QueryStatsTable& queryStats() { return queryStats_; }
  // PAUSE: sessions whose next unit is held wait on this signal; RESUME notifies it, which
  // wakes every one of them to look again.
  Signal& pauseGate() { return pauseGate_; }
  void releasePaused() { pauseGate_.notify(); }
  // Sessions of `database` (every one when empty) with a unit in flight or a transaction open:
  // what PAUSE waits for.
  std::size_t busyForPause(const std::string& database);

 private:
  struct TrackedSession {
    std::weak_ptr<ClientSession> session;
    std::chrono::system_clock::time_point since;
  };
  backend::LoginParams loginFor(const config::Config& cfg, std::size_t node,
                                const std::string& database, const std::string& user) const;
  static pool::PoolTimings timingsFor(const config::Config& cfg, std::size_t node);
  static Task<void> maintain(WorkerContext* self);
  void maintainPools();
  void pruneTracked();

  Runtime& runtime_;
  asio::io_context& io_;
  unsigned index_;
  routing::SnapshotCache snapshot_;
  routing::ReplicaBalancer balancer_;
  routing::Router router_;
  StatementCache statements_;
  sql::CachingClassifier classifier_;
  std::map<std::tuple<std::size_t, std::string, std::string>, std::unique_ptr<pool::NodePool>>
      pools_;
  WorkerStats stats_;
  QueryStatsTable queryStats_;
  Signal pauseGate_;
  std::vector<TrackedSession> sessions_;
  std::size_t pruneAt_ = 64;
  std::vector<std::weak_ptr<AdminConnection>> admins_;
  asio::steady_timer maintenanceTimer_;
};

}  // namespace pgsplit::session
