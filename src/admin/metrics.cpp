#include "pgsplit/admin/metrics.hpp"

#include <array>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

namespace pgsplit::admin {
namespace {

struct Family {
  std::string_view name;
  std::string_view type;
  std::string_view help;
};

// Order of appearance in the output.
constexpr std::array kFamilies{
    Family{"pgsplit_info", "gauge", "Always 1; the version as a label."},
    Family{"pgsplit_start_time_seconds", "gauge", "When the process started (Unix time)."},
    Family{"pgsplit_ready", "gauge", "1 when /readyz says ready."},
    Family{"pgsplit_draining", "gauge", "1 while shutting down (SIGTERM or SHUTDOWN)."},
    Family{"pgsplit_workers", "gauge", "Worker threads."},
    Family{"pgsplit_config_generation", "gauge",
           "Configuration in force: 1 at start, +1 per applied reload."},
    Family{"pgsplit_reloads_total", "counter", "Reloads (SIGHUP or RELOAD) by result."},
    Family{"pgsplit_last_reload_success", "gauge",
           "1 if the last reload was applied (or none happened), 0 if it was rejected."},
    Family{"pgsplit_last_reload_timestamp_seconds", "gauge",
           "When the last reload was attempted (Unix time; 0 = never)."},
    Family{"pgsplit_client_connections", "gauge",
           "Client connections by state: startup (logging in), idle, active (a transaction "
           "open or replies outstanding)."},
    Family{"pgsplit_client_connections_accepted_total", "counter", "Client connections accepted."},
    Family{"pgsplit_admin_connections", "gauge", "Admin console connections."},
    Family{"pgsplit_pinned_sessions", "gauge",
           "Client sessions pinned to the primary (LISTEN, temporary tables, ...)."},
    Family{"pgsplit_session_pins_total", "counter", "Times a session became pinned."},
    Family{"pgsplit_paused", "gauge",
           "1 while a PAUSE is in force (for every database or some), 0 otherwise."},
    Family{"pgsplit_paused_clients", "gauge", "Clients whose next unit of work waits for RESUME."},
    Family{"pgsplit_queries_total", "counter",
           "Units of work (a Simple Query, or an extended-protocol batch up to Sync or Flush) "
           "sent to a node, by the node's role when sent (route)."},
    Family{"pgsplit_query_duration_seconds", "histogram",
           "Units of work ending in ReadyForQuery, from being written to the node until that "
           "ReadyForQuery was written to the client, by the node's role when sent (route)."},
    Family{"pgsplit_errors_total", "counter",
           "ErrorResponses sent to clients by SQLSTATE class; source=server (relayed from "
           "PostgreSQL) or proxy (raised by pgsplit)."},
    Family{"pgsplit_server_errors_total", "counter", "ErrorResponses relayed from each node."},
    Family{"pgsplit_server_connections", "gauge",
           "Server connections per node: in_use (checked out or connecting) or idle."},
    Family{"pgsplit_server_connects_total", "counter", "Server connections opened (logins)."},
    Family{"pgsplit_server_connect_failures_total", "counter",
           "Server connection attempts that failed."},
    Family{"pgsplit_server_connection_resets_total", "counter",
           "Server connections reset (ROLLBACK, DISCARD ALL) after their client left, and reused."},
    Family{"pgsplit_server_connection_closes_total", "counter",
           "Server connections pgsplit closed by the pool's own rules: reason=idle_timeout "
           "(idle_timeout_ms), lifetime (server_lifetime_ms), reset_failed (the reset after a "
           "client left failed)."},
    Family{"pgsplit_server_connection_handovers_total", "counter",
           "Idle server connections moved from one worker thread to another's waiting client "
           "(the socket changes event loop; no new login)."},
    Family{"pgsplit_pool_waits_total", "counter",
           "Checkouts that had to wait for a server connection."},
    Family{"pgsplit_pool_wait_seconds_total", "counter",
           "Time clients spent waiting for a server connection."},
    Family{"pgsplit_pool_wait_duration_seconds", "histogram",
           "Checkouts of a server connection that got one, from asking the pool until having "
           "it (an idle one at once, a new one after its login, or after waiting in line)."},
    Family{"pgsplit_pool_timeouts_total", "counter",
           "Waits for a server connection that ran out (the client got 53300)."},
    Family{"pgsplit_pool_waiting_clients", "gauge", "Clients waiting for a server connection now."},
    Family{"pgsplit_node_up", "gauge", "1 if the node passes its health checks."},
    Family{"pgsplit_node_is_primary", "gauge", "1 if the node is the primary."},
    Family{"pgsplit_node_weight", "gauge", "Configured read weight of the node."},
    Family{"pgsplit_replica_lag_bytes", "gauge",
           "WAL bytes a replica has not replayed, from the health checks' positions (only "
           "when known)."},
    Family{"pgsplit_replica_lag_seconds", "gauge",
           "How long a replica has been behind the primary's position, from the health checks "
           "(only when known)."},
    Family{"pgsplit_read_retries_total", "counter",
           "Autocommit reads sent again to the primary before any reply reached the client: "
           "reason=safety_net (a replica refused it as a write, 25006) or connection (the "
           "replica connection failed)."},
    Family{"pgsplit_ignored_replica_hints_total", "counter",
           "/* pgsplit:replica */ hints on statements that need the primary (ignored)."},
    Family{"pgsplit_classifier_cache_hits_total", "counter",
           "Statements classified from the per-worker cache: the same text was seen before."},
    Family{"pgsplit_classifier_cache_shape_hits_total", "counter",
           "Statements classified from a cached text of the same shape with other literals "
           "(pgbench -S style): lexed once, not analysed."},
    Family{"pgsplit_classifier_cache_misses_total", "counter",
           "Statements analysed: neither their text nor their shape was cached."},
    Family{"pgsplit_classifier_cache_evictions_total", "counter",
           "Entries pushed out of the classifier caches: cache=text or shape."},
    Family{"pgsplit_rule_hits_total", "counter",
           "Units of work a routing rule decided (routed, or refused by a block rule)."},
    Family{"pgsplit_rule_writes_kept_on_primary_total", "counter",
           "Units a rule sent to a replica that were not reads: kept on the primary."},
    Family{"pgsplit_rule_last_hit_timestamp_seconds", "gauge",
           "When a routing rule last decided a unit of work (Unix time; 0 = never)."},
};

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}

