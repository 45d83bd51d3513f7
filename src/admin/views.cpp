#include "pgsplit/admin/views.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <map>
#include <tuple>

namespace pgsplit::admin {
namespace {

using protocol::kOidBool;
using protocol::kOidInt8;
using protocol::kOidText;
using Row = std::vector<std::optional<std::string>>;

std::optional<std::string> num(std::uint64_t v) {
  return std::to_string(v);
}
std::optional<std::string> signedOrNull(std::int64_t v) {
  if (v < 0) return std::nullopt;
  return std::to_string(v);
}
std::optional<std::string> boolean(bool b) {
  return std::string(b ? "t" : "f");
}

std::string listenText(const std::string& host, std::uint16_t port) {
  if (host.empty()) return "";
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

const char* txnText(char status) {
  if (status == 'T') return "in transaction";
  if (status == 'E') return "failed transaction";
  return "idle";
}

std::string nodeName(const Overview& o, std::size_t node) {
  if (node < o.config->nodes.size()) return o.config->nodes[node].name;
  return "#" + std::to_string(node);
}

std::string millis(std::uint64_t micros) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", static_cast<double>(micros) / 1000.0);
  return buf;
}

std::string secondsAsMillis(double seconds) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", seconds * 1000.0);
  return buf;
}

// Mean and p99 (estimated from the histogram's buckets) in ms; NULL without observations.
std::optional<std::string> meanMs(const session::LatencySummary& s) {
  if (s.count() == 0) return std::nullopt;
  return secondsAsMillis(s.meanSeconds());
}
std::optional<std::string> p99Ms(const session::LatencySummary& s) {
  if (s.count() == 0) return std::nullopt;
  return secondsAsMillis(s.quantileSeconds(0.99));
}

// Slots shown to operators: those still in the configuration.
std::vector<std::size_t> shownNodes(const Overview& o) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < o.config->nodes.size() && i < o.nodes->nodes.size(); ++i)
    if (!o.config->nodes[i].retired) out.push_back(i);
  return out;
}

}  // namespace

std::string isoTime(std::chrono::system_clock::time_point t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string jsonString(std::string_view s) {
  std::string out = "\"";
  out.reserve(s.size() + 2);
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    if (c < 0x20 || c == 0x7f) {
      char buf[8];
      if (c == '\n')
        out += "\\n";
      else if (c == '\t')
        out += "\\t";
      else if (c == '\r')
        out += "\\r";
      else {
        std::snprintf(buf, sizeof buf, "\\u%04x", c);
        out += buf;
      }
      ++i;
      continue;
    }
    if (c < 0x80) {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    // Copy a well-formed UTF-8 sequence as is; escape a stray byte as U+FFFD.
    std::size_t len = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
    if (c >= 0xf5) len = 0;
    bool ok = len > 0 && i + len <= s.size();
    for (std::size_t k = 1; ok && k < len; ++k)
      ok = (static_cast<unsigned char>(s[i + k]) & 0xc0) == 0x80;
    if (ok && len == 3) {
      const auto c1 = static_cast<unsigned char>(s[i + 1]);
      ok = !(c == 0xe0 && c1 < 0xa0) && !(c == 0xed && c1 >= 0xa0);  // overlong, surrogates
    }
    if (ok && len == 4) {
      const auto c1 = static_cast<unsigned char>(s[i + 1]);
      ok = !(c == 0xf0 && c1 < 0x90) && !(c == 0xf4 && c1 >= 0x90);
    }
    if (ok) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out += "\\ufffd";
      ++i;
    }
  }
  out += '"';
  return out;
}

void writeTable(std::string& out, const Table& t, std::string_view tag) {
  protocol::writeRowDescription(out, t.columns);
  for (const auto& row : t.rows)
    protocol::writeDataRow(out, row);
  std::string complete(tag);
  if (tag == "SHOW" || tag == "SELECT") complete += " " + std::to_string(t.rows.size());
  protocol::writeCommandComplete(out, complete);
}

