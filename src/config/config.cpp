// Loads pgsplit.toml into Config. Every problem found is collected (not just the first) and
// reported as "file:line:column: message", sorted by position. Messages name keys, never values: a
// value may be a password.
#include "pgsplit/config/config.hpp"
#include "pgsplit/config/secrets.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <exception>
#include <map>
#include <memory>
#include <span>
#include <string_view>
#include <utility>

#include "pgsplit/sql/analysis.hpp"
#include "problem.hpp"

namespace pgsplit::config {
namespace {

using namespace std::string_view_literals;

constexpr std::int64_t kMaxTimeoutMs = 24LL * 60 * 60 * 1000;
constexpr std::int64_t kMaxMessageSize = 1LL << 30;  // PostgreSQL's own cap on a message
constexpr std::int64_t kMaxWorkers = 1024;
constexpr std::int64_t kMaxClientConnections = 1'000'000;
constexpr std::int64_t kMaxServerConnections = 10'000;
constexpr std::int64_t kMaxWeight = 10'000;

constexpr std::array kTopLevelKeys{"server"sv,  "pool"sv,     "nodes"sv,  "users"sv,
                                   "routing"sv, "log"sv,      "health"sv, "consistency"sv,
                                   "admin"sv,   "clusters"sv, "rules"sv};
constexpr std::array kServerKeys{"listen"sv,
                                 "workers"sv,
                                 "auth_method"sv,
                                 "max_message_size"sv,
                                 "startup_timeout_ms"sv,
                                 "max_client_connections"sv,
                                 "http_listen"sv,
                                 "shutdown_timeout_ms"sv};
constexpr std::array kPoolKeys{"mode"sv,
                               "max_server_connections"sv,
                               "connect_timeout_ms"sv,
                               "checkout_timeout_ms"sv,
                               "max_prepared_statements"sv,
                               "min_idle"sv,
                               "idle_timeout_ms"sv,
                               "server_lifetime_ms"sv,
                               "idle_in_transaction_timeout_ms"sv};
constexpr std::array kNodeKeys{"name"sv,   "host"sv,     "port"sv,   "role"sv,
                               "weight"sv, "min_idle"sv, "cluster"sv};
constexpr std::array kUserKeys{"name"sv,
                               "password"sv,
                               "password_file"sv,
                               "pool_mode"sv,
                               "max_server_connections"sv,
                               "idle_in_transaction_timeout_ms"sv};
constexpr std::array kLogKeys{"level"sv, "format"sv, "slow_statement_ms"sv};
constexpr std::array kAdminKeys{"users"sv, "pause_timeout_ms"sv};
constexpr std::array kHealthKeys{"interval_ms"sv, "timeout_ms"sv, "user"sv, "password"sv,
                                 "database"sv};
constexpr std::array kConsistencyKeys{"read_your_writes"sv, "window_ms"sv,
                                      "max_replica_lag_bytes"sv, "max_replica_lag_ms"sv,
                                      "report_write_lsn"sv};
constexpr std::int64_t kMinHealthIntervalMs = 10;
constexpr std::int64_t kMaxHealthIntervalMs = 60LL * 60 * 1000;
constexpr std::int64_t kMaxLagBytes = 1LL << 62;
constexpr std::array kRoutingKeys{
    "write_functions"sv, "read_only_functions"sv, "classification_cache_entries"sv,
    "catalog_lookups"sv, "catalog_timeout_ms"sv,  "catalog_refresh_interval_ms"sv};
constexpr std::int64_t kMaxCacheEntries = 1'000'000;
constexpr std::int64_t kMaxCatalogTimeoutMs = 60'000;

template <class E>
struct Choice {
  std::string_view name;
  E value;
};

constexpr std::array<Choice<PoolMode>, 2> kPoolModes{{
    {"transaction", PoolMode::Transaction},
    {"session", PoolMode::Session},
}};
constexpr std::array<Choice<NodeRole>, 3> kNodeRoles{{
    {"auto", NodeRole::Auto},
    {"primary", NodeRole::Primary},
    {"replica", NodeRole::Replica},
}};
constexpr std::array<Choice<AuthMethod>, 3> kAuthMethods{{
    {"scram-sha-256", AuthMethod::ScramSha256},
    {"md5", AuthMethod::Md5},
    {"trust", AuthMethod::Trust},
}};
constexpr std::array<Choice<ReadYourWrites>, 4> kReadYourWrites{{
    {"off", ReadYourWrites::Off},
    {"session", ReadYourWrites::Session},
    {"window", ReadYourWrites::Window},
    {"lsn", ReadYourWrites::Lsn},
}};
constexpr std::array<Choice<LogFormat>, 2> kLogFormats{{
    {"text", LogFormat::Text},
    {"json", LogFormat::Json},
}};
constexpr std::array<Choice<std::string_view>, 7> kLogLevels{{
    {"trace", "trace"},
    {"debug", "debug"},
    {"info", "info"},
    {"warn", "warn"},
    {"error", "error"},
    {"critical", "critical"},
    {"off", "off"},
}};

using detail::Problem;

std::string quoted(std::string_view s) {
  return "'" + std::string(s) + "'";
}

// "host:port" or "[v6addr]:port". Returns an empty string on success, else what is wrong.
std::string parseListen(std::string_view text, std::string& host, std::uint16_t& port) {
  std::string_view hostPart;
  std::string_view portPart;
  if (text.starts_with('[')) {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return "missing ']' after the IPv6 address";
    hostPart = text.substr(1, close - 1);
    const std::string_view rest = text.substr(close + 1);
    if (!rest.starts_with(':')) return "expected ':' and a port after ']'";
    portPart = rest.substr(1);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return "missing port";
    hostPart = text.substr(0, colon);
    portPart = text.substr(colon + 1);
    if (hostPart.find(':') != std::string_view::npos) {
      return "an IPv6 address must be in brackets";
    }
  }
  if (hostPart.empty()) return "missing host";
  const auto isSpaceOrControl = [](char c) { return static_cast<unsigned char>(c) <= ' '; };
  if (std::any_of(hostPart.begin(), hostPart.end(), isSpaceOrControl)) {
    return "host must not contain spaces or control characters";
  }
  if (portPart.empty()) return "missing port";
  unsigned value = 0;
  const char* end = portPart.data() + portPart.size();
  const auto [ptr, ec] = std::from_chars(portPart.data(), end, value);
  if (ec == std::errc::result_out_of_range) return "port must be between 1 and 65535";
  if (ec != std::errc{} || ptr != end) return "port must be a number";
  if (value < 1 || value > 65535) return "port must be between 1 and 65535";
  host = std::string(hostPart);
  port = static_cast<std::uint16_t>(value);
  return {};
}

// Walks the parsed document, filling `out` and collecting every problem.
class Validator {
 public:
  explicit Validator(Config& out) : out_(out) {}

