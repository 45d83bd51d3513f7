#include "pgsplit/routing/router.hpp"

namespace pgsplit::routing {

bool withinLagLimits(const NodeState& node, const LagLimits& limits) {
  if (limits.maxBytes != 0 && node.lagBytes > limits.maxBytes) return false;
  if (limits.maxMs != 0 && node.lagMs > limits.maxMs) return false;
  return true;
}

RouterOptions RouterOptions::from(const config::Config& c) {
  RouterOptions o;
  o.lag.maxBytes = c.consistency.maxReplicaLagBytes;
  o.lag.maxMs = c.consistency.maxReplicaLagMs;
  o.consistency = ConsistencyPolicy::from(c.consistency);
  return o;
}

int ReplicaBalancer::pick(const NodeSnapshot& snap, std::uint64_t minLsn, const LagLimits& limits) {
  const auto& nodes = snap.nodes;
  if (current_.size() != nodes.size()) current_.assign(nodes.size(), 0);
  std::int64_t total = 0;
  int best = -1;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const auto& n = nodes[i];
    if (!n.up || n.role != Role::Replica || n.weight == 0) continue;
    if (minLsn != 0 && n.lsn < minLsn) continue;
    if (!withinLagLimits(n, limits)) continue;
    current_[i] += n.weight;
    total += n.weight;
    if (best < 0 || current_[i] > current_[static_cast<std::size_t>(best)])
      best = static_cast<int>(i);
  }
  if (best >= 0) current_[static_cast<std::size_t>(best)] -= total;
  return best;
}

int Router::primaryOf(const NodeSnapshot& snap) {
  int found = -1;
  for (std::size_t i = 0; i < snap.nodes.size(); ++i) {
    const auto& n = snap.nodes[i];
    if (!n.up || n.role != Role::Primary) continue;
    if (found >= 0) return -1;  // two claim it: trust neither
    found = static_cast<int>(i);
  }
  return found;
}

int Router::primaryClaims(const NodeSnapshot& snap) {
  int claims = 0;
  for (const auto& n : snap.nodes)
    if (n.up && n.role == Role::Primary) ++claims;
  return claims;
}

namespace {

// What keeps the primary from taking work, in words that name the nodes.
std::string primaryProblem(const NodeSnapshot& snap) {
  if (Router::primaryClaims(snap) >= 2) {
    std::string names;
    for (const auto& n : snap.nodes) {
      if (!n.up || n.role != Role::Primary) continue;
      if (!names.empty()) names += " and ";
      names += n.name;
    }
    return "nodes " + names + " both claim to be the primary (split brain)";
  }
  for (const auto& n : snap.nodes) {
    if (n.up || n.role != Role::Primary) continue;
    std::string text = "primary node " + n.name + " is down";
    if (!n.lastError.empty()) text += " (" + n.lastError + ")";
    return text;
  }
  return "no node answers as the primary";
}

}  // namespace

std::string Router::noPrimaryMessage(const NodeSnapshot& snap) {
  std::string text = "pgsplit: cannot run this on the primary: " + primaryProblem(snap);
  if (primaryClaims(snap) >= 2) text += "; writes are refused until only one primary remains";
  return text;
}

Decision Router::readFallback(const NodeSnapshot& snap, ReplicaBalancer& balancer,
                              const char* whyPrimary) const {
  int p = primaryOf(snap);
  if (p >= 0) return {p, Target::Primary, whyPrimary, {}};
  // No primary to fall back to: an up replica, even one behind, beats failing the read.
  int r = balancer.pick(snap, 0, options_.lag);
  if (r < 0) r = balancer.pick(snap);
  if (r >= 0) return {r, Target::Replica, "read: no primary, a replica (may be behind)", {}};
  Decision d;
  d.reason = "read: no node available";
  d.refusal =
      "pgsplit: no node can serve this read: no replica is available and " + primaryProblem(snap);
  return d;
}

Decision Router::route(const sql::Classification& cls, const SessionView& session,
                       const NodeSnapshot& snap, ReplicaBalancer& balancer) const {
  // A transaction or a pinned session stays where its state lives, whatever the statement.
  if (session.inTransaction)
    return {session.transactionNode, Target::Primary, "inside a transaction: its backend", {}};
  if (session.pinned) return {session.pinnedNode, Target::Primary, "session pinned", {}};

  const bool replicaOk = cls.readOnly || cls.txnStart == sql::TxnStart::ReadOnly;
  const bool forcedPrimary = cls.hint == sql::Hint::Primary;
  if (replicaOk && !forcedPrimary) {
    // /* pgsplit:replica */ on a read: the client accepts a replica that has not replayed its
    // own writes yet (the lag limits still apply).
    if (cls.hint == sql::Hint::Replica) {
      if (int r = balancer.pick(snap, 0, options_.lag); r >= 0)
        return {r, Target::Replica, "hint: replica", {}};
    }
    if (session.readsOnPrimary) return readFallback(snap, balancer, session.readsOnPrimaryReason);
    int r = balancer.pick(snap, session.minReplayLsn, options_.lag);
    if (r >= 0) return {r, Target::Replica, cls.reason, {}};
    return readFallback(snap, balancer,
                        session.minReplayLsn
                            ? "read-your-writes: no replica has replayed the session's write "
                              "(or pgsplit.min_lsn)"
                            : "read: no replica up and within the lag limits, primary");
  }
  const char* why = forcedPrimary ? "hint: primary" : cls.reason;
  int p = primaryOf(snap);
  if (p >= 0) return {p, Target::Primary, why, {}};
  if (cls.primaryRead && !forcedPrimary) {
    // A read kept on the primary for the relations it reads (not looked up yet, UNLOGGED): with
    // no primary, a replica may still answer it (or refuse it) — better than refusing here.
    if (int r = balancer.pick(snap); r >= 0)
      return {r, Target::Replica, "read: primary down, relation not proven readable", {}};
  }
  Decision d;
  d.reason = "no primary";
  d.refusal = noPrimaryMessage(snap);
  return d;
}

}  // namespace pgsplit::routing