namespace {
// The [[clusters]] entry a node belongs to ("default" without [[clusters]] in the file).
std::string nodeClusterName(const Overview& o, std::size_t node) {
  const std::size_t c = o.config->nodes[node].cluster;
  return c < o.config->clusters.size() ? o.config->clusters[c].name : std::string();
}
}  // namespace

Table showNodes(const Overview& o) {
  Table t;
  t.columns = {{"name"},
               {"host"},
               {"port", kOidInt8},
               {"role"},
               {"configured_role"},
               {"state"},
               {"weight", kOidInt8},
               {"wal_lsn"},
               {"lag_bytes", kOidInt8},
               {"lag_ms", kOidInt8},
               {"server_connections", kOidInt8},
               {"queries_as_primary", kOidInt8},
               {"queries_as_replica", kOidInt8},
               {"errors", kOidInt8},
               {"cluster"}};
  for (std::size_t i : shownNodes(o)) {
    const auto& c = o.config->nodes[i];
    const auto& n = o.nodes->nodes[i];
    const auto& tot = o.nodeTotals[i];
    t.rows.push_back({c.name, c.host, num(c.port), std::string(routing::toString(n.role)),
                      std::string(config::toString(c.role)), std::string(nodeState(o, i)),
                      num(c.weight),
                      n.lsn ? std::optional<std::string>(routing::lsnText(n.lsn)) : std::nullopt,
                      signedOrNull(lagBytes(o, i)), signedOrNull(lagMs(o, i)),
                      num(tot.serverConnections), num(tot.unitsAsPrimary), num(tot.unitsAsReplica),
                      num(tot.serverErrors), nodeClusterName(o, i)});
  }
  return t;
}

Table showPools(const Overview& o) {
  struct Sum {
    std::uint64_t open = 0, idle = 0, waiting = 0, max = 0, waits = 0, waitMicros = 0, timeouts = 0;
  };
  std::map<std::tuple<std::size_t, std::string, std::string>, Sum> pools;
  for (const auto& w : o.workers) {
    for (const auto& p : w.pools) {
      if (p.node < o.config->nodes.size() && o.config->nodes[p.node].retired && p.open == 0)
        continue;
      Sum& s = pools[{p.node, p.database, p.user}];
      s.open += p.open;
      s.idle += p.idle;
      s.waiting += p.waiting;
      s.waits += p.waits;
      s.waitMicros += p.waitMicros;
      s.timeouts += p.timeouts;
      s.max = std::max<std::uint64_t>(s.max, p.max);  // one shared limit, reported by each
    }
  }
  Table t;
  t.columns = {{"node"},
               {"database"},
               {"user"},
               {"server_connections", kOidInt8},
               {"in_use", kOidInt8},
               {"idle", kOidInt8},
               {"waiting_clients", kOidInt8},
               {"max_connections", kOidInt8},
               {"waits", kOidInt8},
               {"wait_ms"},
               {"timeouts", kOidInt8}};
  for (const auto& [key, s] : pools) {
    const auto& [node, database, user] = key;
    // The limit is per node, database and user, for the whole process (per-user overrides).
    t.rows.push_back({nodeName(o, node), database, user, num(s.open), num(s.open - s.idle),
                      num(s.idle), num(s.waiting), num(s.max), num(s.waits), millis(s.waitMicros),
                      num(s.timeouts)});
  }
  return t;
}

Table showClients(const Overview& o) {
  Table t;
  t.columns = {{"id", kOidInt8},
               {"worker", kOidInt8},
               {"address"},
               {"user"},
               {"database"},
               {"application_name"},
               {"state"},
               {"transaction"},
               {"busy", kOidBool},
               {"pinned", kOidBool},
               {"pin_reason"},
               {"node"},
               {"server_pid", kOidInt8},
               {"connected_at"},
               {"paused", kOidBool}};
  std::vector<const session::ClientInfo*> clients;
  for (const auto& w : o.workers)
    for (const auto& c : w.clients)
      clients.push_back(&c);
  std::sort(clients.begin(), clients.end(), [](auto* a, auto* b) { return a->id < b->id; });
  for (const auto* c : clients) {
    std::optional<std::string> node, pid;
    if (!c->backends.empty()) {  // the active one comes first
      node = nodeName(o, c->backends.front().node);
      pid = num(c->backends.front().pid);
    }
    t.rows.push_back({num(c->id), num(c->worker), c->peer, c->user, c->database, c->application,
                      std::string(c->state), std::string(txnText(c->txnStatus)), boolean(c->busy),
                      boolean(c->pinned),
                      c->pinReason.empty() ? std::nullopt : std::optional(c->pinReason), node, pid,
                      isoTime(c->connectedAt), boolean(c->paused)});
  }
  return t;
}

