#include "pgsplit/admin/overview.hpp"

#include <algorithm>

#include "pgsplit/session/runtime.hpp"

namespace pgsplit::admin {

Task<Overview> collectOverview(session::Runtime* runtime) {
  Overview o;
  const session::ConfigGeneration& generation = runtime->config.current();
  o.config = generation.config;
  o.rules = generation.rules;
  o.generation = generation.number;
  o.nodes = runtime->nodes.current();
  o.workerCount = runtime->workers.size();
  o.draining = runtime->draining.load();
  if (runtime->control) o.control = runtime->control->status();
  o.control.draining = o.draining;

  // Counters: relaxed reads of each worker's own counters (see WorkerStats).
  const std::size_t slots = std::max(o.config->nodes.size(), o.nodes->nodes.size());
  o.nodeTotals.resize(slots);
  o.ruleTotals.resize(o.config->ruleSlots.size());
  for (const session::WorkerContext* w : runtime->workers) {
    const session::WorkerStats& st = w->stats();
    for (std::size_t i = 0; i < slots && i < st.nodes.size(); ++i) {
      o.nodeTotals[i].unitsAsPrimary += st.nodes[i].unitsAsPrimary.get();
      o.nodeTotals[i].unitsAsReplica += st.nodes[i].unitsAsReplica.get();
      NodeTotals& t = o.nodeTotals[i];
      t.errorsAsPrimary += st.nodes[i].errorsAsPrimary.get();
      t.errorsAsReplica += st.nodes[i].errorsAsReplica.get();
      if (const session::NodeLatency* l = st.latencyIfAny(i)) {
        t.latencyAsPrimary.add(l->asPrimary);
        t.latencyAsReplica.add(l->asReplica);
        t.poolWait.add(l->poolWait);
      }
    }
    for (std::size_t c = 0; c < session::kSqlstateClasses; ++c) {
      o.serverErrorsByClass[c] += st.serverErrorsByClass[c].get();
      o.proxyErrorsByClass[c] += st.proxyErrorsByClass[c].get();
    }
    for (std::size_t r = 0; r < o.ruleTotals.size() && r < st.rules.size(); ++r) {
      RuleTotals& t = o.ruleTotals[r];
      t.hits += st.rules[r].hits.get();
      t.writesKept += st.rules[r].writesKept.get();
      t.lastHitMs = std::max(t.lastHitMs, st.rules[r].lastHitMs.load(std::memory_order_relaxed));
    }
    o.clientsAccepted += st.clientsAccepted.get();
    o.sessionsPinned += st.sessionsPinned.get();
  }
  for (NodeTotals& t : o.nodeTotals)
    t.serverErrors = t.errorsAsPrimary + t.errorsAsReplica;
  o.pause = runtime->pause.state();
  o.safetyNetRetries = runtime->safetyNetRetries.load(std::memory_order_relaxed);
  o.readRetries = runtime->readRetries.load(std::memory_order_relaxed);
  o.ignoredReplicaHints =
      runtime->classifierCounters.ignoredReplicaHints.load(std::memory_order_relaxed);
  for (session::WorkerContext* w : runtime->workers) {
    const sql::CachingClassifier::Stats& st = w->classifier().stats();
    o.classifier.hits += st.hits.load(std::memory_order_relaxed);
    o.classifier.shapeHits += st.shapeHits.load(std::memory_order_relaxed);
    o.classifier.misses += st.misses.load(std::memory_order_relaxed);
    o.classifier.evictions += st.evictions.load(std::memory_order_relaxed);
    o.classifier.shapeEvictions += st.shapeEvictions.load(std::memory_order_relaxed);
  }

  o.workers = co_await session::gatherReports(runtime);
  for (const auto& w : o.workers) {
    for (const auto& c : w.clients)
      if (c.paused) ++o.pausedClients;
    for (const auto& p : w.pools) {
      if (p.node >= o.nodeTotals.size()) continue;
      NodeTotals& t = o.nodeTotals[p.node];
      t.serverConnections += p.open;
      t.idleServerConnections += p.idle;
      t.waitingClients += p.waiting;
      t.poolWaits += p.waits;
      t.poolWaitMicros += p.waitMicros;
      t.poolTimeouts += p.timeouts;
      t.connects += p.connects;
      t.connectFailures += p.connectFailures;
      t.resets += p.resets;
      t.resetFailures += p.resetFailures;
      t.idleTimeouts += p.idleTimeouts;
      t.lifetimeCloses += p.lifetimeCloses;
      t.handedOver += p.handedOver;
    }
  }
  o.now = std::chrono::system_clock::now();
  co_return o;
}

bool ready(const Overview& o, std::string& why) {
  if (o.draining) {
    why = "draining: shutting down";
    return false;
  }
  for (std::size_t i = 0; i < o.nodes->nodes.size(); ++i) {
    const auto& n = o.nodes->nodes[i];
    if (i < o.config->nodes.size() && o.config->nodes[i].retired) continue;
    if (n.up && (n.role == routing::Role::Primary || n.role == routing::Role::Replica)) {
      why = "ready";
      return true;
    }
  }
  why = "no primary or replica is reachable";
  return false;
}

namespace {
const routing::NodeState* knownReplica(const Overview& o, std::size_t node) {
  const auto& nodes = o.nodes->nodes;
  if (node >= nodes.size() || nodes[node].role != routing::Role::Replica || nodes[node].lsn == 0)
    return nullptr;
  return &nodes[node];
}
}  // namespace

std::int64_t lagBytes(const Overview& o, std::size_t node) {
  const routing::NodeState* n = knownReplica(o, node);
  return n ? static_cast<std::int64_t>(n->lagBytes) : -1;
}

std::int64_t lagMs(const Overview& o, std::size_t node) {
  const routing::NodeState* n = knownReplica(o, node);
  return n ? static_cast<std::int64_t>(n->lagMs) : -1;
}

const char* nodeState(const Overview& o, std::size_t node) {
  if (node < o.config->nodes.size() && o.config->nodes[node].retired) return "removed";
  if (node >= o.nodes->nodes.size()) return "unknown";
  return o.nodes->nodes[node].up ? "up" : "down";
}

}  // namespace pgsplit::admin
