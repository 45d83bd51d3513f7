#pragma once
// pgsplit.toml -> validated structs. Loading may fail loudly (it happens at start and on reload);
// every problem is reported as "file:line:column: message".
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgsplit::config {

enum class PoolMode : std::uint8_t { Transaction, Session };
enum class NodeRole : std::uint8_t { Auto, Primary, Replica };
enum class AuthMethod : std::uint8_t { ScramSha256, Md5, Trust };
// How a session sees its own writes on replicas (see README, "Read-your-writes").
enum class ReadYourWrites : std::uint8_t { Off, Session, Window, Lsn };
enum class LogFormat : std::uint8_t { Text, Json };
// Where a user's password came from (shown by SHOW CONFIG instead of the password).
enum class SecretSource : std::uint8_t { Inline, Environment, File };

struct ServerConfig {
  std::string listenHost = "127.0.0.1";
  std::uint16_t listenPort = 6432;
  unsigned workers = 0;  // 0 = one per core
  AuthMethod authMethod = AuthMethod::ScramSha256;
  std::uint32_t maxMessageSize = 64u << 20;  // bytes, for any client message after startup
  std::uint32_t startupTimeoutMs = 10000;    // from accept to ReadyForQuery
  std::uint32_t maxClientConnections = 5000;
  // HTTP endpoint for /metrics, /healthz, /readyz, /nodes ([server] http_listen); an empty host
  // means it is disabled (http_listen = "").
  std::string httpListenHost = "127.0.0.1";
  std::uint16_t httpListenPort = 9930;
  // SIGTERM: how long clients may take to finish their transactions before they are closed.
  std::uint32_t shutdownTimeoutMs = 20000;

  bool httpEnabled() const { return !httpListenHost.empty(); }
};

struct PoolConfig {
  PoolMode mode = PoolMode::Transaction;
  std::uint32_t maxServerConnections = 20;    // per node, database and user, whole process
  std::uint32_t connectTimeoutMs = 5000;      // backend TCP connect + login
  std::uint32_t checkoutTimeoutMs = 5000;     // waiting for a free backend
  std::uint32_t maxPreparedStatements = 256;  // kept prepared per backend connection (LRU)
  // Idle connections kept open per node, database and user (once a client of that database and
  // user has logged in), within max_server_connections.
  std::uint32_t minIdle = 0;
  std::uint32_t idleTimeoutMs = 600000;      // an idle backend is closed after this; 0 = never
  std::uint32_t serverLifetimeMs = 3600000;  // a backend is closed once this old; 0 = never
  // A client holding a backend in a transaction and sending nothing is closed (25P03); 0 = never.
  std::uint32_t idleInTransactionTimeoutMs = 0;
};

struct NodeConfig {
  std::string name;
  std::string host;
  std::uint16_t port = 5432;
  NodeRole role = NodeRole::Auto;
  std::uint32_t weight = 1;
  // The [[clusters]] entry it belongs to (index into Config::clusters; 0 = the implicit one
  // when the file has no [[clusters]]).
  std::size_t cluster = 0;
  std::optional<std::uint32_t> minIdle;  // overrides [pool] min_idle for this node
  // Set only by a reload (config/reload.hpp): the node left the file. Its slot stays so that node
  // indices held by sessions, pools and statistics keep their meaning; nothing routes to it.
  bool retired = false;
};

struct UserConfig {
  std::string name;
  std::string password;  // never logged
  SecretSource passwordSource = SecretSource::Inline;
  std::string passwordOrigin;  // the environment variable or file it came from (not secret)
  // Overrides of [pool] for this user's clients and server connections.
  std::optional<PoolMode> poolMode;
  std::optional<std::uint32_t> maxServerConnections;
  std::optional<std::uint32_t> idleInTransactionTimeoutMs;
};

// [admin]: who may open the admin console (database "pgsplit"). Each is a [[users]] name and
// authenticates like any user.
struct AdminConfig {
  std::vector<std::string> users;
  // PAUSE waits this long for the units and transactions in flight to finish; past it the pause
  // is lifted and PAUSE fails (57014).
  std::uint32_t pauseTimeoutMs = 10000;
};

// A function named in [routing] write_functions / read_only_functions.
struct FunctionName {
  std::string schema;  // empty: the name in any schema
  std::string name;    // as PostgreSQL spells it (unquoted names folded to lower case)
  bool operator==(const FunctionName&) const = default;
};

struct RoutingConfig {
  std::vector<FunctionName> writeFunctions;     // always the primary
  std::vector<FunctionName> readOnlyFunctions;  // may run on a replica, whatever the catalog says
  std::uint32_t classificationCacheEntries = 4096;  // per worker thread; 0 = no cache
  bool catalogLookups = true;  // ask the primary's catalog about user functions and relations
  std::uint32_t catalogTimeoutMs = 2000;           // connect + one lookup
  std::uint32_t catalogRefreshIntervalMs = 60000;  // look everything up again; 0 = never
};

// [[clusters]]: a primary and its replicas serving some databases (issue #9). A file without
// [[clusters]] has one implicit cluster serving every database.
struct ClusterConfig {
  std::string name;
  std::vector<std::string> databases;  // globs a client's database is matched against
  std::vector<std::string> users;      // globs; empty = any user
  bool implicit = false;               // the file has no [[clusters]]
  // Set only by a reload (config/reload.hpp): the cluster left the file. Its slot stays so that
  // cluster indices held by sessions and nodes keep their meaning; it serves nothing.
  bool retired = false;
};

// [[rules]]: routing rules, in file order; the first that matches decides (issue #9).
enum class RuleStatement : std::uint8_t { Any, Read, Write, Ddl, Transaction };
enum class RuleRoute : std::uint8_t { Default, Primary, Replica, Any };

struct RuleConfig {
  std::string name;
  std::uint32_t line = 0;  // where it starts in the file (for messages)
  // Matchers: every one given must hold. Empty lists / unset = not a condition.
  bool hasStatement = false;
  RuleStatement statement = RuleStatement::Any;
  std::vector<std::string> tables;            // "name" or "schema.name", globs
  std::vector<std::string> functions;         // same shape
  std::string queryRegex;                     // RE2 syntax; empty = none
  std::vector<std::string> users;             // globs
  std::vector<std::string> databases;         // globs
  std::vector<std::string> applicationNames;  // globs
  std::vector<std::string> clientAddrs;       // CIDRs (or single addresses), v4 or v6
  std::optional<bool> inTransaction;
  // Actions.
  RuleRoute route = RuleRoute::Default;  // Default: not given
  std::string cluster;                   // empty: the session's own cluster
  std::size_t clusterIndex = 0;          // when `cluster` is given
  bool blocks = false;
  std::string blockMessage;
  std::uint32_t maxReplicaLagMs = 0;  // 0: not given ([consistency] applies)
  bool hasMaxReplicaLag = false;
  // Stable position for statistics (hit counters) across reloads; see config/reload.hpp.
  std::size_t slot = 0;
};

struct LogConfig {
  std::string level = "info";  // trace, debug, info, warn, error, critical, off
  LogFormat format = LogFormat::Text;
  // A unit of work that takes at least this long (sent to the backend -> its ReadyForQuery
  // written to the client) is logged at warn with its normalised text; 0 = off.
  std::uint32_t slowStatementMs = 0;
};

// [health]: how the nodes are checked (issue #6).
struct HealthConfig {
  std::uint32_t intervalMs = 500;  // from the start of one check of a node to the next
  std::uint32_t timeoutMs = 2000;  // one check (connect + login + query); over it = down
  std::string user;                // empty: the first [[users]] entry
  std::string password;            // never logged; empty with `user` unset: that user's password
  bool passwordSet = false;        // `password` was given (an empty one is a valid choice)
  std::string database = "postgres";
};

// [consistency]: read-your-writes and replica lag limits (issue #6).
struct ConsistencyConfig {
  ReadYourWrites readYourWrites = ReadYourWrites::Lsn;
  std::uint32_t windowMs = 1000;         // `window` mode: reads stay on the primary this long
  std::uint64_t maxReplicaLagBytes = 0;  // 0 = unlimited
  std::uint32_t maxReplicaLagMs = 0;     // 0 = unlimited
  // After a unit that wrote, ask the primary for its WAL position (in the same write) and report
  // it as ParameterStatus pgsplit.write_lsn; it also settles `lsn` read-your-writes at once.
  bool reportWriteLsn = true;
};

struct Config {
  std::string path;  // the file it came from
  ServerConfig server;
  PoolConfig pool;
  std::vector<NodeConfig> nodes;
  std::vector<UserConfig> users;
  RoutingConfig routing;
  LogConfig log;
  HealthConfig health;
  ConsistencyConfig consistency;
  AdminConfig admin;
  // Never empty once loaded: without [[clusters]] in the file, one implicit cluster. Indexed by
  // slot (stable across reloads, see config/reload.hpp); clusterOrder is their file order, the
  // order in which a client's database is matched.
  std::vector<ClusterConfig> clusters;
  std::vector<std::size_t> clusterOrder;
  std::vector<RuleConfig> rules;
  // Rule names by statistics slot: the rules of the file in order, and after reloads also
  // names that left it (a rule keeps its slot, and its counters, while its name stays).
  std::vector<std::string> ruleSlots;

  const UserConfig* findUser(std::string_view name) const;
  // The cluster a client's database and user map to at login: the first [[clusters]] entry
  // (not retired) whose `databases` and `users` match; -1 if none does.
  int clusterFor(std::string_view database, std::string_view user) const;
  // Index of the cluster named `name` (not retired); -1 if none.
  int findCluster(std::string_view name) const;
  // [pool] settings with the per-user and per-node overrides applied.
  PoolMode poolModeFor(std::string_view user) const;
  std::uint32_t maxServerConnectionsFor(std::string_view user) const;
  std::uint32_t idleInTransactionTimeoutMsFor(std::string_view user) const;
  std::uint32_t minIdleFor(std::size_t node) const;
  bool isAdmin(std::string_view user) const;
  // Who the health checks log in as: [health] user/password, else the first [[users]] entry.
  std::string healthUser() const;
  std::string healthPassword() const;
};

struct LoadResult {
  std::shared_ptr<const Config> config;  // set when errors is empty
  std::vector<std::string> errors;       // "file:line:column: message", in file order
};

LoadResult loadFile(const std::string& path);
// For tests: parse text as if it came from a file named `path`.
LoadResult loadString(std::string_view text, const std::string& path = "<string>");

const char* toString(PoolMode m);
const char* toString(NodeRole r);
const char* toString(AuthMethod a);
const char* toString(ReadYourWrites r);
const char* toString(LogFormat f);
const char* toString(SecretSource s);
const char* toString(RuleStatement s);
const char* toString(RuleRoute r);

}  // namespace pgsplit::config