  void family(std::string_view name) {
    for (const Family& f : kFamilies) {
      if (f.name != name) continue;
      out_ += "# HELP ";
      out_ += f.name;
      out_ += ' ';
      out_ += f.help;
      out_ += "\n# TYPE ";
      out_ += f.name;
      out_ += ' ';
      out_ += f.type;
      out_ += '\n';
      return;
    }
  }

  // A histogram's _bucket (at the exported bounds), _sum and _count samples; `labels` as for
  // sample(), without "le".
  void histogram(std::string_view name, std::initializer_list<std::string_view> labels,
                 const session::LatencySummary& h) {
    const std::string bucket = std::string(name) + "_bucket";
    std::vector<std::string_view> withLe(labels);
    withLe.push_back("le");
    withLe.push_back("");
    for (const std::size_t b : session::kExportedLatencyBounds) {
      const std::string le = secondsText(session::kLatencyBounds[b]);
      withLe.back() = le;
      sampleWith(bucket, withLe, static_cast<double>(h.cumulative(b)));
    }
    withLe.back() = "+Inf";
    sampleWith(bucket, withLe, static_cast<double>(h.count()));
    sample(std::string(name) + "_sum", labels, h.sumSeconds());
    sample(std::string(name) + "_count", labels, static_cast<double>(h.count()));
  }

  // labels: alternating name, value.
  void sample(std::string_view name, std::initializer_list<std::string_view> labels, double value) {
    sampleWith(name, std::vector<std::string_view>(labels), value);
  }