  void run(const toml::table& root) {
    checkKeys(root, kTopLevelKeys, "at top level");
    if (const toml::table* t = section(root, "server")) readServer(*t);
    if (const toml::table* t = section(root, "pool")) readPool(*t);
    readNodes(root);
    readUsers(root);
    if (const toml::table* t = section(root, "routing")) readRouting(*t);
    if (const toml::table* t = section(root, "log")) readLog(*t);
    if (const toml::table* t = section(root, "health")) readHealth(*t);
    if (const toml::table* t = section(root, "consistency")) readConsistency(*t);
    if (const toml::table* t = section(root, "admin")) readAdmin(*t);
  }

  std::vector<Problem> takeProblems() { return std::move(problems_); }

 private:
  void report(const toml::source_region& where, std::string message) {
    // Nodes from a parsed document always have a position; 1:1 is a fallback, never expected.
    const std::uint32_t line = where.begin.line > 0 ? where.begin.line : 1;
    const std::uint32_t column = where.begin.column > 0 ? where.begin.column : 1;
    problems_.push_back({line, column, std::move(message)});
  }

  void reportAtStart(std::string message) { problems_.push_back({1, 1, std::move(message)}); }

  void checkKeys(const toml::table& t, std::span<const std::string_view> known,
                 std::string_view where) {
    for (const auto& [key, value] : t) {
      if (std::find(known.begin(), known.end(), key.str()) == known.end()) {
        report(key.source(), "unknown key " + quoted(key.str()) + " " + std::string(where));
      }
    }
  }

  const toml::table* section(const toml::table& root, std::string_view name) {
    const toml::node* n = root.get(name);
    if (n == nullptr) return nullptr;
    const toml::table* t = n->as_table();
    if (t == nullptr) report(n->source(), quoted(name) + " must be a table");
    return t;
  }

