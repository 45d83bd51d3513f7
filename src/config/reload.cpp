#include "pgsplit/config/reload.hpp"

#include <algorithm>

namespace pgsplit::config {
namespace {

bool sameAddress(const NodeConfig& a, const NodeConfig& b) {
  return a.name == b.name && a.host == b.host && a.port == b.port;
}

std::string listenText(const std::string& host, std::uint16_t port) {
  if (host.empty()) return "\"\" (disabled)";
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

template <class T>
void noteChange(std::vector<std::string>& out, const char* key, const T& was, const T& now) {
  if (was == now) return;
  out.push_back(std::string(key) + ": " + std::to_string(was) + " -> " + std::to_string(now));
}

void noteText(std::vector<std::string>& out, const char* key, const std::string& was,
              const std::string& now) {
  if (was == now) return;
  out.push_back(std::string(key) + ": " + was + " -> " + now);
}

// Clusters keep their slot by name; the fresh file's nodes and rules are renumbered to the
// slots. Returns false (plan.error set) when there are too many slots.
bool planClusters(const Config& current, Config& next, ReloadPlan& plan) {
  std::vector<ClusterConfig> slots = current.clusters;
  std::vector<std::size_t> slotOf(next.clusters.size(), 0);
  for (ClusterConfig& slot : slots) {
    if (!slot.retired && next.findCluster(slot.name) < 0) {
      plan.changes.push_back("cluster " + slot.name + " removed");
      slot.retired = true;
      slot.databases.clear();
    }
  }
  for (std::size_t i = 0; i < next.clusters.size(); ++i) {
    const ClusterConfig& c = next.clusters[i];
    auto it = std::find_if(slots.begin(), slots.end(),
                           [&](const ClusterConfig& s) { return s.name == c.name; });
    if (it == slots.end()) {
      plan.changes.push_back("cluster " + c.name + " added");
      slots.push_back(c);
      slotOf[i] = slots.size() - 1;
      continue;
    }
    if (it->retired)
      plan.changes.push_back("cluster " + c.name + " added back");
    else if (it->databases != c.databases || it->users != c.users)
      plan.changes.push_back("cluster " + c.name + " databases or users changed (new logins)");
    *it = c;
    slotOf[i] = static_cast<std::size_t>(it - slots.begin());
  }
  if (slots.size() > kMaxClusterSlots) {
    plan.error = "too many cluster changes since start (" + std::to_string(slots.size()) +
                 " cluster slots, at most " + std::to_string(kMaxClusterSlots) +
                 "): restart pgsplit to apply this file";
    return false;
  }
  for (NodeConfig& n : next.nodes)
    if (n.cluster < slotOf.size()) n.cluster = slotOf[n.cluster];
  for (RuleConfig& r : next.rules)
    if (!r.cluster.empty() && r.clusterIndex < slotOf.size())
      r.clusterIndex = slotOf[r.clusterIndex];
  next.clusters = std::move(slots);
  next.clusterOrder = std::move(slotOf);  // the file's order, as slots
  return true;
}

// Rules keep their statistics slot (hit counters) by name.
bool planRuleSlots(const Config& current, Config& next, ReloadPlan& plan) {
  std::vector<std::string> slots = current.ruleSlots;
  for (RuleConfig& r : next.rules) {
    auto it = std::find(slots.begin(), slots.end(), r.name);
    if (it == slots.end()) {
      slots.push_back(r.name);
      r.slot = slots.size() - 1;
    } else {
      r.slot = static_cast<std::size_t>(it - slots.begin());
    }
  }
  if (slots.size() > kMaxRuleSlots) {
    plan.error = "too many rule names since start (" + std::to_string(slots.size()) + ", at most " +
                 std::to_string(kMaxRuleSlots) + "): restart pgsplit to apply this file";
    return false;
  }
  next.ruleSlots = std::move(slots);
  const bool same = current.rules.size() == next.rules.size() &&
                    std::equal(current.rules.begin(), current.rules.end(), next.rules.begin(),
                               [](const RuleConfig& a, const RuleConfig& b) {
                                 return a.name == b.name && a.line == b.line;
                               });
  if (!same)
    plan.changes.push_back("[[rules]]: " + std::to_string(current.rules.size()) + " -> " +
                           std::to_string(next.rules.size()) + " rules (new units of work)");
  return true;
}

}  // namespace

ReloadPlan planReload(const Config& current, const Config& fresh) {
  ReloadPlan plan;
  auto next = std::make_shared<Config>(fresh);
  auto& changes = plan.changes;
  if (!planClusters(current, *next, plan) || !planRuleSlots(current, *next, plan)) return plan;
  const std::vector<NodeConfig> freshNodes = next->nodes;  // their clusters renumbered to slots

  // --- nodes: keep every slot, in slot order ---
  std::vector<NodeConfig> slots = current.nodes;
  std::vector<bool> matched(freshNodes.size(), false);
  for (NodeConfig& slot : slots) {
    auto it = std::find_if(freshNodes.begin(), freshNodes.end(), [&](const NodeConfig& n) {
      return sameAddress(n, slot) && !matched[static_cast<std::size_t>(&n - freshNodes.data())];
    });
    if (it == freshNodes.end()) {
      if (!slot.retired) changes.push_back("node " + slot.name + " removed");
      slot.retired = true;
      continue;
    }
    matched[static_cast<std::size_t>(it - freshNodes.begin())] = true;
    if (slot.retired) {
      changes.push_back("node " + slot.name + " added back");
    } else {
      if (slot.weight != it->weight)
        changes.push_back("node " + slot.name + " weight: " + std::to_string(slot.weight) + " -> " +
                          std::to_string(it->weight));
      if (slot.role != it->role)
        changes.push_back("node " + slot.name + " role: " + toString(slot.role) + " -> " +
                          toString(it->role));
      if (slot.cluster != it->cluster)
        changes.push_back("node " + slot.name + " moved to cluster " +
                          next->clusters[it->cluster].name);
    }
    slot = *it;
    slot.retired = false;
  }
  for (std::size_t i = 0; i < freshNodes.size(); ++i) {
    if (matched[i]) continue;
    const NodeConfig& n = freshNodes[i];
    changes.push_back("node " + n.name + " added (" + n.host + ":" + std::to_string(n.port) + ")");
    slots.push_back(n);
  }
  if (slots.size() > kMaxNodeSlots) {
    plan.error = "too many node changes since start (" + std::to_string(slots.size()) +
                 " node slots, at most " + std::to_string(kMaxNodeSlots) +
                 "): restart pgsplit to apply this file";
    return plan;
  }
  next->nodes = std::move(slots);

  // --- what a running process cannot change: keep the running value ---
  ServerConfig& s = next->server;
  const ServerConfig& was = current.server;
  if (s.listenHost != was.listenHost || s.listenPort != was.listenPort) {
    plan.needRestart.push_back("[server] listen (" + listenText(was.listenHost, was.listenPort) +
                               " -> " + listenText(s.listenHost, s.listenPort) + ")");
    s.listenHost = was.listenHost;
    s.listenPort = was.listenPort;
  }
  if (s.httpListenHost != was.httpListenHost || s.httpListenPort != was.httpListenPort) {
    plan.needRestart.push_back("[server] http_listen (" +
                               listenText(was.httpListenHost, was.httpListenPort) + " -> " +
                               listenText(s.httpListenHost, s.httpListenPort) + ")");
    s.httpListenHost = was.httpListenHost;
    s.httpListenPort = was.httpListenPort;
  }
  if (s.workers != was.workers) {
    plan.needRestart.push_back("[server] workers (" + std::to_string(was.workers) + " -> " +
                               std::to_string(s.workers) + ")");
    s.workers = was.workers;
  }
  if (next->log.format != current.log.format) {
    plan.needRestart.push_back(std::string("[log] format (") + toString(current.log.format) +
                               " -> " + toString(next->log.format) + ")");
    next->log.format = current.log.format;
  }

  // --- what applies to new logins and new units of work ---
  if (s.authMethod != was.authMethod)
    changes.push_back(std::string("auth_method: ") + toString(was.authMethod) + " -> " +
                      toString(s.authMethod));
  noteChange(changes, "max_message_size (new clients)", was.maxMessageSize, s.maxMessageSize);
  noteChange(changes, "startup_timeout_ms", was.startupTimeoutMs, s.startupTimeoutMs);
  noteChange(changes, "max_client_connections", was.maxClientConnections, s.maxClientConnections);
  noteChange(changes, "shutdown_timeout_ms", was.shutdownTimeoutMs, s.shutdownTimeoutMs);
  const PoolConfig& p = next->pool;
  const PoolConfig& wasPool = current.pool;
  if (p.mode != wasPool.mode)
    changes.push_back(std::string("pool mode (new clients): ") + toString(wasPool.mode) + " -> " +
                      toString(p.mode));
  noteChange(changes, "max_server_connections", wasPool.maxServerConnections,
             p.maxServerConnections);
  noteChange(changes, "connect_timeout_ms", wasPool.connectTimeoutMs, p.connectTimeoutMs);
  noteChange(changes, "checkout_timeout_ms", wasPool.checkoutTimeoutMs, p.checkoutTimeoutMs);
  noteChange(changes, "max_prepared_statements (new server connections)",
             wasPool.maxPreparedStatements, p.maxPreparedStatements);
  noteChange(changes, "min_idle", wasPool.minIdle, p.minIdle);
  noteChange(changes, "idle_timeout_ms", wasPool.idleTimeoutMs, p.idleTimeoutMs);
  noteChange(changes, "server_lifetime_ms", wasPool.serverLifetimeMs, p.serverLifetimeMs);
  noteChange(changes, "idle_in_transaction_timeout_ms (new clients)",
             wasPool.idleInTransactionTimeoutMs, p.idleInTransactionTimeoutMs);
  noteText(changes, "log level", current.log.level, next->log.level);
  noteChange(changes, "[log] slow_statement_ms", current.log.slowStatementMs,
             next->log.slowStatementMs);
  noteChange(changes, "[admin] pause_timeout_ms", current.admin.pauseTimeoutMs,
             next->admin.pauseTimeoutMs);

  for (const UserConfig& u : fresh.users) {
    const UserConfig* old = current.findUser(u.name);
    if (old == nullptr)
      changes.push_back("user " + u.name + " added");
    else if (old->password != u.password)
      changes.push_back("user " + u.name + ": password changed");
    if (old != nullptr &&
        (old->poolMode != u.poolMode || old->maxServerConnections != u.maxServerConnections ||
         old->idleInTransactionTimeoutMs != u.idleInTransactionTimeoutMs))
      changes.push_back("user " + u.name + ": pool settings changed");
  }
  for (const UserConfig& u : current.users)
    if (fresh.findUser(u.name) == nullptr)
      changes.push_back("user " + u.name + " removed (connected clients stay)");
  if (fresh.admin.users != current.admin.users) changes.push_back("[admin] users changed");

  // [health] and [routing]: the health monitor and the catalog lookups are rebuilt with them.
  const HealthConfig& h = next->health;
  noteChange(changes, "[health] interval_ms", current.health.intervalMs, h.intervalMs);
  noteChange(changes, "[health] timeout_ms", current.health.timeoutMs, h.timeoutMs);
  noteText(changes, "[health] user", current.healthUser(), next->healthUser());
  if (current.healthPassword() != next->healthPassword())
    changes.push_back("[health] password changed");
  noteText(changes, "[health] database", current.health.database, h.database);
  const ConsistencyConfig& c = next->consistency;
  if (c.readYourWrites != current.consistency.readYourWrites)
    changes.push_back(std::string("[consistency] read_your_writes: ") +
                      toString(current.consistency.readYourWrites) + " -> " +
                      toString(c.readYourWrites));
  noteChange(changes, "[consistency] window_ms", current.consistency.windowMs, c.windowMs);
  noteChange(changes, "[consistency] max_replica_lag_bytes", current.consistency.maxReplicaLagBytes,
             c.maxReplicaLagBytes);
  noteChange(changes, "[consistency] max_replica_lag_ms", current.consistency.maxReplicaLagMs,
             c.maxReplicaLagMs);
  if (c.reportWriteLsn != current.consistency.reportWriteLsn)
    changes.push_back(std::string("[consistency] report_write_lsn: ") +
                      (current.consistency.reportWriteLsn ? "true" : "false") + " -> " +
                      (c.reportWriteLsn ? "true" : "false"));
  RoutingConfig& r = next->routing;
  if (r.writeFunctions != current.routing.writeFunctions)
    changes.push_back("[routing] write_functions changed");
  if (r.readOnlyFunctions != current.routing.readOnlyFunctions)
    changes.push_back("[routing] read_only_functions changed");
  noteChange(changes, "[routing] catalog_timeout_ms", current.routing.catalogTimeoutMs,
             r.catalogTimeoutMs);
  noteChange(changes, "[routing] catalog_refresh_interval_ms",
             current.routing.catalogRefreshIntervalMs, r.catalogRefreshIntervalMs);
  if (r.classificationCacheEntries != current.routing.classificationCacheEntries) {
    plan.needRestart.push_back("[routing] classification_cache_entries (" +
                               std::to_string(current.routing.classificationCacheEntries) + " -> " +
                               std::to_string(r.classificationCacheEntries) + ")");
    r.classificationCacheEntries = current.routing.classificationCacheEntries;
  }
  if (r.catalogLookups != current.routing.catalogLookups) {
    plan.needRestart.push_back(std::string("[routing] catalog_lookups (") +
                               (current.routing.catalogLookups ? "true" : "false") + " -> " +
                               (r.catalogLookups ? "true" : "false") + ")");
    r.catalogLookups = current.routing.catalogLookups;
  }

  plan.config = std::move(next);
  return plan;
}

}  // namespace pgsplit::config