 private:
  // "0.000025", "1", "100": nanoseconds as seconds, without trailing zeros.
  static std::string secondsText(std::uint64_t nanos) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.9f", static_cast<double>(nanos) / 1e9);
    std::string s = buf;
    while (s.back() == '0')
      s.pop_back();
    if (s.back() == '.') s.pop_back();
    return s;
  }

  void sampleWith(std::string_view name, const std::vector<std::string_view>& labels,
                  double value) {
    out_ += name;
    if (labels.size() > 0) {
      out_ += '{';
      bool first = true;
      for (auto it = labels.begin(); it != labels.end() && it + 1 != labels.end(); it += 2) {
        if (!first) out_ += ',';
        first = false;
        out_ += *it;
        out_ += "=\"";
        out_ += escapeLabelValue(*(it + 1));
        out_ += '"';
      }
      out_ += '}';
    }
    out_ += ' ';
    char buf[64];
    const double rounded = static_cast<double>(static_cast<std::int64_t>(value));
    if (rounded == value && value < 9e15 && value > -9e15)
      std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(value));
    else
      std::snprintf(buf, sizeof buf, "%.6f", value);
    out_ += buf;
    out_ += '\n';
  }

  std::string& out_;
};

double unixSeconds(std::chrono::system_clock::time_point t) {
  return static_cast<double>(
      std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count());
}

}  // namespace