Table showServers(const Overview& o) {
  Table t;
  t.columns = {{"node"},
               {"database"},
               {"user"},
               {"worker", kOidInt8},
               {"pid", kOidInt8},
               {"state"},
               {"client_id", kOidInt8},
               {"transaction"},
               {"idle_ms", kOidInt8}};
  for (const auto& w : o.workers) {
    for (const auto& c : w.clients) {
      for (const auto& b : c.backends) {
        t.rows.push_back({nodeName(o, b.node), c.database, c.user, num(w.worker), num(b.pid),
                          std::string(b.active ? "active" : "held"), num(c.id),
                          std::string(txnText(b.txnStatus)), std::nullopt});
      }
    }
    for (const auto& p : w.pools) {
      for (const auto& s : p.idleServers) {
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(s.idleFor).count();
        t.rows.push_back({nodeName(o, p.node), p.database, p.user, num(w.worker), num(s.pid),
                          std::string("idle"), std::nullopt, std::string("idle"),
                          num(static_cast<std::uint64_t>(std::max<std::int64_t>(0, ms)))});
      }
    }
  }
  return t;
}

Table showStats(const Overview& o) {
  Table t;
  t.columns = {{"node"},
               {"role"},
               {"queries_as_primary", kOidInt8},
               {"queries_as_replica", kOidInt8},
               {"errors", kOidInt8},
               {"pool_waits", kOidInt8},
               {"pool_wait_ms"},
               {"pool_timeouts", kOidInt8},
               {"server_connects", kOidInt8},
               {"server_connect_failures", kOidInt8},
               {"errors_as_primary", kOidInt8},
               {"errors_as_replica", kOidInt8},
               {"avg_ms_as_primary"},
               {"p99_ms_as_primary"},
               {"avg_ms_as_replica"},
               {"p99_ms_as_replica"},
               {"pool_wait_p99_ms"}};
  auto row = [&t](std::optional<std::string> name, std::optional<std::string> role,
                  const NodeTotals& n) {
    t.rows.push_back({std::move(name), std::move(role), num(n.unitsAsPrimary),
                      num(n.unitsAsReplica), num(n.serverErrors), num(n.poolWaits),
                      millis(n.poolWaitMicros), num(n.poolTimeouts), num(n.connects),
                      num(n.connectFailures), num(n.errorsAsPrimary), num(n.errorsAsReplica),
                      meanMs(n.latencyAsPrimary), p99Ms(n.latencyAsPrimary),
                      meanMs(n.latencyAsReplica), p99Ms(n.latencyAsReplica), p99Ms(n.poolWait)});
  };
  for (std::size_t i : shownNodes(o))
    row(o.config->nodes[i].name, std::string(routing::toString(o.nodes->nodes[i].role)),
        o.nodeTotals[i]);
  // Retired nodes count in the total too: it is everything since start.
  NodeTotals all;
  for (const auto& n : o.nodeTotals) {
    all.unitsAsPrimary += n.unitsAsPrimary;
    all.unitsAsReplica += n.unitsAsReplica;
    all.serverErrors += n.serverErrors;
    all.errorsAsPrimary += n.errorsAsPrimary;
    all.errorsAsReplica += n.errorsAsReplica;
    all.poolWaits += n.poolWaits;
    all.poolWaitMicros += n.poolWaitMicros;
    all.poolTimeouts += n.poolTimeouts;
    all.connects += n.connects;
    all.connectFailures += n.connectFailures;
    all.latencyAsPrimary.add(n.latencyAsPrimary);
    all.latencyAsReplica.add(n.latencyAsReplica);
    all.poolWait.add(n.poolWait);
  }
  row(std::string("(total)"), std::nullopt, all);
  return t;
}

