#pragma once
// The routing decision: a pure function of (classification, session view, node snapshot) plus the
// caller's round-robin state. No sockets, no threads, no clock.
#include <cstdint>
#include <vector>

#include "pgsplit/routing/node_snapshot.hpp"
#include "pgsplit/sql/classifier.hpp"

namespace pgsplit::routing {

// What the session knows about itself when a new unit of work arrives.
struct SessionView {
  bool inTransaction = false;  // the last ReadyForQuery said 'T' or 'E'
  int transactionNode = -1;    // the node holding that transaction
  bool pinned = false;         // session state that lives on one primary backend
  int pinnedNode = -1;
  // Read-your-writes: a replica may serve this session's reads only once it has replayed
  // minReplayLsn (0 = no requirement). readsOnPrimary: the requirement is not known yet.
  std::uint64_t minReplayLsn = 0;
  bool readsOnPrimary = false;
};

enum class Target : std::uint8_t { Primary, Replica };

struct Decision {
  int node = -1;  // index into the snapshot's nodes; -1 = no node can serve
  Target target = Target::Primary;
  const char* reason = "";  // why this node (static text)
};

// Smooth weighted round robin over replicas (nginx's algorithm): even spread, weights honoured.
class ReplicaBalancer {
 public:
  // Picks among nodes that are up replicas with weight > 0 that have replayed minLsn; -1 if none.
  int pick(const NodeSnapshot& snap, std::uint64_t minLsn = 0);

 private:
  std::vector<std::int64_t> current_;
};

class Router {
 public:
  Decision route(const sql::Classification& cls, const SessionView& session,
                 const NodeSnapshot& snap, ReplicaBalancer& balancer) const;
  // The primary that is up, or -1.
  static int primaryOf(const NodeSnapshot& snap);
};

}  // namespace pgsplit::routing