  template <class T>
  void readInt(const toml::table& t, std::string_view key, std::int64_t min, std::int64_t max,
               T& out) {
    const toml::node* n = t.get(key);
    if (n == nullptr) return;
    const auto* v = n->as_integer();
    if (v == nullptr) {
      report(n->source(), quoted(key) + " must be an integer");
      return;
    }
    const std::int64_t value = v->get();
    if (value < min || value > max) {
      report(n->source(), quoted(key) + " must be between " + std::to_string(min) + " and " +
                              std::to_string(max));
      return;
    }
    out = static_cast<T>(value);
  }

  // Returns the node when the key is present and a string, so callers can report at its position.
  const toml::node* readString(const toml::table& t, std::string_view key, std::string& out) {
    const toml::node* n = t.get(key);
    if (n == nullptr) return nullptr;
    const auto* v = n->as_string();
    if (v == nullptr) {
      report(n->source(), quoted(key) + " must be a string");
      return nullptr;
    }
    out = v->get();
    return n;
  }

  const toml::node* requireString(const toml::table& t, std::string_view key,
                                  std::string_view where, std::string& out, bool allowEmpty) {
    if (!t.contains(key)) {
      report(t.source(), "missing required key " + quoted(key) + " in " + std::string(where));
      return nullptr;
    }
    const toml::node* n = readString(t, key, out);
    if (n != nullptr && out.empty() && !allowEmpty) {
      report(n->source(), quoted(key) + " must not be empty");
      return nullptr;
    }
    return n;
  }

  template <class E, std::size_t N>
  void readChoice(const toml::table& t, std::string_view key,
                  const std::array<Choice<E>, N>& choices, E& out) {
    const toml::node* n = t.get(key);
    if (n == nullptr) return;
    std::string names;
    for (const auto& c : choices) {
      if (!names.empty()) names += ", ";
      names += c.name;
    }
    const auto* v = n->as_string();
    if (v == nullptr) {
      report(n->source(), quoted(key) + " must be a string, one of: " + names);
      return;
    }
    for (const auto& c : choices) {
      if (c.name == v->get()) {
        out = c.value;
        return;
      }
    }
    report(n->source(), quoted(key) + " must be one of: " + names);
  }

  void readServer(const toml::table& t) {
    checkKeys(t, kServerKeys, "in [server]");
    ServerConfig& s = out_.server;
    std::string listen;
    if (const toml::node* n = readString(t, "listen", listen)) {
      const std::string problem = parseListen(listen, s.listenHost, s.listenPort);
      if (!problem.empty()) {
        report(n->source(), "'listen' must be \"host:port\" (IPv6 as \"[::1]:6432\"): " + problem);
      }
    }
    readInt(t, "workers", 0, kMaxWorkers, s.workers);
    readChoice(t, "auth_method", kAuthMethods, s.authMethod);
    readInt(t, "max_message_size", 1024, kMaxMessageSize, s.maxMessageSize);
    readInt(t, "startup_timeout_ms", 1, kMaxTimeoutMs, s.startupTimeoutMs);
    readInt(t, "max_client_connections", 1, kMaxClientConnections, s.maxClientConnections);
    readServerOperations(t);
  }

  // [server] keys of the operations side (issue #8): the HTTP endpoint and the drain.
  void readServerOperations(const toml::table& t) {
    ServerConfig& s = out_.server;
    std::string http;
    if (const toml::node* n = readString(t, "http_listen", http)) {
      if (http.empty()) {
        s.httpListenHost.clear();  // disabled
      } else {
        const std::string problem = parseListen(http, s.httpListenHost, s.httpListenPort);
        if (!problem.empty()) {
          report(n->source(), "'http_listen' must be \"host:port\" or \"\" (disabled): " + problem);
        }
      }
    }
    readInt(t, "shutdown_timeout_ms", 0, kMaxTimeoutMs, s.shutdownTimeoutMs);
  }

