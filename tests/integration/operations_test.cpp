// Operations against a live pgsplit and the real cluster: /metrics, /healthz, /readyz, /nodes;
// reload on SIGHUP (weights, nodes, users, limits, a broken file); the drain on SIGTERM, SIGINT
// and SHUTDOWN; JSON logs; secrets from the environment and files never logged.
#include <signal.h>
#include <sys/wait.h>

#include <cctype>
#include <fstream>
#include <set>
#include <thread>

#include "harness.hpp"
#include "ops_util.hpp"

namespace pgsplit::test {
namespace {

using namespace std::chrono_literals;

std::map<std::string, double> scrape(const Pgsplit& p) {
  const HttpReply r = httpGet(p.httpPort(), "/metrics");
  EXPECT_EQ(r.status, 200) << r.body;
  return parseMetrics(r.body);
}

// The ports the next `n` reads of `c` ran on.
std::multiset<std::string> readPorts(Conn& c, int n) {
  std::multiset<std::string> ports;
  for (int i = 0; i < n; ++i)
    ports.insert(c.value("SELECT inet_server_port()"));
  return ports;
}

// Waits until /metrics shows `count` reloads with `result` (ok or failed).
bool waitForReloads(const Pgsplit& p, const std::string& result, double count) {
  for (int i = 0; i < 200; ++i) {
    if (metricSum(scrape(p), "pgsplit_reloads_total", {"result=\"" + result + "\""}) >= count)
      return true;
    std::this_thread::sleep_for(25ms);
  }
  return false;
}

// The config text with `weight = w` given to the node listening on `port`.
std::string withWeight(std::string text, int port, int weight) {
  const std::string anchor = "port = " + std::to_string(port) + "\n";
  const auto at = text.find(anchor);
  EXPECT_NE(at, std::string::npos);
  text.insert(at + anchor.size(), "weight = " + std::to_string(weight) + "\n");
  return text;
}

// The config text without the [[nodes]] entry of the node on `port`.
std::string withoutNode(std::string text, int port) {
  const auto at = text.find("port = " + std::to_string(port) + "\n");
  const auto begin = text.rfind("[[nodes]]", at);
  const auto end = text.find("[[", at);
  EXPECT_TRUE(at != std::string::npos && begin != std::string::npos && end != std::string::npos);
  text.erase(begin, end - begin);
  return text;
}

// ---- HTTP ----

TEST(Http, HealthReadyNodesAndNotFound) {
  Pgsplit p;
  const HttpReply health = httpGet(p.httpPort(), "/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body, "ok\n");
  const HttpReply ready = httpGet(p.httpPort(), "/readyz");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(httpGet(p.httpPort(), "/nope").status, 404);

  // /nodes is JSON (parsed by Python's json module) with the cluster's nodes and roles.
  const HttpReply nodes = httpGet(p.httpPort(), "/nodes");
  ASSERT_EQ(nodes.status, 200);
  char path[] = "/tmp/pgsplit-nodes-XXXXXX";
  const int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::write(fd, nodes.body.data(), nodes.body.size());
  ::close(fd);
  const Cluster& c = Cluster::get();
  auto [code, out] = runCommand(
      "python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); "
      "print(\" \".join(\"%s:%d:%s:%s\" % (n[\"name\"], n[\"port\"], n[\"role\"], n[\"up\"]) "
      "for n in d))' " +
      std::string(path));
  std::remove(path);
  EXPECT_EQ(code, 0) << out;
  EXPECT_EQ(out, "pg0:" + std::to_string(c.primaryPort) +
                     ":primary:True pg1:" + std::to_string(c.replica1Port) +
                     ":replica:True pg2:" + std::to_string(c.replica2Port) + ":replica:True\n");
}

TEST(Http, MetricsParseAndMoveWithTraffic) {
  Pgsplit p;
  // The harness's own readiness probe (a bare TCP connect) is accepted asynchronously: count it
  // before counting ours.
  auto before = scrape(p);
  for (int i = 0; i < 100 && metricSum(before, "pgsplit_client_connections_accepted_total") < 1;
       ++i) {
    std::this_thread::sleep_for(20ms);
    before = scrape(p);
  }
  EXPECT_EQ(metricSum(before, "pgsplit_ready"), 1);
  EXPECT_EQ(metricSum(before, "pgsplit_node_up"), 3);
  EXPECT_EQ(metricSum(before, "pgsplit_node_is_primary", {"node=\"pg0\""}), 1);
  EXPECT_EQ(metricSum(before, "pgsplit_workers"), 2);
  EXPECT_EQ(metricSum(before, "pgsplit_config_generation"), 1);
  {
    Conn c(p.conninfo());
    ASSERT_TRUE(c.ok()) << c.error();
    for (int i = 0; i < 5; ++i)
      c.value("SELECT 1");
    EXPECT_EQ(c.errorState("SELECT 1/0"), "22012");  // a read: on a replica
    c.exec("CREATE TABLE IF NOT EXISTS ops_metrics (x int)");
    c.exec("BEGIN");
    c.exec("LISTEN ops_metrics_channel");  // pins the session (after this unit)
    c.exec("COMMIT");
    const auto during = scrape(p);
    EXPECT_EQ(metricSum(during, "pgsplit_client_connections"), 1);
    EXPECT_EQ(metricSum(during, "pgsplit_pinned_sessions"), 1);
    EXPECT_GE(metricSum(during, "pgsplit_server_connections", {"node=\"pg0\""}), 1);
  }
  const auto after = scrape(p);
  auto delta = [&](const std::string& name, const std::vector<std::string>& labels) {
    return metricSum(after, name, labels) - metricSum(before, name, labels);
  };
  EXPECT_EQ(delta("pgsplit_queries_total", {"route=\"replica\""}), 6);
  EXPECT_EQ(delta("pgsplit_queries_total", {"route=\"primary\"", "node=\"pg0\""}), 4);
  EXPECT_EQ(delta("pgsplit_errors_total", {"source=\"server\"", "class=\"22\""}), 1);
  EXPECT_EQ(delta("pgsplit_server_errors_total", {}), 1);
  EXPECT_EQ(delta("pgsplit_session_pins_total", {}), 1);
  EXPECT_EQ(delta("pgsplit_client_connections_accepted_total", {}), 1);
  EXPECT_GE(delta("pgsplit_server_connects_total", {}), 2);
  // The client left: nothing is counted as connected any more.
  double connected = 1;
  for (int i = 0; i < 100 && connected != 0; ++i) {
    connected = metricSum(scrape(p), "pgsplit_client_connections");
    if (connected != 0) std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(connected, 0);
  // pgsplit's own errors have their source.
  {
    RawClient raw(p.port());
    EXPECT_EQ(raw.login("app", "wrong", "app"), "28P01");
  }
  EXPECT_EQ(metricSum(scrape(p), "pgsplit_errors_total", {"source=\"proxy\"", "class=\"28\""}), 1);
}

// ---- drain and shutdown ----

TEST(Shutdown, SigtermLetsAnOpenTransactionCommitThenRefusesNewClients) {
  PgsplitOptions o;
  o.shutdownTimeoutMs = 60000;  // the client, not the timeout, ends this drain
  Pgsplit p(o);
  Conn(Cluster::get().superuserConninfo(Cluster::get().primaryPort, "app"))
      .exec("DROP TABLE IF EXISTS ops_drain");
  Conn direct(Cluster::get().appConninfo(Cluster::get().primaryPort));
  direct.exec("CREATE TABLE IF NOT EXISTS ops_drain (id int primary key)");
  direct.exec("DELETE FROM ops_drain");

  Conn c(p.conninfo());
  ASSERT_TRUE(c.ok()) << c.error();
  Conn idle(p.conninfo());  // no transaction: closed at once
  ASSERT_TRUE(idle.ok()) << idle.error();
  c.exec("BEGIN");
  c.exec("INSERT INTO ops_drain VALUES (1)");
  p.signal(SIGTERM);

  // /readyz says so at once; new clients are refused.
  int status = 0;
  for (int i = 0; i < 100 && status != 503; ++i) {
    status = httpGet(p.httpPort(), "/readyz").status;
    if (status != 503) std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(status, 503);
  EXPECT_EQ(httpGet(p.httpPort(), "/readyz").body, "draining: shutting down\n");
  Conn late(p.conninfo());
  EXPECT_FALSE(late.ok()) << "a new client was accepted while draining";
  // The idle client is told why and closed.
  EXPECT_NE(idle.errorState("SELECT 1"), "");
  EXPECT_NE(std::string(PQerrorMessage(idle.get())).find("pgsplit is shutting down"),
            std::string::npos)
      << PQerrorMessage(idle.get());

  // The open transaction goes on and commits.
  c.exec("INSERT INTO ops_drain VALUES (2)");
  c.exec("COMMIT");
  EXPECT_EQ(direct.value("SELECT count(*) FROM ops_drain"), "2");
  // Then this client is closed too (57P01), and pgsplit exits 0 well before the timeout.
  const auto exit = p.waitExit(30s);
  ASSERT_TRUE(exit.has_value()) << "pgsplit still runs 30 s after its last client went idle";
  EXPECT_TRUE(WIFEXITED(*exit) && WEXITSTATUS(*exit) == 0) << *exit;
  EXPECT_NE(c.errorState("SELECT 1"), "");
  EXPECT_NE(p.log().find("drain complete"), std::string::npos);
}

TEST(Shutdown, TransactionsStillOpenAtTheTimeoutAreClosedAndRolledBack) {
  PgsplitOptions o;
  o.shutdownTimeoutMs = 500;
  Pgsplit p(o);
  Conn(Cluster::get().superuserConninfo(Cluster::get().primaryPort, "app"))
      .exec("DROP TABLE IF EXISTS ops_timeout");
  Conn direct(Cluster::get().appConninfo(Cluster::get().primaryPort));
  direct.exec("CREATE TABLE IF NOT EXISTS ops_timeout (id int)");
  direct.exec("DELETE FROM ops_timeout");
  Conn c(p.conninfo());
  ASSERT_TRUE(c.ok()) << c.error();
  c.exec("BEGIN");
  c.exec("INSERT INTO ops_timeout VALUES (1)");
  p.signal(SIGTERM);
  const auto exit = p.waitExit(20s);
  ASSERT_TRUE(exit.has_value());
  EXPECT_TRUE(WIFEXITED(*exit) && WEXITSTATUS(*exit) == 0) << *exit;
  EXPECT_NE(c.errorState("COMMIT"), "") << "the transaction was cut, its COMMIT cannot succeed";
  EXPECT_NE(p.log().find("closing 1 client still in a transaction"), std::string::npos) << p.log();
  // Its server connection was closed, so PostgreSQL rolled it back.
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    gone = direct.value(
               "SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in "
               "transaction' AND query LIKE '%ops_timeout%'") == "0";
    if (!gone) std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(gone);
  EXPECT_EQ(direct.value("SELECT count(*) FROM ops_timeout"), "0");
}

TEST(Shutdown, SigintClosesEveryClientAtOnce) {
  PgsplitOptions o;
  o.shutdownTimeoutMs = 60000;
  Pgsplit p(o);
  Conn c(p.conninfo());
  ASSERT_TRUE(c.ok()) << c.error();
  c.exec("BEGIN");
  c.value("SELECT 1");
  p.signal(SIGINT);
  const auto exit = p.waitExit(20s);
  ASSERT_TRUE(exit.has_value()) << "SIGINT must not wait for the transaction";
  EXPECT_TRUE(WIFEXITED(*exit) && WEXITSTATUS(*exit) == 0) << *exit;
  EXPECT_NE(c.errorState("SELECT 1"), "");
}

TEST(Shutdown, SecondSignalDuringTheDrainClosesAtOnce) {
  PgsplitOptions o;
  o.shutdownTimeoutMs = 60000;
  Pgsplit p(o);
  Conn c(p.conninfo());
  ASSERT_TRUE(c.ok()) << c.error();
  c.exec("BEGIN");
  p.signal(SIGTERM);
  for (int i = 0; i < 100 && httpGet(p.httpPort(), "/readyz").status != 503; ++i)
    std::this_thread::sleep_for(20ms);
  EXPECT_TRUE(p.running()) << "the transaction is still open: the drain waits";
  p.signal(SIGINT);
  const auto exit = p.waitExit(20s);
  ASSERT_TRUE(exit.has_value());
  EXPECT_TRUE(WIFEXITED(*exit) && WEXITSTATUS(*exit) == 0) << *exit;
}

TEST(Shutdown, AdminShutdownCommandDrains) {
  PgsplitOptions o;
  o.extra = "[[users]]\nname = \"admin\"\npassword = \"admin-pw\"\n[admin]\nusers = [\"admin\"]\n";
  Pgsplit p(o);
  auto [code, out] = psql(p.port(), "admin", "admin-pw", "pgsplit", "SHUTDOWN");
  EXPECT_EQ(code, 0) << out;
  const auto exit = p.waitExit(20s);
  ASSERT_TRUE(exit.has_value());
  EXPECT_TRUE(WIFEXITED(*exit) && WEXITSTATUS(*exit) == 0) << *exit;
}

// ---- reload ----

TEST(Reload, SighupWeightChangeShiftsTrafficWhileTheClientKeepsItsSession) {
  Pgsplit p;
  const Cluster& cl = Cluster::get();
  const std::string r1 = std::to_string(cl.replica1Port);
  const std::string r2 = std::to_string(cl.replica2Port);
  Conn c(p.conninfo());
  ASSERT_TRUE(c.ok()) << c.error();
  c.exec("SET application_name = 'kept-across-reloads'");
  auto ports = readPorts(c, 10);
  EXPECT_EQ(ports.count(r1), 5u);
  EXPECT_EQ(ports.count(r2), 5u);

  const std::string original = p.configText();
  p.writeConfig(withWeight(original, cl.replica2Port, 0));
  p.signal(SIGHUP);
  ASSERT_TRUE(waitForReloads(p, "ok", 1));
  ports = readPorts(c, 10);
  EXPECT_EQ(ports.count(r1), 10u) << "weight 0: no reads on replica 2";

  p.writeConfig(withWeight(withWeight(original, cl.replica1Port, 0), cl.replica2Port, 3));
  p.signal(SIGHUP);
  ASSERT_TRUE(waitForReloads(p, "ok", 2));
  ports = readPorts(c, 10);
  EXPECT_EQ(ports.count(r2), 10u);

  // The same connection all along, with its session state.
  EXPECT_EQ(PQstatus(c.get()), CONNECTION_OK);
  EXPECT_EQ(c.value("SHOW application_name"), "kept-across-reloads");
  EXPECT_NE(p.log().find("node pg2 weight: 1 -> 0"), std::string::npos) << p.log();
}

TEST(Reload, BrokenFileIsRejectedWithItsPositionAndTheOldConfigStays) {
  Pgsplit p;
  const Cluster& cl = Cluster::get();
  Conn c(p.conninfo());
  ASSERT_TRUE(c.ok()) << c.error();
  const std::string original = p.configText();
  // A weight change that must not happen, and an error further down.
  std::string broken = withWeight(original, cl.replica2Port, 0) + "[pool]\nmode = \"statement\"\n";
  p.writeConfig(broken);
  p.signal(SIGHUP);
  ASSERT_TRUE(waitForReloads(p, "failed", 1));
  const auto m = scrape(p);
  EXPECT_EQ(metricSum(m, "pgsplit_reloads_total", {"result=\"ok\""}), 0);
  EXPECT_EQ(metricSum(m, "pgsplit_last_reload_success"), 0);
  EXPECT_EQ(metricSum(m, "pgsplit_config_generation"), 1);
  EXPECT_EQ(metricSum(m, "pgsplit_node_weight", {"node=\"pg2\""}), 1);
  // The log says where, as file:line:column. (No std::regex: g++ 12 warns inside it under ASan.)
  auto hasPosition = [](const std::string& log, const std::string& file) {
    auto digits = [&log](std::size_t& i) {
      const std::size_t start = i;
      while (i < log.size() && std::isdigit(static_cast<unsigned char>(log[i])))
        ++i;
      return i > start;
    };
    for (auto at = log.find(file + ":"); at != std::string::npos;
         at = log.find(file + ":", at + 1)) {
      std::size_t i = at + file.size() + 1;
      if (digits(i) && i < log.size() && log[i++] == ':' && digits(i) &&
          log.compare(i, 2, ": ") == 0)
        return true;
    }
    return false;
  };
  EXPECT_TRUE(hasPosition(p.log(), p.configPath())) << p.log();
  EXPECT_NE(p.log().find("reload rejected"), std::string::npos);
  // Traffic as before: both replicas.
  const auto ports = readPorts(c, 10);
  EXPECT_EQ(ports.count(std::to_string(cl.replica2Port)), 5u);
  // A fixed file applies.
  p.writeConfig(original);
  p.signal(SIGHUP);
  EXPECT_TRUE(waitForReloads(p, "ok", 1));
}

TEST(Reload, NodesRemovedAndAddedBack) {
  Pgsplit p;
  const Cluster& cl = Cluster::get();
  const std::string r2 = std::to_string(cl.replica2Port);
  Conn c(p.conninfo());
  ASSERT_TRUE(c.ok()) << c.error();
  const std::string original = p.configText();
  p.writeConfig(withoutNode(original, cl.replica2Port));
  p.signal(SIGHUP);
  ASSERT_TRUE(waitForReloads(p, "ok", 1));
  EXPECT_EQ(readPorts(c, 10).count(r2), 0u);
  auto m = scrape(p);
  EXPECT_EQ(metricSum(m, "pgsplit_node_up", {"node=\"pg2\""}), 0);
  EXPECT_EQ(m.count("pgsplit_node_up{node=\"pg2\"}"), 0u) << "a removed node is not exported";

  p.writeConfig(original);
  p.signal(SIGHUP);
  ASSERT_TRUE(waitForReloads(p, "ok", 2));
  // Back once the health check has seen its role.
  bool back = false;
  for (int i = 0; i < 100 && !back; ++i) {
    back = readPorts(c, 2).count(r2) > 0;
    if (!back) std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(back) << "reads never reached the node added back";
  EXPECT_EQ(PQstatus(c.get()), CONNECTION_OK);
}

TEST(Reload, NodeAddedWhileAClientIsConnected) {
  Pgsplit p;
  const Cluster& cl = Cluster::get();
  const std::string r2 = std::to_string(cl.replica2Port);
  const std::string original = p.configText();
  // Start without replica 2 (reload right away), connect, then add it.
  p.writeConfig(withoutNode(original, cl.replica2Port));
  p.signal(SIGHUP);
  ASSERT_TRUE(waitForReloads(p, "ok", 1));
  Conn c(p.conninfo());
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(readPorts(c, 6).count(r2), 0u);
  p.writeConfig(original);
  p.signal(SIGHUP);
  ASSERT_TRUE(waitForReloads(p, "ok", 2));
  bool reached = false;
  for (int i = 0; i < 100 && !reached; ++i) {
    reached = readPorts(c, 2).count(r2) > 0;
    if (!reached) std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(reached);
}

TEST(Reload, UsersAndLimitsApplyToNewLoginsOnly) {
  Pgsplit p;
  Conn md5(p.conninfo("md5user", "md5pw"));
  ASSERT_TRUE(md5.ok()) << md5.error();
  {
    RawClient raw(p.port());
    EXPECT_EQ(raw.login("postgres", "postgres", "app"), "28P01") << "not a user yet";
  }
  std::string text = p.configText();
  // md5user leaves the file, postgres joins it, and at most 3 clients may be connected.
  const auto at = text.find("[[users]]\nname = \"md5user\"");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, std::string("[[users]]\nname = \"md5user\"\npassword = \"md5pw\"\n").size(),
               "[[users]]\nname = \"postgres\"\npassword = \"postgres\"\n");
  text.replace(text.find("workers = 2\n"), 12, "workers = 2\nmax_client_connections = 3\n");
  p.writeConfig(text);
  p.signal(SIGHUP);
  ASSERT_TRUE(waitForReloads(p, "ok", 1));

  Conn su(p.conninfo("postgres", "postgres"));
  EXPECT_TRUE(su.ok()) << su.error();
  EXPECT_EQ(md5.value("SELECT current_user"), "md5user") << "a removed user's client stays";
  {
    RawClient gone(p.port());
    EXPECT_EQ(gone.login("md5user", "md5pw", "app"), "28P01");
  }
  // Two clients connected (md5, su): a third may come (once the refused one is gone), a fourth
  // is refused.
  std::unique_ptr<Conn> third;
  for (int i = 0; i < 100; ++i) {
    third = std::make_unique<Conn>(p.conninfo());
    if (third->ok()) break;
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_TRUE(third->ok()) << third->error();
  RawClient fourth(p.port());
  EXPECT_EQ(fourth.login("app", "app", "app"), "53300");
  EXPECT_NE(p.log().find("user md5user removed"), std::string::npos) << p.log();
}

// ---- logs and secrets ----

TEST(Logs, JsonLinesAllParseAndCarryTheSession) {
  PgsplitOptions o;
  o.logFormat = "json";
  o.logLevel = "debug";
  Pgsplit p(o);
  {
    Conn c(p.conninfo() + " application_name=json-\"quoted\"");
    ASSERT_TRUE(c.ok()) << c.error();
    c.value("SELECT 1");
    c.exec("CREATE TABLE IF NOT EXISTS ops_json (x text)");
    c.errorState("SELECT 1/0");
  }
  {
    RawClient raw(p.port());
    raw.login("app", "wrong", "app");
  }
  p.signal(SIGHUP);
  ASSERT_TRUE(waitForReloads(p, "ok", 1));
  p.signal(SIGTERM);
  ASSERT_TRUE(p.waitExit(20s).has_value());
  const std::string log = p.log();
  char path[] = "/tmp/pgsplit-json-log-XXXXXX";
  const int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::write(fd, log.data(), log.size());
  ::close(fd);
  // Every line is one JSON object with time, level and msg; session lines have an integer id.
  auto [code, out] = runCommand(
      "python3 -c '\n"
      "import json, sys\n"
      "lines = open(sys.argv[1], encoding=\"utf-8\").read().splitlines()\n"
      "assert lines, \"empty log\"\n"
      "sessions = set()\n"
      "for n, line in enumerate(lines, 1):\n"
      "    d = json.loads(line)\n"
      "    assert set(d) <= {\"time\", \"level\", \"session\", \"msg\"}, (n, d)\n"
      "    assert d[\"time\"].endswith(\"Z\") and d[\"level\"] and isinstance(d[\"msg\"], str), n\n"
      "    assert not d[\"msg\"].startswith(\"[c\"), (n, d)\n"
      "    if \"session\" in d: sessions.add(d[\"session\"])\n"
      "print(len(lines), len(sessions))\n"
      "' " +
      std::string(path));
  std::remove(path);
  EXPECT_EQ(code, 0) << out << "\n--- log ---\n" << log;
  // Two client sessions logged lines of their own.
  int lines = 0, sessions = 0;
  std::sscanf(out.c_str(), "%d %d", &lines, &sessions);
  EXPECT_GE(sessions, 2) << out;
  EXPECT_NE(log.find("\"msg\":\"client 127.0.0.1:"), std::string::npos);
}

TEST(Logs, NoPasswordInAnyLogAtDebugLevelWhateverItsSource) {
  const Cluster& cl = Cluster::get();
  const std::string envSecret = "Env-S3cret-7f3a91";
  const std::string fileSecret = "File-S3cret-c44e02";
  {
    Conn su(cl.superuserConninfo(cl.primaryPort));
    su.exec(
        "DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ops_env') THEN "
        "CREATE ROLE ops_env LOGIN; END IF; IF NOT EXISTS (SELECT FROM pg_roles WHERE "
        "rolname = 'ops_file') THEN CREATE ROLE ops_file LOGIN; END IF; END$$");
    su.exec("ALTER ROLE ops_env PASSWORD '" + envSecret + "'");
    su.exec("ALTER ROLE ops_file PASSWORD '" + fileSecret + "'");
    su.exec("GRANT CONNECT ON DATABASE app TO ops_env, ops_file");
  }
  cl.waitForReplicas();
  char dir[] = "/tmp/pgsplit-secret-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  const std::string secretFile = std::string(dir) + "/ops_file.password";
  std::ofstream(secretFile) << fileSecret << "\n";

  PgsplitOptions o;
  o.logLevel = "trace";
  o.env = {{"PGSPLIT_IT_ENV_SECRET", envSecret}};
  o.extra =
      "[[users]]\nname = \"ops_env\"\npassword = \"${PGSPLIT_IT_ENV_SECRET}\"\n"
      "[[users]]\nname = \"ops_file\"\npassword_file = \"" +
      secretFile + "\"\n[[users]]\nname = \"admin\"\npassword = \"admin-pw\"\n" +
      "[admin]\nusers = [\"admin\"]\n";
  Pgsplit p(o);
  for (const auto& [user, secret] : {std::pair{std::string("ops_env"), envSecret},
                                     std::pair{std::string("ops_file"), fileSecret}}) {
    Conn c(p.conninfo(user, secret));
    ASSERT_TRUE(c.ok()) << user << ": " << c.error();
    EXPECT_EQ(c.value("SELECT current_user"), user);
    EXPECT_EQ(c.value("SELECT pg_is_in_recovery()"), "t") << "logged in on a replica too";
    c.exec("BEGIN");
    EXPECT_EQ(c.value("SELECT pg_is_in_recovery()"), "f") << "and on the primary";
    c.exec("COMMIT");
    RawClient wrong(p.port());
    EXPECT_EQ(wrong.login(user, secret + "-wrong", "app"), "28P01");
  }
  auto [code, config] = psql(p.port(), "admin", "admin-pw", "pgsplit", "SHOW CONFIG");
  EXPECT_EQ(code, 0) << config;
  EXPECT_NE(config.find("users.ops_env|password from environment variable PGSPLIT_IT_ENV_SECRET"),
            std::string::npos)
      << config;
  EXPECT_NE(config.find("users.ops_file|password from file " + secretFile), std::string::npos);
  const std::string metrics = httpGet(p.httpPort(), "/metrics").body;
  const std::string nodes = httpGet(p.httpPort(), "/nodes").body;
  p.signal(SIGHUP);  // a reload re-reads both sources
  ASSERT_TRUE(waitForReloads(p, "ok", 1));
  const std::string log = p.log();
  EXPECT_NE(log.find("authentication failed for user \"ops_env\""), std::string::npos) << log;
  for (const std::string& secret : {envSecret, fileSecret}) {
    EXPECT_EQ(log.find(secret), std::string::npos) << "the log holds a password";
    EXPECT_EQ(config.find(secret), std::string::npos);
    EXPECT_EQ(metrics.find(secret), std::string::npos);
    EXPECT_EQ(nodes.find(secret), std::string::npos);
  }
  std::remove(secretFile.c_str());
  ::rmdir(dir);
}

}  // namespace
}  // namespace pgsplit::test
