#pragma once
// One consistent picture of the process for the admin console and the HTTP endpoints: the
// configuration in force, the node board, every worker's sessions and pools (gathered on their
// own threads), and the counters summed over the workers. Everything rendered from it (row sets,
// Prometheus text, JSON) is a pure function of it.
#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "pgsplit/asio.hpp"
#include "pgsplit/config/config.hpp"
#include "pgsplit/routing/node_snapshot.hpp"
#include "pgsplit/session/control_plane.hpp"
#include "pgsplit/session/inspect.hpp"
#include "pgsplit/session/latency_histogram.hpp"
#include "pgsplit/session/pause_board.hpp"
#include "pgsplit/session/worker_stats.hpp"

namespace pgsplit::session {
struct Runtime;
}
namespace pgsplit::routing {
class RuleSet;
}

namespace pgsplit::admin {

struct NodeTotals {
  std::uint64_t unitsAsPrimary = 0;
  std::uint64_t unitsAsReplica = 0;
  std::uint64_t errorsAsPrimary = 0;
  std::uint64_t errorsAsReplica = 0;
  std::uint64_t serverErrors = 0;  // both
  // Units of work from sending to their ReadyForQuery reaching the client, by route; checkouts.
  session::LatencySummary latencyAsPrimary;
  session::LatencySummary latencyAsReplica;
  session::LatencySummary poolWait;
  // From the pools of every worker, database and user.
  std::uint32_t serverConnections = 0;
  std::uint32_t idleServerConnections = 0;
  std::uint32_t waitingClients = 0;
  std::uint64_t poolWaits = 0;
  std::uint64_t poolWaitMicros = 0;
  std::uint64_t poolTimeouts = 0;
  std::uint64_t connects = 0;
  std::uint64_t connectFailures = 0;
  std::uint64_t resets = 0;
  std::uint64_t resetFailures = 0;
  std::uint64_t idleTimeouts = 0;
  std::uint64_t lifetimeCloses = 0;
  std::uint64_t handedOver = 0;
};

// A routing rule's counters, summed over the workers (by statistics slot).
struct RuleTotals {
  std::uint64_t hits = 0;
  std::uint64_t writesKept = 0;  // wanted on a replica, kept on the primary (not reads)
  std::int64_t lastHitMs = 0;    // Unix time in ms; 0 = never
};

// The statement classifiers' caches (sql::CachingClassifier::Stats), summed over the workers.
struct ClassifierTotals {
  std::uint64_t hits = 0;       // the text was cached
  std::uint64_t shapeHits = 0;  // a text of the same shape with other literals was
  std::uint64_t misses = 0;     // analysed
  std::uint64_t evictions = 0;  // texts
  std::uint64_t shapeEvictions = 0;
};

struct Overview {
  std::string version = PGSPLIT_VERSION;
  std::chrono::system_clock::time_point now{};
  std::shared_ptr<const config::Config> config;
  std::shared_ptr<const routing::RuleSet> rules;  // compiled with `config` (may be null in tests)
  std::uint64_t generation = 0;
  std::shared_ptr<const routing::NodeSnapshot> nodes;
  std::size_t workerCount = 0;
  std::vector<session::WorkerReport> workers;  // those that answered
  session::ControlStatus control;
  bool draining = false;
  session::PauseBoard::State pause;  // PAUSE in force: everything, or these databases
  std::size_t pausedClients = 0;     // clients whose next unit waits for RESUME

  std::vector<NodeTotals> nodeTotals;  // per node slot
  std::vector<RuleTotals> ruleTotals;  // per rule statistics slot (config::RuleConfig::slot)
  std::array<std::uint64_t, session::kSqlstateClasses> serverErrorsByClass{};
  std::array<std::uint64_t, session::kSqlstateClasses> proxyErrorsByClass{};
  std::uint64_t clientsAccepted = 0;
  std::uint64_t sessionsPinned = 0;
  std::uint64_t safetyNetRetries = 0;     // reads a replica refused as writes (25006), retried
  std::uint64_t readRetries = 0;          // reads whose replica connection failed, retried
  std::uint64_t ignoredReplicaHints = 0;  // /* pgsplit:replica */ on a write
  ClassifierTotals classifier;
};

Task<Overview> collectOverview(session::Runtime* runtime);

// /readyz: not draining, and a primary or a replica is up. `why` says what is missing.
bool ready(const Overview& o, std::string& why);

// A replica's lag behind the primary as the health monitor measured it (see NodeState): bytes
// of WAL, and milliseconds; -1 when unknown (no position yet, or not a replica).
std::int64_t lagBytes(const Overview& o, std::size_t node);
std::int64_t lagMs(const Overview& o, std::size_t node);

// A snapshot node's state as shown to operators: "up", "down" or "removed".
const char* nodeState(const Overview& o, std::size_t node);

}  // namespace pgsplit::admin