  void readPool(const toml::table& t) {
    checkKeys(t, kPoolKeys, "in [pool]");
    PoolConfig& p = out_.pool;
    readChoice(t, "mode", kPoolModes, p.mode);
    readInt(t, "max_server_connections", 1, kMaxServerConnections, p.maxServerConnections);
    readInt(t, "connect_timeout_ms", 1, kMaxTimeoutMs, p.connectTimeoutMs);
    readInt(t, "checkout_timeout_ms", 1, kMaxTimeoutMs, p.checkoutTimeoutMs);
    readInt(t, "max_prepared_statements", 1, 100000, p.maxPreparedStatements);
    readInt(t, "min_idle", 0, kMaxServerConnections, p.minIdle);
    readInt(t, "idle_timeout_ms", 0, kMaxTimeoutMs, p.idleTimeoutMs);
    readInt(t, "server_lifetime_ms", 0, kMaxTimeoutMs, p.serverLifetimeMs);
    readInt(t, "idle_in_transaction_timeout_ms", 0, kMaxTimeoutMs, p.idleInTransactionTimeoutMs);
    if (p.minIdle > p.maxServerConnections) {
      report(t.get("min_idle")->source(), "'min_idle' must not exceed 'max_server_connections' (" +
                                              std::to_string(p.maxServerConnections) + ")");
    }
  }

  // An optional integer override (per node, per user) of a [pool] setting.
  template <class T>
  void readOverride(const toml::table& t, std::string_view key, std::int64_t min, std::int64_t max,
                    std::optional<T>& out) {
    if (!t.contains(key)) return;
    T value{};
    const std::size_t before = problems_.size();
    readInt(t, key, min, max, value);
    if (problems_.size() == before) out = value;
  }

  void readBool(const toml::table& t, std::string_view key, bool& out) {
    const toml::node* n = t.get(key);
    if (n == nullptr) return;
    const auto* v = n->as_boolean();
    if (v == nullptr) {
      report(n->source(), quoted(key) + " must be true or false");
      return;
    }
    out = v->get();
  }

  // [routing]: the function lists that override the classifier, the classification cache and
  // the catalog lookups.
  void readRouting(const toml::table& t) {
    checkKeys(t, kRoutingKeys, "in [routing]");
    RoutingConfig& r = out_.routing;
    std::map<std::string, std::uint32_t, std::less<>> firstLine;  // both lists share it
    readFunctionList(t, "write_functions", firstLine, r.writeFunctions);
    readFunctionList(t, "read_only_functions", firstLine, r.readOnlyFunctions);
    readInt(t, "classification_cache_entries", 0, kMaxCacheEntries, r.classificationCacheEntries);
    readBool(t, "catalog_lookups", r.catalogLookups);
    readInt(t, "catalog_timeout_ms", 1, kMaxCatalogTimeoutMs, r.catalogTimeoutMs);
    readInt(t, "catalog_refresh_interval_ms", 0, kMaxTimeoutMs, r.catalogRefreshIntervalMs);
  }

  // An array of "name" or "schema.name" strings, read as PostgreSQL reads identifiers.
  void readFunctionList(const toml::table& t, std::string_view key,
                        std::map<std::string, std::uint32_t, std::less<>>& firstLine,
                        std::vector<FunctionName>& out) {
    const toml::node* n = t.get(key);
    if (n == nullptr) return;
    const toml::array* a = n->as_array();
    if (a == nullptr) {
      report(n->source(), quoted(key) + " must be an array of function names");
      return;
    }
    for (const toml::node& e : *a) {
      const auto* v = e.as_string();
      if (v == nullptr) {
        report(e.source(), quoted(key) + " entries must be strings");
        continue;
      }
      const std::optional<std::string> parsed = sql::parseQualifiedName(v->get());
      if (!parsed) {
        report(e.source(), quoted(key) +
                               " entries must be function names: name or schema.name "
                               "(quote mixed-case names: \"\\\"MyFunc\\\"\")");
        continue;
      }
      const auto [it, inserted] = firstLine.emplace(*parsed, e.source().begin.line);
      if (!inserted) {
        report(e.source(), "function listed twice in [routing] (first at line " +
                               std::to_string(it->second) + ")");
        continue;
      }
      out.push_back({std::string(sql::keySchema(*parsed)), std::string(sql::keyName(*parsed))});
    }
  }

  void readLog(const toml::table& t) {
    checkKeys(t, kLogKeys, "in [log]");
    std::string_view level = out_.log.level;
    readChoice(t, "level", kLogLevels, level);
    out_.log.level = std::string(level);
    readChoice(t, "format", kLogFormats, out_.log.format);
    readInt(t, "slow_statement_ms", 0, kMaxTimeoutMs, out_.log.slowStatementMs);
  }

