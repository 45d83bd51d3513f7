#pragma once
// The routing decision: a pure function of (classification, session view, node snapshot) plus the
// caller's round-robin state. No sockets, no threads, no clock.
#include <cstdint>
#include <string>
#include <vector>

#include "pgsplit/routing/consistency.hpp"
#include "pgsplit/routing/node_snapshot.hpp"
#include "pgsplit/sql/classifier.hpp"

namespace pgsplit::routing {

// What the session knows about itself when a new unit of work arrives.
struct SessionView {
  bool inTransaction = false;  // the last ReadyForQuery said 'T' or 'E'
  int transactionNode = -1;    // the node holding that transaction
  bool pinned = false;         // session state that lives on one primary backend
  int pinnedNode = -1;
  // Read-your-writes (see consistency.hpp): a replica may serve this session's reads only once it
  // has replayed minReplayLsn (0 = no requirement); readsOnPrimary: reads must use the primary.
  std::uint64_t minReplayLsn = 0;
  bool readsOnPrimary = false;
  const char* readsOnPrimaryReason = "read-your-writes: own write not yet confirmed";
};

// Replicas over either limit get no reads until they are back under it. 0 = unlimited.
struct LagLimits {
  std::uint64_t maxBytes = 0;
  std::uint64_t maxMs = 0;
};
bool withinLagLimits(const NodeState& node, const LagLimits& limits);

struct RouterOptions {
  LagLimits lag;
  ConsistencyPolicy consistency;

  static RouterOptions from(const config::Config& c);
};

enum class Target : std::uint8_t { Primary, Replica };

// The SQLSTATE of every refusal: no node can take this unit now (connection_failure, as when the
// node refuses a connection, so clients see one code whether or not a health check noticed first).
inline constexpr const char* kRefusalSqlstate = "08006";
// A unit for another cluster than the one holding the session's transaction or pinned backend:
// feature_not_supported (a transaction never spans clusters; retrying cannot help).
inline constexpr const char* kCrossClusterSqlstate = "0A000";

// What a routing rule (rules.hpp) asks for one unit of work.
enum class Force : std::uint8_t { None, Primary, Replica };
struct RouteRequest {
  std::size_t cluster = 0;  // the cluster the unit is for (the session's, or a rule's)
  // `cluster` comes from a rule's action: a transaction or pinned backend on another cluster
  // refuses the unit. Otherwise a unit follows the session's transaction or pin wherever it is.
  bool ruleCluster = false;
  Force force = Force::None;
  std::uint64_t maxLagMs = 0;  // > 0: replaces [consistency] max_replica_lag_ms for this unit
};

struct Decision {
  int node = -1;  // index into the snapshot's nodes; -1 = no node can serve
  Target target = Target::Primary;
  const char* reason = "";  // why this node (static text)
  std::string refusal;      // node < 0: the client's error message, naming the nodes at fault
  // node < 0 because the session's transaction or pinned backend is on another cluster than
  // the one the unit is for (the caller words the error: it knows the clusters' names).
  bool crossCluster = false;
  // A rule asked for a replica but the unit is not a read: it goes to the primary instead.
  bool writeGuarded = false;
};

// Smooth weighted round robin over replicas (nginx's algorithm): even spread, weights honoured.
class ReplicaBalancer {
 public:
  // Picks among the cluster's up replicas with weight > 0 that have replayed minLsn and are
  // within the lag limits; -1 if none.
  int pick(const NodeSnapshot& snap, std::uint64_t minLsn = 0, const LagLimits& limits = {},
           std::size_t cluster = 0);

 private:
  std::vector<std::int64_t> current_;
};

class Router {
 public:
  Router() = default;
  explicit Router(RouterOptions options) : options_(options) {}
  const RouterOptions& options() const { return options_; }

  // Only nodes of request.cluster are picked; a transaction or pin on another cluster's node
  // is a refusal (Decision::crossCluster).
  Decision route(const sql::Classification& cls, const SessionView& session,
                 const NodeSnapshot& snap, ReplicaBalancer& balancer,
                 const RouteRequest& request = {}) const;
  // The one up node of the cluster that says it is the primary; -1 if none does, or several
  // (split brain: each cluster has its own).
  static int primaryOf(const NodeSnapshot& snap, std::size_t cluster = 0);
  // How many up nodes of the cluster say they are the primary (2+ = split brain: writes are
  // refused).
  static int primaryClaims(const NodeSnapshot& snap, std::size_t cluster = 0);
  // Why no primary of the cluster can take a write, for the client: names the nodes.
  static std::string noPrimaryMessage(const NodeSnapshot& snap, std::size_t cluster = 0);

 private:
  Decision readFallback(const NodeSnapshot& snap, ReplicaBalancer& balancer, const char* whyPrimary,
                        std::size_t cluster, const LagLimits& lag) const;
  RouterOptions options_;
};

}  // namespace pgsplit::routing
