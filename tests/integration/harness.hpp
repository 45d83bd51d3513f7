#pragma once
// Integration-test harness: the real cluster started by the ctest fixture (scripts/cluster.sh),
// a real pgsplit process in front of it, and libpq / raw-protocol clients.
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace pgsplit::test {

// What cluster.sh wrote to cluster.env.
struct Cluster {
  std::map<std::string, std::string> env;
  int primaryPort = 0;
  int replica1Port = 0;
  int replica2Port = 0;
  std::string binDir;

  // Loads $PGSPLIT_TEST_CLUSTER_ENV; fails the test (never skips) if the cluster is missing.
  static const Cluster& get();
  // Reads a cluster.env written by scripts/cluster.sh.
  static Cluster fromEnvFile(const std::string& path);
  std::string superuserConninfo(int port, const std::string& db = "postgres") const;
  std::string appConninfo(int port) const;
  // Waits until both replicas have replayed everything the primary has written so far.
  void waitForReplicas() const;
};

int freePort();

struct PgsplitOptions {
  std::string poolMode = "transaction";
  std::string authMethod = "scram-sha-256";
  std::string extra;  // appended verbatim to the generated TOML
  std::string logLevel = "debug";
  bool nodesAuto = true;    // role = "auto" for every node
  std::string nodeCluster;  // cluster = "<this>" on the fixture cluster's nodes (issue #9)
  int maxServerConnections = 20;
  int startupTimeoutMs = 10000;
  int workers = 2;
  std::string serverExtra;           // appended verbatim inside [server]
  std::string poolExtra;             // appended verbatim inside [pool]
  const Cluster* cluster = nullptr;  // default: the fixture cluster (Cluster::get())
  // Operations (issue #8): the HTTP endpoint always gets a free port (tests run next to other
  // pgsplits); the drain is kept short so that a test's teardown never waits long.
  int shutdownTimeoutMs = 3000;
  std::string logFormat = "text";
  std::string logExtra;                                  // appended verbatim inside [log]
  std::vector<std::pair<std::string, std::string>> env;  // set in pgsplit's environment only
};

// A pgsplit process on a free port, stopped (SIGTERM, then SIGKILL) when destroyed.
class Pgsplit {
 public:
  explicit Pgsplit(const PgsplitOptions& options = {});
  ~Pgsplit();
  Pgsplit(const Pgsplit&) = delete;
  Pgsplit& operator=(const Pgsplit&) = delete;

  int port() const { return port_; }
  std::string conninfo(const std::string& user = "app", const std::string& password = "app",
                       const std::string& db = "app") const;
  std::string url(const std::string& user = "app", const std::string& password = "app",
                  const std::string& db = "app") const;
  std::string log() const;  // everything it logged so far
  const std::string& configPath() const { return configPath_; }
  bool running();

  // --- operations ---
  int httpPort() const { return httpPort_; }
  pid_t pid() const { return pid_; }
  void signal(int signo);
  // Waits for the process to exit; its wait() status, or nullopt on timeout. A test that makes
  // pgsplit exit (SIGTERM, SHUTDOWN) says so, so the teardown does not count it as a crash.
  std::optional<int> waitExit(std::chrono::milliseconds timeout);
  std::string configText() const;
  void writeConfig(const std::string& text);  // replaces the file (for SIGHUP / RELOAD tests)

 private:
  int port_ = 0;
  int httpPort_ = 0;
  pid_t pid_ = -1;
  bool exited_ = false;
  int exitStatus_ = 0;
  bool expectExit_ = false;
  std::string dir_;
  std::string configPath_;
  std::string logPath_;
};

// RAII libpq connection with a few checked helpers.
class Conn {
 public:
  explicit Conn(const std::string& conninfo);
  ~Conn();
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  bool ok() const { return PQstatus(conn_) == CONNECTION_OK; }
  std::string error() const { return PQerrorMessage(conn_); }
  PGconn* get() { return conn_; }

  // Runs sql; the first column of the first row (ADD_FAILURE on error).
  std::string value(const std::string& sql);
  // Runs sql; every row as a vector of strings (ADD_FAILURE on error).
  std::vector<std::vector<std::string>> rows(const std::string& sql);
  // Runs sql expecting success (ADD_FAILURE otherwise).
  void exec(const std::string& sql);
  // Runs sql expecting an error; returns its SQLSTATE ("" if it succeeded).
  std::string errorState(const std::string& sql);

 private:
  PGconn* conn_;
};

// A bare protocol client for what libpq does not expose (the SQLSTATE of a failed login).
class RawClient {
 public:
  explicit RawClient(int port);
  ~RawClient();
  void send(const std::string& bytes);
  // Next message (type, body); type 0 on EOF or timeout.
  std::pair<char, std::string> read(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Startup + SCRAM (or trust/md5) login; returns the first ErrorResponse's SQLSTATE, or "" if
  // the login reached ReadyForQuery.
  // extra: more startup parameters (TimeZone, options...).
  std::string login(const std::string& user, const std::string& password, const std::string& db,
                    const std::vector<std::pair<std::string, std::string>>& extra = {});
  bool closedByPeer(std::chrono::milliseconds timeout = std::chrono::seconds(5));

 private:
  int fd_ = -1;
  std::string buf_;
};

// Runs a command, returning (exit status, combined output). Bounded by timeout.
std::pair<int, std::string> runCommand(const std::string& command,
                                       std::chrono::seconds timeout = std::chrono::seconds(120));

// SQLSTATE of an ErrorResponse body.
std::string sqlstateOf(const std::string& errorBody);

// A read of a relation pgsplit has not looked up in the primary's catalog yet goes to the
// primary until the lookup lands (milliseconds). Reads the relation through c until the read
// runs on a replica (ADD_FAILURE after 10 s).
void awaitReplicaReads(Conn& c, const std::string& relation);

}  // namespace pgsplit::test