Table showQueries(const std::vector<std::vector<session::QueryStatsRow>>& perWorker) {
  std::vector<session::QueryStatsRow> merged;
  std::map<std::uint64_t, std::size_t> byKey;
  for (const auto& rows : perWorker) {
    for (const auto& r : rows) {
      auto [it, fresh] = byKey.emplace(r.key, merged.size());
      if (fresh) {
        merged.push_back(r);
        continue;
      }
      session::QueryStatsRow& m = merged[it->second];
      m.calls += r.calls;
      m.totalNanos += r.totalNanos;
      m.asPrimary += r.asPrimary;
      m.asReplica += r.asReplica;
    }
  }
  std::sort(merged.begin(), merged.end(), [](const auto& a, const auto& b) {
    return a.totalNanos != b.totalNanos ? a.totalNanos > b.totalNanos : a.calls > b.calls;
  });
  Table t;
  t.columns = {{"query"},   {"calls", kOidInt8},   {"total_ms"},
               {"mean_ms"}, {"primary", kOidInt8}, {"replica", kOidInt8}};
  for (const auto& r : merged) {
    const double total = static_cast<double>(r.totalNanos) / 1e9;
    t.rows.push_back({r.text, num(r.calls), secondsAsMillis(total),
                      secondsAsMillis(total / static_cast<double>(r.calls)), num(r.asPrimary),
                      num(r.asReplica)});
  }
  return t;
}

Table showConfig(const Overview& o) {
  Table t;
  t.columns = {{"key"}, {"value"}};
  const auto& c = *o.config;
  auto row = [&t](std::string key, std::string value) {
    t.rows.push_back({std::move(key), std::move(value)});
  };
  row("file", c.path);
  row("generation", std::to_string(o.generation));
  row("server.listen", listenText(c.server.listenHost, c.server.listenPort));
  row("server.http_listen", listenText(c.server.httpListenHost, c.server.httpListenPort));
  row("server.workers", std::to_string(c.server.workers));
  row("server.auth_method", config::toString(c.server.authMethod));
  row("server.max_message_size", std::to_string(c.server.maxMessageSize));
  row("server.startup_timeout_ms", std::to_string(c.server.startupTimeoutMs));
  row("server.max_client_connections", std::to_string(c.server.maxClientConnections));
  row("server.shutdown_timeout_ms", std::to_string(c.server.shutdownTimeoutMs));
  row("pool.mode", config::toString(c.pool.mode));
  row("pool.max_server_connections", std::to_string(c.pool.maxServerConnections));
  row("pool.connect_timeout_ms", std::to_string(c.pool.connectTimeoutMs));
  row("pool.checkout_timeout_ms", std::to_string(c.pool.checkoutTimeoutMs));
  row("pool.max_prepared_statements", std::to_string(c.pool.maxPreparedStatements));
  row("pool.min_idle", std::to_string(c.pool.minIdle));
  row("pool.idle_timeout_ms", std::to_string(c.pool.idleTimeoutMs));
  row("pool.server_lifetime_ms", std::to_string(c.pool.serverLifetimeMs));
  row("pool.idle_in_transaction_timeout_ms", std::to_string(c.pool.idleInTransactionTimeoutMs));
  for (const auto& n : c.nodes) {
    if (n.retired) continue;
    row("nodes." + n.name, listenText(n.host, n.port) + " role=" + config::toString(n.role) +
                               " weight=" + std::to_string(n.weight) +
                               (n.minIdle ? " min_idle=" + std::to_string(*n.minIdle) : ""));
  }
  for (const auto& u : c.users) {
    std::string where;
    if (u.passwordSource == config::SecretSource::Environment)
      where = "password from environment variable " + u.passwordOrigin;
    else if (u.passwordSource == config::SecretSource::File)
      where = "password from file " + u.passwordOrigin;
    else
      where = "password in the configuration file";
    std::string pool;
    if (u.poolMode) pool += std::string(" pool_mode=") + config::toString(*u.poolMode);
    if (u.maxServerConnections)
      pool += " max_server_connections=" + std::to_string(*u.maxServerConnections);
    if (u.idleInTransactionTimeoutMs)
      pool += " idle_in_transaction_timeout_ms=" + std::to_string(*u.idleInTransactionTimeoutMs);
    row("users." + u.name, where + (c.isAdmin(u.name) ? " (admin)" : "") + pool);
  }
  row("log.level", c.log.level);
  row("log.format", config::toString(c.log.format));
  row("log.slow_statement_ms", std::to_string(c.log.slowStatementMs));
  row("admin.pause_timeout_ms", std::to_string(c.admin.pauseTimeoutMs));

  return t;
}

