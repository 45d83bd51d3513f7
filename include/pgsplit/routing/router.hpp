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

struct Decision {
  int node = -1;  // index into the snapshot's nodes; -1 = no node can serve
  Target target = Target::Primary;
  const char* reason = "";  // why this node (static text)
  std::string refusal;      // node < 0: the client's error message, naming the nodes at fault
};

// Smooth weighted round robin over replicas (nginx's algorithm): even spread, weights honoured.
class ReplicaBalancer {
 public:
  // Picks among up replicas with weight > 0 that have replayed minLsn and are within the lag
  // limits; -1 if none.
  int pick(const NodeSnapshot& snap, std::uint64_t minLsn = 0, const LagLimits& limits = {});

 private:
  std::vector<std::int64_t> current_;
};

class Router {
 public:
  Router() = default;
  explicit Router(RouterOptions options) : options_(options) {}
  const RouterOptions& options() const { return options_; }

  Decision route(const sql::Classification& cls, const SessionView& session,
                 const NodeSnapshot& snap, ReplicaBalancer& balancer) const;
  // The one up node that says it is the primary; -1 if none does, or several (split brain).
  static int primaryOf(const NodeSnapshot& snap);
  // How many up nodes say they are the primary (2+ = split brain: writes are refused).
  static int primaryClaims(const NodeSnapshot& snap);
  // Why no primary can take a write, for the client: names the nodes.
  static std::string noPrimaryMessage(const NodeSnapshot& snap);

 private:
  Decision readFallback(const NodeSnapshot& snap, ReplicaBalancer& balancer,
                        const char* whyPrimary) const;
  RouterOptions options_;
};

}  // namespace pgsplit::routing