std::string escapeLabelValue(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::vector<std::string_view> metricNames() {
  std::vector<std::string_view> names;
  for (const Family& f : kFamilies)
    names.push_back(f.name);
  return names;
}

std::string renderMetrics(const Overview& o) {
  std::string out;
  out.reserve(8192);
  Writer w(out);
  const auto& cfg = *o.config;
  const auto& snap = *o.nodes;
  // Nodes shown: every slot that is not retired.
  std::vector<std::size_t> shown;
  for (std::size_t i = 0; i < cfg.nodes.size() && i < snap.nodes.size(); ++i)
    if (!cfg.nodes[i].retired) shown.push_back(i);

  w.family("pgsplit_info");
  w.sample("pgsplit_info", {"version", o.version}, 1);
  w.family("pgsplit_start_time_seconds");
  w.sample("pgsplit_start_time_seconds", {}, unixSeconds(o.control.startedAt));
  std::string why;
  w.family("pgsplit_ready");
  w.sample("pgsplit_ready", {}, ready(o, why) ? 1 : 0);
  w.family("pgsplit_draining");
  w.sample("pgsplit_draining", {}, o.draining ? 1 : 0);
  w.family("pgsplit_workers");
  w.sample("pgsplit_workers", {}, static_cast<double>(o.workerCount));
  w.family("pgsplit_config_generation");
  w.sample("pgsplit_config_generation", {}, static_cast<double>(o.generation));
  w.family("pgsplit_reloads_total");
  w.sample("pgsplit_reloads_total", {"result", "ok"}, static_cast<double>(o.control.reloads));
  w.sample("pgsplit_reloads_total", {"result", "failed"},
           static_cast<double>(o.control.reloadFailures));
  w.family("pgsplit_last_reload_success");
  w.sample("pgsplit_last_reload_success", {}, o.control.lastReloadOk ? 1 : 0);
  w.family("pgsplit_last_reload_timestamp_seconds");
  w.sample("pgsplit_last_reload_timestamp_seconds", {},
           static_cast<double>(o.control.lastReloadUnix));

  std::uint64_t startup = 0, idle = 0, active = 0, pinned = 0, admins = 0;
  for (const auto& wr : o.workers) {
    admins += wr.adminConnections;
    for (const auto& c : wr.clients) {
      if (std::string_view(c.state) != "ready")
        ++startup;
      else if (c.busy || c.txnStatus != 'I')
        ++active;
      else
        ++idle;
      if (c.pinned) ++pinned;
    }
  }
  w.family("pgsplit_client_connections");
  w.sample("pgsplit_client_connections", {"state", "startup"}, static_cast<double>(startup));
  w.sample("pgsplit_client_connections", {"state", "idle"}, static_cast<double>(idle));
  w.sample("pgsplit_client_connections", {"state", "active"}, static_cast<double>(active));
  w.family("pgsplit_client_connections_accepted_total");
  w.sample("pgsplit_client_connections_accepted_total", {}, static_cast<double>(o.clientsAccepted));
  w.family("pgsplit_admin_connections");
  w.sample("pgsplit_admin_connections", {}, static_cast<double>(admins));
  w.family("pgsplit_pinned_sessions");
  w.sample("pgsplit_pinned_sessions", {}, static_cast<double>(pinned));
  w.family("pgsplit_session_pins_total");
  w.sample("pgsplit_session_pins_total", {}, static_cast<double>(o.sessionsPinned));

  w.family("pgsplit_paused");
  w.sample("pgsplit_paused", {}, o.pause.all || !o.pause.databases.empty() ? 1 : 0);
  w.family("pgsplit_paused_clients");
  w.sample("pgsplit_paused_clients", {}, static_cast<double>(o.pausedClients));

  w.family("pgsplit_queries_total");
  for (std::size_t i : shown) {
    const auto& t = o.nodeTotals[i];
    w.sample("pgsplit_queries_total", {"node", cfg.nodes[i].name, "route", "primary"},
             static_cast<double>(t.unitsAsPrimary));
    w.sample("pgsplit_queries_total", {"node", cfg.nodes[i].name, "route", "replica"},
             static_cast<double>(t.unitsAsReplica));
  }
  w.family("pgsplit_query_duration_seconds");
  for (std::size_t i : shown) {
    const auto& t = o.nodeTotals[i];
    w.histogram("pgsplit_query_duration_seconds", {"node", cfg.nodes[i].name, "route", "primary"},
                t.latencyAsPrimary);
    w.histogram("pgsplit_query_duration_seconds", {"node", cfg.nodes[i].name, "route", "replica"},
                t.latencyAsReplica);
  }
  w.family("pgsplit_errors_total");
  for (std::size_t c = 0; c < session::kSqlstateClasses; ++c) {
    const auto name = session::sqlstateClassName(c);
    const std::string_view cls(name.data(), name.size());
    if (o.serverErrorsByClass[c] > 0)
      w.sample("pgsplit_errors_total", {"source", "server", "class", cls},
               static_cast<double>(o.serverErrorsByClass[c]));
    if (o.proxyErrorsByClass[c] > 0)
      w.sample("pgsplit_errors_total", {"source", "proxy", "class", cls},
               static_cast<double>(o.proxyErrorsByClass[c]));
  }

  auto perNode = [&](std::string_view family, auto value) {
    w.family(family);
    for (std::size_t i : shown)
      w.sample(family, {"node", cfg.nodes[i].name}, value(o.nodeTotals[i]));
  };
  perNode("pgsplit_server_errors_total",
          [](const NodeTotals& t) { return static_cast<double>(t.serverErrors); });
  w.family("pgsplit_server_connections");
  for (std::size_t i : shown) {
    const auto& t = o.nodeTotals[i];
    w.sample("pgsplit_server_connections", {"node", cfg.nodes[i].name, "state", "in_use"},
             static_cast<double>(t.serverConnections - t.idleServerConnections));
    w.sample("pgsplit_server_connections", {"node", cfg.nodes[i].name, "state", "idle"},
             static_cast<double>(t.idleServerConnections));
  }
  perNode("pgsplit_server_connects_total",
          [](const NodeTotals& t) { return static_cast<double>(t.connects); });
  perNode("pgsplit_server_connect_failures_total",
          [](const NodeTotals& t) { return static_cast<double>(t.connectFailures); });
  perNode("pgsplit_server_connection_resets_total",
          [](const NodeTotals& t) { return static_cast<double>(t.resets); });
  w.family("pgsplit_server_connection_closes_total");
  for (std::size_t i : shown) {
    const auto& t = o.nodeTotals[i];
    const std::pair<std::string_view, std::uint64_t> reasons[] = {
        {"idle_timeout", t.idleTimeouts},
        {"lifetime", t.lifetimeCloses},
        {"reset_failed", t.resetFailures}};
    for (const auto& [reason, n] : reasons)
      w.sample("pgsplit_server_connection_closes_total",
               {"node", cfg.nodes[i].name, "reason", reason}, static_cast<double>(n));
  }
  perNode("pgsplit_server_connection_handovers_total",
          [](const NodeTotals& t) { return static_cast<double>(t.handedOver); });
  perNode("pgsplit_pool_waits_total",
          [](const NodeTotals& t) { return static_cast<double>(t.poolWaits); });
  perNode("pgsplit_pool_wait_seconds_total",
          [](const NodeTotals& t) { return static_cast<double>(t.poolWaitMicros) / 1e6; });
  w.family("pgsplit_pool_wait_duration_seconds");
  for (std::size_t i : shown)
    w.histogram("pgsplit_pool_wait_duration_seconds", {"node", cfg.nodes[i].name},
                o.nodeTotals[i].poolWait);
  perNode("pgsplit_pool_timeouts_total",
          [](const NodeTotals& t) { return static_cast<double>(t.poolTimeouts); });
  perNode("pgsplit_pool_waiting_clients",
          [](const NodeTotals& t) { return static_cast<double>(t.waitingClients); });

  w.family("pgsplit_node_up");
  for (std::size_t i : shown)
    w.sample("pgsplit_node_up", {"node", cfg.nodes[i].name}, snap.nodes[i].up ? 1 : 0);
  w.family("pgsplit_node_is_primary");
  for (std::size_t i : shown)
    w.sample("pgsplit_node_is_primary", {"node", cfg.nodes[i].name},
             snap.nodes[i].role == routing::Role::Primary ? 1 : 0);
  w.family("pgsplit_node_weight");
  for (std::size_t i : shown)
    w.sample("pgsplit_node_weight", {"node", cfg.nodes[i].name},
             static_cast<double>(cfg.nodes[i].weight));
  w.family("pgsplit_replica_lag_bytes");
  for (std::size_t i : shown) {
    const std::int64_t lag = lagBytes(o, i);
    if (lag >= 0)
      w.sample("pgsplit_replica_lag_bytes", {"node", cfg.nodes[i].name}, static_cast<double>(lag));
  }
  w.family("pgsplit_replica_lag_seconds");
  for (std::size_t i : shown) {
    const std::int64_t lag = lagMs(o, i);
    if (lag >= 0)
      w.sample("pgsplit_replica_lag_seconds", {"node", cfg.nodes[i].name},
               static_cast<double>(lag) / 1000.0);
  }
  w.family("pgsplit_read_retries_total");
  w.sample("pgsplit_read_retries_total", {"reason", "safety_net"},
           static_cast<double>(o.safetyNetRetries));
  w.sample("pgsplit_read_retries_total", {"reason", "connection"},
           static_cast<double>(o.readRetries));
  w.family("pgsplit_ignored_replica_hints_total");
  w.sample("pgsplit_ignored_replica_hints_total", {}, static_cast<double>(o.ignoredReplicaHints));
  w.family("pgsplit_classifier_cache_hits_total");
  w.sample("pgsplit_classifier_cache_hits_total", {}, static_cast<double>(o.classifier.hits));
  w.family("pgsplit_classifier_cache_shape_hits_total");
  w.sample("pgsplit_classifier_cache_shape_hits_total", {},
           static_cast<double>(o.classifier.shapeHits));
  w.family("pgsplit_classifier_cache_misses_total");
  w.sample("pgsplit_classifier_cache_misses_total", {}, static_cast<double>(o.classifier.misses));
  w.family("pgsplit_classifier_cache_evictions_total");
  w.sample("pgsplit_classifier_cache_evictions_total", {"cache", "text"},
           static_cast<double>(o.classifier.evictions));
  w.sample("pgsplit_classifier_cache_evictions_total", {"cache", "shape"},
           static_cast<double>(o.classifier.shapeEvictions));

  // Routing rules (issue #9): those of the configuration in force, by name.
  auto perRule = [&](std::string_view family, auto value) {
    w.family(family);
    for (const config::RuleConfig& r : cfg.rules) {
      if (r.slot >= o.ruleTotals.size()) continue;
      w.sample(family, {"rule", r.name}, value(o.ruleTotals[r.slot]));
    }
  };
  perRule("pgsplit_rule_hits_total",
          [](const RuleTotals& t) { return static_cast<double>(t.hits); });
  perRule("pgsplit_rule_writes_kept_on_primary_total",
          [](const RuleTotals& t) { return static_cast<double>(t.writesKept); });
  perRule("pgsplit_rule_last_hit_timestamp_seconds",
          [](const RuleTotals& t) { return static_cast<double>(t.lastHitMs / 1000); });
  return out;
}

}  // namespace pgsplit::admin