  // [admin] users: names of [[users]] entries that may open the admin console.
  void readAdmin(const toml::table& t) {
    checkKeys(t, kAdminKeys, "in [admin]");
    readInt(t, "pause_timeout_ms", 1, kMaxTimeoutMs, out_.admin.pauseTimeoutMs);
    const toml::node* n = t.get("users");
    if (n == nullptr) return;
    const toml::array* a = n->as_array();
    if (a == nullptr) {
      report(n->source(), "'users' must be an array of user names");
      return;
    }
    for (const toml::node& e : *a) {
      const auto* name = e.as_string();
      if (name == nullptr) {
        report(e.source(), "each entry of 'users' in [admin] must be a string");
        continue;
      }
      if (out_.findUser(name->get()) == nullptr) {
        report(e.source(), "admin user " + quoted(name->get()) +
                               " must also be listed in [[users]] (that is how it logs in)");
        continue;
      }
      out_.admin.users.push_back(name->get());
    }
  }

  // `password` (inline or "${ENV}") or `password_file`: exactly one of them.
  void readPassword(const toml::table& t, UserConfig& user) {
    const toml::node* inlineNode = t.get("password");
    const toml::node* fileNode = t.get("password_file");
    if (inlineNode != nullptr && fileNode != nullptr) {
      report(fileNode->source(), "'password' and 'password_file' are mutually exclusive");
      return;
    }
    if (fileNode != nullptr) {
      std::string path;
      if (readString(t, "password_file", path) == nullptr) return;
      std::string_view dir = out_.path;
      const auto slash = dir.rfind('/');
      dir = slash == std::string_view::npos ? std::string_view() : dir.substr(0, slash);
      Secret s = readPasswordFile(path, slash == 0 ? std::string_view("/") : dir);
      if (!s.ok) {
        report(fileNode->source(), s.error);
        return;
      }
      user.password = std::move(s.value);
      user.passwordSource = s.source;
      user.passwordOrigin = std::move(s.origin);
      return;
    }
    // An empty password is allowed: with auth_method = "trust" a node may need none.
    std::string value;
    if (inlineNode == nullptr) {
      report(t.source(), "missing required key 'password' in [[users]] (or 'password_file')");
      return;
    }
    if (readString(t, "password", value) == nullptr) return;
    Secret s = resolvePassword(value);
    if (!s.ok) {
      report(inlineNode->source(), s.error);
      return;
    }
    user.password = std::move(s.value);
    user.passwordSource = s.source;
    user.passwordOrigin = std::move(s.origin);
  }

  void readHealth(const toml::table& t) {
    checkKeys(t, kHealthKeys, "in [health]");
    HealthConfig& h = out_.health;
    readInt(t, "interval_ms", kMinHealthIntervalMs, kMaxHealthIntervalMs, h.intervalMs);
    readInt(t, "timeout_ms", 1, kMaxHealthIntervalMs, h.timeoutMs);
    if (t.contains("user")) requireString(t, "user", "[health]", h.user, false);
    if (const toml::node* password = readString(t, "password", h.password)) {
      h.passwordSet = true;
      if (!t.contains("user")) {
        report(password->source(),
               "'password' in [health] needs 'user' (without both, the first [[users]] entry "
               "logs in)");
      }
    }
    if (t.contains("database")) requireString(t, "database", "[health]", h.database, false);
  }

  void readConsistency(const toml::table& t) {
    checkKeys(t, kConsistencyKeys, "in [consistency]");
    ConsistencyConfig& c = out_.consistency;
    readChoice(t, "read_your_writes", kReadYourWrites, c.readYourWrites);
    readInt(t, "window_ms", 1, kMaxTimeoutMs, c.windowMs);
    readInt(t, "max_replica_lag_bytes", 0, kMaxLagBytes, c.maxReplicaLagBytes);
    readInt(t, "max_replica_lag_ms", 0, kMaxTimeoutMs, c.maxReplicaLagMs);
    readBool(t, "report_write_lsn", c.reportWriteLsn);
  }

  // The array behind [[name]]; reports a missing, empty or mistyped one.
  const toml::array* entries(const toml::table& root, std::string_view name) {
    const std::string required = "at least one [[" + std::string(name) + "]] entry is required";
    const toml::node* n = root.get(name);
    if (n == nullptr) {
      reportAtStart(required);
      return nullptr;
    }
    const toml::array* a = n->as_array();
    if (a == nullptr) {
      report(n->source(),
             quoted(name) + " must be an array of tables ([[" + std::string(name) + "]])");
      return nullptr;
    }
    if (a->empty()) {
      report(n->source(), required);
      return nullptr;
    }
    return a;
  }