Table showVersion(const Overview& o) {
  Table t;
  t.columns = {{"version"}};
  t.rows.push_back({"pgsplit " + o.version});
  return t;
}

Table showHelp() {
  Table t;
  t.columns = {{"command"}, {"description"}};
  const std::pair<const char*, const char*> commands[] = {
      {"SHOW NODES", "nodes: role, state, WAL position, lag, connections, queries served"},
      {"SHOW POOLS", "server connection pools per node, database and user"},
      {"SHOW CLIENTS", "client connections"},
      {"SHOW SERVERS", "server connections (in use, held, idle)"},
      {"SHOW STATS", "queries, errors, latency (mean, p99) and pool waits per node and route"},
      {"SHOW QUERIES", "statements by normalised text: calls, time, routes"},
      {"SHOW CONFIG", "the configuration in force (no passwords)"},
      {"SHOW VERSION", "pgsplit's version"},
      {"SHOW RULES", "routing rules in order: conditions, action, hits, last hit"},
      {"SHOW CLUSTERS", "clusters: the databases they serve, their nodes and primary"},
      {"RELOAD", "re-read the configuration file (as SIGHUP)"},
      {"PAUSE [db]", "hold new units of work once those in flight are done, until RESUME"},
      {"RESUME [db]", "let held units of work go"},
      {"SHUTDOWN", "drain and exit (as SIGTERM)"},
  };
  for (const auto& [cmd, what] : commands)
    t.rows.push_back({std::string(cmd), std::string(what)});
  return t;
}

std::string nodesJson(const Overview& o) {
  std::string out = "[";
  bool first = true;
  for (std::size_t i : shownNodes(o)) {
    const auto& c = o.config->nodes[i];
    const auto& n = o.nodes->nodes[i];
    const auto& tot = o.nodeTotals[i];
    if (!first) out += ",";
    first = false;
    const std::int64_t lag = lagBytes(o, i);
    const std::int64_t lagMillis = lagMs(o, i);
    out += "\n  {\"name\":" + jsonString(c.name) + ",\"host\":" + jsonString(c.host) +
           ",\"port\":" + std::to_string(c.port) +
           ",\"role\":" + jsonString(routing::toString(n.role)) +
           ",\"configured_role\":" + jsonString(config::toString(c.role)) +
           ",\"state\":" + jsonString(nodeState(o, i)) + ",\"up\":" + (n.up ? "true" : "false") +
           ",\"weight\":" + std::to_string(c.weight) +
           ",\"wal_lsn\":" + (n.lsn ? jsonString(routing::lsnText(n.lsn)) : std::string("null")) +
           ",\"lag_bytes\":" + (lag >= 0 ? std::to_string(lag) : std::string("null")) +
           ",\"lag_ms\":" + (lagMillis >= 0 ? std::to_string(lagMillis) : std::string("null")) +
           ",\"server_connections\":" + std::to_string(tot.serverConnections) +
           ",\"queries_as_primary\":" + std::to_string(tot.unitsAsPrimary) +
           ",\"queries_as_replica\":" + std::to_string(tot.unitsAsReplica) +
           ",\"errors\":" + std::to_string(tot.serverErrors) +
           ",\"cluster\":" + jsonString(nodeClusterName(o, i)) + "}";
  }
  out += first ? "]\n" : "\n]\n";
  return out;
}

}  // namespace pgsplit::admin
