#include "pgsplit/routing/router.hpp"

namespace pgsplit::routing {

int ReplicaBalancer::pick(const NodeSnapshot& snap, std::uint64_t minLsn) {
  const auto& nodes = snap.nodes;
  if (current_.size() != nodes.size()) current_.assign(nodes.size(), 0);
  std::int64_t total = 0;
  int best = -1;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const auto& n = nodes[i];
    if (!n.up || n.role != Role::Replica || n.weight == 0) continue;
    if (minLsn != 0 && n.lsn < minLsn) continue;
    current_[i] += n.weight;
    total += n.weight;
    if (best < 0 || current_[i] > current_[static_cast<std::size_t>(best)])
      best = static_cast<int>(i);
  }
  if (best >= 0) current_[static_cast<std::size_t>(best)] -= total;
  return best;
}

int Router::primaryOf(const NodeSnapshot& snap) {
  for (std::size_t i = 0; i < snap.nodes.size(); ++i) {
    const auto& n = snap.nodes[i];
    if (n.up && n.role == Role::Primary) return static_cast<int>(i);
  }
  return -1;
}

Decision Router::route(const sql::Classification& cls, const SessionView& session,
                       const NodeSnapshot& snap, ReplicaBalancer& balancer) const {
  // A transaction or a pinned session stays where its state lives, whatever the statement.
  if (session.inTransaction)
    return {session.transactionNode, Target::Primary, "inside a transaction: its backend"};
  if (session.pinned) return {session.pinnedNode, Target::Primary, "session pinned"};

  const bool replicaOk = cls.readOnly || cls.txnStart == sql::TxnStart::ReadOnly;
  const bool forcedPrimary = cls.hint == sql::Hint::Primary;
  if (replicaOk && !forcedPrimary) {
    // /* pgsplit:replica */ on a read: the client accepts a replica that has not replayed its
    // own writes yet.
    if (cls.hint == sql::Hint::Replica) {
      if (int r = balancer.pick(snap); r >= 0) return {r, Target::Replica, "hint: replica"};
    }
    if (session.readsOnPrimary)
      return {primaryOf(snap), Target::Primary, "read-your-writes: own write not yet confirmed"};
    int r = balancer.pick(snap, session.minReplayLsn);
    if (r >= 0) return {r, Target::Replica, cls.reason};
    int p = primaryOf(snap);
    if (p < 0) {
      // No primary to fall back to: an up replica (even one behind) beats failing the read.
      r = balancer.pick(snap);
      if (r >= 0) return {r, Target::Replica, "read: primary down, replica may be behind"};
    }
    return {p, Target::Primary,
            session.minReplayLsn ? "read-your-writes: no replica has replayed the session's write"
                                 : "read: no replica available, primary"};
  }
  const char* why = forcedPrimary ? "hint: primary" : cls.reason;
  return {primaryOf(snap), Target::Primary, why};
}

}  // namespace pgsplit::routing
