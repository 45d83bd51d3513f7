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

int ReplicaBalancer::pick(const NodeSnapshot& snap, std::uint64_t minLsn, const LagLimits& limits,
                          std::size_t cluster) {
  const auto& nodes = snap.nodes;
  if (current_.size() != nodes.size()) current_.assign(nodes.size(), 0);
  std::int64_t total = 0;
  int best = -1;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const auto& n = nodes[i];
    if (n.cluster != cluster || !n.up || n.role != Role::Replica || n.weight == 0) continue;
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

int Router::primaryOf(const NodeSnapshot& snap, std::size_t cluster) {
  int found = -1;
  for (std::size_t i = 0; i < snap.nodes.size(); ++i) {
    const auto& n = snap.nodes[i];
    if (n.cluster != cluster || !n.up || n.role != Role::Primary) continue;
    if (found >= 0) return -1;  // two claim it: trust neither
    found = static_cast<int>(i);
  }
  return found;
}

int Router::primaryClaims(const NodeSnapshot& snap, std::size_t cluster) {
  int claims = 0;
  for (const auto& n : snap.nodes)
    if (n.cluster == cluster && n.up && n.role == Role::Primary) ++claims;
  return claims;
}

namespace {

// What keeps the cluster's primary from taking work, in words that name the nodes.
std::string primaryProblem(const NodeSnapshot& snap, std::size_t cluster) {
  if (Router::primaryClaims(snap, cluster) >= 2) {
    std::string names;
    for (const auto& n : snap.nodes) {
      if (n.cluster != cluster || !n.up || n.role != Role::Primary) continue;
      if (!names.empty()) names += " and ";
      names += n.name;
    }
    return "nodes " + names + " both claim to be the primary (split brain)";
  }
  for (const auto& n : snap.nodes) {
    if (n.cluster != cluster || n.up || n.role != Role::Primary) continue;
    std::string text = "primary node " + n.name + " is down";
    if (!n.lastError.empty()) text += " (" + n.lastError + ")";
    return text;
  }
  return "no node answers as the primary";
}

}  // namespace

std::string Router::noPrimaryMessage(const NodeSnapshot& snap, std::size_t cluster) {
  std::string text = "pgsplit: cannot run this on the primary: " + primaryProblem(snap, cluster);
  if (primaryClaims(snap, cluster) >= 2)
    text += "; writes are refused until only one primary remains";
  return text;
}

Decision Router::readFallback(const NodeSnapshot& snap, ReplicaBalancer& balancer,
                              const char* whyPrimary, std::size_t cluster,
                              const LagLimits& lag) const {
  int p = primaryOf(snap, cluster);
  if (p >= 0) return {p, Target::Primary, whyPrimary, {}};
  // No primary to fall back to: an up replica, even one behind, beats failing the read.
  int r = balancer.pick(snap, 0, lag, cluster);
  if (r < 0) r = balancer.pick(snap, 0, {}, cluster);
  if (r >= 0) return {r, Target::Replica, "read: no primary, a replica (may be behind)", {}};
  Decision d;
  d.reason = "read: no node available";
  d.refusal = "pgsplit: no node can serve this read: no replica is available and " +
              primaryProblem(snap, cluster);
  return d;
}

namespace {

// The node holding the session's transaction or pin is on another cluster than the unit's.
bool otherCluster(const NodeSnapshot& snap, int node, std::size_t cluster) {
  return node >= 0 && static_cast<std::size_t>(node) < snap.nodes.size() &&
         snap.nodes[static_cast<std::size_t>(node)].cluster != cluster;
}

Decision crossCluster(const char* reason) {
  Decision d;
  d.reason = reason;
  d.crossCluster = true;
  return d;
}

}  // namespace

Decision Router::route(const sql::Classification& cls, const SessionView& session,
                       const NodeSnapshot& snap, ReplicaBalancer& balancer,
                       const RouteRequest& request) const {
  const std::size_t cluster = request.cluster;
  // A transaction or a pinned session stays where its state lives, whatever the statement; a
  // unit for another cluster cannot join it (never a silent split).
  if (session.inTransaction) {
    if (request.ruleCluster && otherCluster(snap, session.transactionNode, cluster))
      return crossCluster("the transaction is on another cluster");
    return {session.transactionNode, Target::Primary, "inside a transaction: its backend", {}};
  }
  if (session.pinned) {
    if (request.ruleCluster && otherCluster(snap, session.pinnedNode, cluster))
      return crossCluster("the session is pinned on another cluster");
    return {session.pinnedNode, Target::Primary, "session pinned", {}};
  }

  LagLimits lag = options_.lag;
  if (request.maxLagMs > 0) lag.maxMs = request.maxLagMs;
  const bool replicaOk = cls.readOnly || cls.txnStart == sql::TxnStart::ReadOnly;
  // A rule's route overrides the statement's hint; a rule never sends a write to a replica.
  bool forcedPrimary = cls.hint == sql::Hint::Primary;
  bool wantsReplica = cls.hint == sql::Hint::Replica;
  const char* forcedWhy = "hint: primary";
  const char* replicaWhy = "hint: replica";
  if (request.force != Force::None) {
    forcedPrimary = request.force == Force::Primary;
    wantsReplica = request.force == Force::Replica;
    forcedWhy = "rule: primary";
    replicaWhy = "rule: replica";
  }
  if (replicaOk && !forcedPrimary) {
    // /* pgsplit:replica */ (or a rule's route = "replica") on a read: the client accepts a
    // replica that has not replayed its own writes yet (the lag limits still apply).
    if (wantsReplica) {
      if (int r = balancer.pick(snap, 0, lag, cluster); r >= 0)
        return {r, Target::Replica, replicaWhy, {}};
    }
    if (session.readsOnPrimary)
      return readFallback(snap, balancer, session.readsOnPrimaryReason, cluster, lag);
    int r = balancer.pick(snap, session.minReplayLsn, lag, cluster);
    if (r >= 0) return {r, Target::Replica, cls.reason, {}};
    return readFallback(snap, balancer,
                        session.minReplayLsn
                            ? "read-your-writes: no replica has replayed the session's write "
                              "(or pgsplit.min_lsn)"
                            : "read: no replica up and within the lag limits, primary",
                        cluster, lag);
  }
  const bool guarded = request.force == Force::Replica && !replicaOk;
  const char* why = forcedPrimary ? forcedWhy
                    : guarded     ? "rule: replica, but the statement needs the primary"
                                  : cls.reason;
  int p = primaryOf(snap, cluster);
  if (p >= 0) {
    Decision d{p, Target::Primary, why, {}};
    d.writeGuarded = guarded;
    return d;
  }
  if (cls.primaryRead && !forcedPrimary) {
    // A read kept on the primary for the relations it reads (not looked up yet, UNLOGGED): with
    // no primary, a replica may still answer it (or refuse it) — better than refusing here.
    if (int r = balancer.pick(snap, 0, {}, cluster); r >= 0)
      return {r, Target::Replica, "read: primary down, relation not proven readable", {}};
  }
  Decision d;
  d.reason = "no primary";
  d.refusal = noPrimaryMessage(snap, cluster);
  d.writeGuarded = guarded;
  return d;
}

}  // namespace pgsplit::routing