  void readNodes(const toml::table& root) {
    const toml::array* a = entries(root, "nodes");
    if (a == nullptr) return;
    std::map<std::string, std::uint32_t, std::less<>> firstLine;
    for (const toml::node& e : *a) {
      const toml::table* t = e.as_table();
      if (t == nullptr) {
        report(e.source(), "each 'nodes' entry must be a table");
        continue;
      }
      checkKeys(*t, kNodeKeys, "in [[nodes]]");
      NodeConfig node;
      if (const toml::node* n = requireString(*t, "name", "[[nodes]]", node.name, false)) {
        const auto [it, inserted] = firstLine.emplace(node.name, n->source().begin.line);
        if (!inserted) {
          report(n->source(), "duplicate node name " + quoted(node.name) +
                                  " (first defined at line " + std::to_string(it->second) + ")");
        }
      }
      requireString(*t, "host", "[[nodes]]", node.host, false);
      readInt(*t, "port", 1, 65535, node.port);
      readChoice(*t, "role", kNodeRoles, node.role);
      readInt(*t, "weight", 0, kMaxWeight, node.weight);
      readOverride(*t, "min_idle", 0, kMaxServerConnections, node.minIdle);
      if (node.minIdle && *node.minIdle > out_.pool.maxServerConnections) {
        report(t->get("min_idle")->source(),
               "'min_idle' must not exceed [pool] 'max_server_connections' (" +
                   std::to_string(out_.pool.maxServerConnections) + ")");
      }
      out_.nodes.push_back(std::move(node));
    }
  }

  void readUsers(const toml::table& root) {
    const toml::array* a = entries(root, "users");
    if (a == nullptr) return;
    std::map<std::string, std::uint32_t, std::less<>> firstLine;
    for (const toml::node& e : *a) {
      const toml::table* t = e.as_table();
      if (t == nullptr) {
        report(e.source(), "each 'users' entry must be a table");
        continue;
      }
      checkKeys(*t, kUserKeys, "in [[users]]");
      UserConfig user;
      if (const toml::node* n = requireString(*t, "name", "[[users]]", user.name, false)) {
        const auto [it, inserted] = firstLine.emplace(user.name, n->source().begin.line);
        if (!inserted) {
          report(n->source(), "duplicate user name " + quoted(user.name) +
                                  " (first defined at line " + std::to_string(it->second) + ")");
        }
      }
      readPassword(*t, user);
      if (t->contains("pool_mode")) {
        PoolMode mode = out_.pool.mode;
        const std::size_t before = problems_.size();
        readChoice(*t, "pool_mode", kPoolModes, mode);
        if (problems_.size() == before) user.poolMode = mode;
      }
      readOverride(*t, "max_server_connections", 1, kMaxServerConnections,
                   user.maxServerConnections);
      readOverride(*t, "idle_in_transaction_timeout_ms", 0, kMaxTimeoutMs,
                   user.idleInTransactionTimeoutMs);
      out_.users.push_back(std::move(user));
    }
  }

  Config& out_;
  std::vector<Problem> problems_;
};

std::string formatProblem(const std::string& path, const Problem& p) {
  return path + ":" + std::to_string(p.line) + ":" + std::to_string(p.column) + ": " + p.message;
}

LoadResult failure(const std::string& path, std::string message) {
  LoadResult result;
  result.errors.push_back(formatProblem(path, {1, 1, std::move(message)}));
  return result;
}

LoadResult load(std::string_view text, const std::string& path) {
  std::vector<Problem> problems;
  auto config = std::make_shared<Config>();
  config->path = path;
  try {
    const toml::table root = toml::parse(text, std::string_view(path));
    Validator validator(*config);
    validator.run(root);
    problems = validator.takeProblems();
    detail::readClustersAndRules(root, *config, problems);
  } catch (const toml::parse_error& e) {
    const toml::source_position pos = e.source().begin;
    problems.push_back({pos.line > 0 ? pos.line : 1, pos.column > 0 ? pos.column : 1,
                        std::string(e.description())});
  }

  LoadResult result;
  if (problems.empty()) {
    result.config = std::move(config);
    return result;
  }
  std::stable_sort(problems.begin(), problems.end(), [](const Problem& a, const Problem& b) {
    return std::pair(a.line, a.column) < std::pair(b.line, b.column);
  });
  result.errors.reserve(problems.size());
  for (const Problem& p : problems)
    result.errors.push_back(formatProblem(path, p));
  return result;
}

}  // namespace

const UserConfig* Config::findUser(std::string_view name) const {
  for (const UserConfig& u : users) {
    if (u.name == name) return &u;
  }
  return nullptr;
}

PoolMode Config::poolModeFor(std::string_view user) const {
  const UserConfig* u = findUser(user);
  return u && u->poolMode ? *u->poolMode : pool.mode;
}

std::uint32_t Config::maxServerConnectionsFor(std::string_view user) const {
  const UserConfig* u = findUser(user);
  return u && u->maxServerConnections ? *u->maxServerConnections : pool.maxServerConnections;
}

std::uint32_t Config::idleInTransactionTimeoutMsFor(std::string_view user) const {
  const UserConfig* u = findUser(user);
  return u && u->idleInTransactionTimeoutMs ? *u->idleInTransactionTimeoutMs
                                            : pool.idleInTransactionTimeoutMs;
}

std::uint32_t Config::minIdleFor(std::size_t node) const {
  if (node < nodes.size() && nodes[node].minIdle) return *nodes[node].minIdle;
  return pool.minIdle;
}

std::string Config::healthUser() const {
  if (!health.user.empty()) return health.user;
  return users.empty() ? std::string() : users.front().name;
}

std::string Config::healthPassword() const {
  if (!health.user.empty()) {
    if (health.passwordSet) return health.password;
    const UserConfig* u = findUser(health.user);
    return u ? u->password : std::string();
  }
  return users.empty() ? std::string() : users.front().password;
}

bool Config::isAdmin(std::string_view user) const {
  return std::find(admin.users.begin(), admin.users.end(), user) != admin.users.end();
}

LoadResult loadString(std::string_view text, const std::string& path) {
  try {
    return load(text, path);
  } catch (const std::exception& e) {
    return failure(path, std::string("cannot load configuration: ") + e.what());
  } catch (...) {
    return failure(path, "cannot load configuration: unknown error");
  }
}

LoadResult loadFile(const std::string& path) {
  try {
    const std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"),
                                                            &std::fclose);
    if (!f) return failure(path, std::string("cannot open: ") + std::strerror(errno));
    std::string text;
    std::array<char, 8192> buf;
    std::size_t n = 0;
    while ((n = std::fread(buf.data(), 1, buf.size(), f.get())) > 0)
      text.append(buf.data(), n);
    if (std::ferror(f.get()) != 0) {
      return failure(path, std::string("cannot read: ") + std::strerror(errno));
    }
    return loadString(text, path);
  } catch (const std::exception& e) {
    return failure(path, std::string("cannot load configuration: ") + e.what());
  } catch (...) {
    return failure(path, "cannot load configuration: unknown error");
  }
}

const char* toString(PoolMode m) {
  switch (m) {
    case PoolMode::Transaction:
      return "transaction";
    case PoolMode::Session:
      return "session";
  }
  return "unknown";
}

const char* toString(NodeRole r) {
  switch (r) {
    case NodeRole::Auto:
      return "auto";
    case NodeRole::Primary:
      return "primary";
    case NodeRole::Replica:
      return "replica";
  }
  return "unknown";
}

const char* toString(AuthMethod a) {
  switch (a) {
    case AuthMethod::ScramSha256:
      return "scram-sha-256";
    case AuthMethod::Md5:
      return "md5";
    case AuthMethod::Trust:
      return "trust";
  }
  return "unknown";
}

const char* toString(ReadYourWrites r) {
  switch (r) {
    case ReadYourWrites::Off:
      return "off";
    case ReadYourWrites::Session:
      return "session";
    case ReadYourWrites::Window:
      return "window";
    case ReadYourWrites::Lsn:
      return "lsn";
  }
  return "unknown";
}

const char* toString(LogFormat f) {
  return f == LogFormat::Json ? "json" : "text";
}

const char* toString(SecretSource s) {
  switch (s) {
    case SecretSource::Inline:
      return "inline";
    case SecretSource::Environment:
      return "environment";
    case SecretSource::File:
      return "file";
  }
  return "unknown";
}

}  // namespace pgsplit::config
