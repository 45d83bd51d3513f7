// Routing rules and clusters (issue #9) against real servers: the fixture cluster (primary + 2
// replicas) as cluster "main" and a standalone primary of the suite's own as cluster "events".
// Where a statement ran is told by inet_server_port().
#include <libpq-fe.h>

#include <array>
#include <map>
#include <memory>
#include <thread>

#include "harness.hpp"
#include "ops_util.hpp"
#include "standalone_primary.hpp"

namespace pgsplit::test {
namespace {

const std::string kAdmin =
    "[[users]]\nname = \"admin\"\npassword = \"admin-pw\"\n[admin]\nusers = [\"admin\"]\n";

class Rules : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const Cluster& c = Cluster::get();
    second_ = new StandalonePrimary(c.binDir);
    if (!second_->ok()) return;
    // Tables of the fixture cluster (as app, in database app).
    Conn primary(c.appConninfo(c.primaryPort));
    primary.exec("CREATE TABLE IF NOT EXISTS rules_hot (id int)");
    primary.exec("CREATE TABLE IF NOT EXISTS rules_cold (id int)");
    primary.exec("TRUNCATE rules_hot, rules_cold");
    primary.exec("INSERT INTO rules_hot VALUES (1)");
    primary.exec("INSERT INTO rules_cold VALUES (1)");
    c.waitForReplicas();
    // The second cluster: a schema a rule sends there, and a database of its own.
    Conn app(second_->appConninfo("app"));
    app.exec("CREATE SCHEMA ev");
    app.exec("CREATE TABLE ev.clicks (id int)");
    Conn events(second_->appConninfo("events"));
    events.exec("CREATE TABLE visits (id int)");
  }
  static void TearDownTestSuite() {
    delete second_;
    second_ = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(second_ != nullptr && second_->ok()); }

  // pgsplit with the fixture cluster as "main", the standalone primary as "events", and rules.
  static PgsplitOptions withClusters(const std::string& rules,
                                     const std::string& eventsDatabases = "[\"events\"]") {
    PgsplitOptions o;
    o.nodeCluster = "main";
    // (No databases: the events cluster is reached only through rules.)
    o.extra = "[[clusters]]\nname = \"events\"\n" +
              (eventsDatabases.empty() ? "" : "databases = " + eventsDatabases + "\n") +
              "[[clusters]]\nname = \"main\"\ndatabases = [\"*\"]\n" +
              "[[nodes]]\nname = \"ev0\"\ncluster = \"events\"\nhost = \"127.0.0.1\"\nport = " +
              std::to_string(second_->port()) + "\n" + kAdmin + rules;
    return o;
  }
  static PgsplitOptions withRules(const std::string& rules) {
    PgsplitOptions o;
    o.extra = kAdmin + rules;
    return o;
  }
  static std::string portOf(Conn& c, const std::string& from) {
    return c.value("SELECT inet_server_port() FROM (SELECT count(*) FROM " + from + ") s");
  }
  // SHOW RULES as name -> hits.
  static std::map<std::string, long> hits(const Pgsplit& p) {
    auto [code, out] = psql(p.port(), "admin", "admin-pw", "pgsplit", "SHOW RULES");
    EXPECT_EQ(code, 0) << out;
    std::map<std::string, long> m;
    for (const auto& row : psqlRows(out))
      if (row.size() >= 5) m[row[1]] = std::stol(row[4]);
    return m;
  }

  const Cluster& cluster_ = Cluster::get();
  static StandalonePrimary* second_;
};
StandalonePrimary* Rules::second_ = nullptr;

TEST_F(Rules, TableRuleKeepsItsStatementsOnThePrimary) {
  Pgsplit p(withRules(R"(
[[rules]]
name = "hot tables stay on the primary"
tables = ["public.rules_hot"]
route = "primary"
)"));
  Conn c(p.conninfo());
  ASSERT_TRUE(c.ok()) << c.error();
  awaitReplicaReads(c, "rules_cold");  // reads of other tables do reach replicas
  const std::string primary = std::to_string(cluster_.primaryPort);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(portOf(c, "rules_hot"), primary);
    EXPECT_EQ(portOf(c, "rules_cold s2 JOIN rules_hot USING (id)"), primary);
    // A rule's route wins over the statement's hint.
    EXPECT_EQ(c.value("/* pgsplit:replica */ SELECT inet_server_port() FROM "
                      "(SELECT count(*) FROM rules_hot) s"),
              primary);
  }
  EXPECT_NE(portOf(c, "rules_cold"), primary);
  EXPECT_EQ(hits(p)["hot tables stay on the primary"], 15);
  EXPECT_NE(p.log().find("[rule hot tables stay on the primary]"), std::string::npos);
}

TEST_F(Rules, ApplicationNameRuleSendsReadsToReplicas) {
  Pgsplit p(withRules(R"(
[[rules]]
name = "reporting reads on replicas"
application_name = "reporting*"
statement = "read"
route = "replica"
)"));
  const std::string primary = std::to_string(cluster_.primaryPort);
  Conn reporting(p.conninfo() + " application_name=reporting-daily");
  ASSERT_TRUE(reporting.ok()) << reporting.error();
  awaitReplicaReads(reporting, "rules_cold");
  // Right after its own write a session reads on the primary (read-your-writes); a reporting
  // tool's reads go to a replica anyway: the rule says they may.
  EXPECT_EQ(reporting.value("INSERT INTO rules_cold VALUES (2) RETURNING inet_server_port()"),
            primary);
  EXPECT_NE(portOf(reporting, "rules_cold"), primary);
  Conn web(p.conninfo() + " application_name=web");
  awaitReplicaReads(web, "rules_cold");
  EXPECT_EQ(web.value("INSERT INTO rules_cold VALUES (3) RETURNING inet_server_port()"), primary);
  EXPECT_EQ(portOf(web, "rules_cold"), primary);
  // (Its reads before the catalog vouched for rules_cold hit the rule too, and stayed on the
  // primary: the rule never sends what is not known to be a read to a replica.)
  EXPECT_GE(hits(p)["reporting reads on replicas"], 2);
}

TEST_F(Rules, DatabaseMapsToTheSecondCluster) {
  Pgsplit p(withClusters(""));
  Conn events(p.conninfo("app", "app", "events"));
  ASSERT_TRUE(events.ok()) << events.error();
  const std::string second = std::to_string(second_->port());
  EXPECT_EQ(events.value("SELECT inet_server_port()"), second);
  EXPECT_EQ(events.value("INSERT INTO visits VALUES (1) RETURNING inet_server_port()"), second);
  EXPECT_EQ(events.value("SELECT count(*) FROM visits"), "1");
  events.exec("BEGIN");
  EXPECT_EQ(events.value("SELECT inet_server_port()"), second);
  events.exec("COMMIT");
  // Database app is on main: its primary and replicas, never the second cluster's node.
  Conn app(p.conninfo());
  EXPECT_EQ(app.value("INSERT INTO rules_cold VALUES (4) RETURNING inet_server_port()"),
            std::to_string(cluster_.primaryPort));
  Conn fresh(p.conninfo());
  awaitReplicaReads(fresh, "rules_cold");
  // SHOW CLUSTERS names both, with their nodes and primaries.
  auto [code, out] = psql(p.port(), "admin", "admin-pw", "pgsplit", "SHOW CLUSTERS");
  ASSERT_EQ(code, 0) << out;
  const auto rows = psqlRows(out);
  ASSERT_EQ(rows.size(), 2u) << out;
  EXPECT_EQ(rows[0][0], "events");
  EXPECT_EQ(rows[0][3], "ev0");
  EXPECT_EQ(rows[0][4], "ev0");
  EXPECT_EQ(rows[1][0], "main");
  EXPECT_EQ(rows[1][3], "pg0, pg1, pg2");
  EXPECT_EQ(rows[1][4], "pg0");
  // SHOW NODES and /nodes say which cluster each node is in.
  auto [nodesCode, nodesOut] = psql(p.port(), "admin", "admin-pw", "pgsplit", "SHOW NODES");
  ASSERT_EQ(nodesCode, 0) << nodesOut;
  std::map<std::string, std::string> clusterOf;
  for (const auto& row : psqlRows(nodesOut))
    if (row.size() == 15u) clusterOf[row[0]] = row[14];
  EXPECT_EQ(clusterOf["pg0"], "main") << nodesOut;
  EXPECT_EQ(clusterOf["pg2"], "main") << nodesOut;
  EXPECT_EQ(clusterOf["ev0"], "events") << nodesOut;
  EXPECT_NE(httpGet(p.httpPort(), "/nodes").body.find("\"name\":\"ev0\""), std::string::npos);
  EXPECT_NE(httpGet(p.httpPort(), "/nodes").body.find("\"cluster\":\"events\""), std::string::npos);
}

TEST_F(Rules, ADatabaseNoClusterServesIsRefusedAtLogin) {
  PgsplitOptions o = withClusters("");
  // Only these two databases are served.
  o.extra =
      "[[clusters]]\nname = \"main\"\ndatabases = [\"app\"]\n[[clusters]]\nname = "
      "\"events\"\ndatabases = [\"events\"]\n[[nodes]]\nname = \"ev0\"\ncluster = "
      "\"events\"\nhost = \"127.0.0.1\"\nport = " +
      std::to_string(second_->port()) + "\n";
  Pgsplit p(o);
  RawClient raw(p.port());
  EXPECT_EQ(raw.login("app", "app", "postgres"), "3D000");
  Conn ok(p.conninfo("app", "app", "events"));
  EXPECT_TRUE(ok.ok()) << ok.error();
}

TEST_F(Rules, BlockRuleRefusesAndFailsTheTransaction) {
  Pgsplit p(withRules(R"(
[[rules]]
name = "no long sleeps"
query_regex = "pg_sleep\\s*\\(\\s*[0-9]{3,}"
block = "long pg_sleep is not allowed through pgsplit"
)"));
  Conn c(p.conninfo());
  ASSERT_TRUE(c.ok()) << c.error();
  const auto started = std::chrono::steady_clock::now();
  PGresult* r = PQexec(c.get(), "SELECT pg_sleep(1000)");
  EXPECT_EQ(PQresultStatus(r), PGRES_FATAL_ERROR);
  EXPECT_STREQ(PQresultErrorField(r, PG_DIAG_SQLSTATE), "42501");
  EXPECT_STREQ(PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY),
               "long pg_sleep is not allowed through pgsplit");
  PQclear(r);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  EXPECT_EQ(c.value("SELECT 1"), "1");  // the session goes on
  // The extended protocol too.
  r = PQexecParams(c.get(), "SELECT pg_sleep(1000), $1::int", 1, nullptr,
                   std::array<const char*, 1>{"1"}.data(), nullptr, nullptr, 0);
  EXPECT_STREQ(PQresultErrorField(r, PG_DIAG_SQLSTATE), "42501");
  PQclear(r);
  EXPECT_EQ(c.value("SELECT 2"), "2");
  // Inside a transaction the refusal fails the transaction, as PostgreSQL's own error would:
  // what was written before it is rolled back.
  c.exec("BEGIN");
  c.exec("INSERT INTO rules_cold VALUES (4242)");
  EXPECT_EQ(c.errorState("SELECT pg_sleep(1000)"), "42501");
  EXPECT_EQ(c.errorState("SELECT 1"), "25P02");
  r = PQexec(c.get(), "COMMIT");
  EXPECT_STREQ(PQcmdStatus(r), "ROLLBACK");
  PQclear(r);
  Conn primary(cluster_.appConninfo(cluster_.primaryPort));
  EXPECT_EQ(primary.value("SELECT count(*) FROM rules_cold WHERE id = 4242"), "0");
  EXPECT_EQ(hits(p)["no long sleeps"], 3);
}

TEST_F(Rules, CrossClusterTransactionFailsCleanly) {
  Pgsplit p(withClusters(R"(
[[rules]]
name = "event tables live on the events cluster"
tables = ["ev.*"]
cluster = "events"
)",
                         ""));
  ASSERT_TRUE(p.running());
  Conn c(p.conninfo());
  ASSERT_TRUE(c.ok()) << c.error();
  const std::string second = std::to_string(second_->port());
  // Outside a transaction each unit goes to its cluster.
  EXPECT_EQ(c.value("INSERT INTO ev.clicks VALUES (1) RETURNING inet_server_port()"), second);
  EXPECT_EQ(c.value("INSERT INTO rules_cold VALUES (5) RETURNING inet_server_port()"),
            std::to_string(cluster_.primaryPort));
  // A transaction on main that reaches for the events cluster: a clear error, and the
  // transaction fails as a whole (nothing of it commits).
  c.exec("BEGIN");
  c.exec("INSERT INTO rules_cold VALUES (4343)");
  PGresult* r = PQexec(c.get(), "INSERT INTO ev.clicks VALUES (4343)");
  EXPECT_STREQ(PQresultErrorField(r, PG_DIAG_SQLSTATE), "0A000");
  const std::string message = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
  EXPECT_NE(message.find("cluster \"main\""), std::string::npos) << message;
  EXPECT_NE(message.find("cluster \"events\""), std::string::npos) << message;
  PQclear(r);
  r = PQexec(c.get(), "COMMIT");
  EXPECT_STREQ(PQcmdStatus(r), "ROLLBACK");
  PQclear(r);
  Conn primary(cluster_.appConninfo(cluster_.primaryPort));
  EXPECT_EQ(primary.value("SELECT count(*) FROM rules_cold WHERE id = 4343"), "0");
  Conn events(second_->appConninfo("app"));
  EXPECT_EQ(events.value("SELECT count(*) FROM ev.clicks WHERE id = 4343"), "0");
  // The other way round: a transaction the rule started on events takes no statement for main
  // that a rule sends elsewhere, but the session's own statements follow it (COMMIT too).
  c.exec("BEGIN; INSERT INTO ev.clicks VALUES (7)");
  EXPECT_EQ(c.value("SELECT inet_server_port()"), second);
  c.exec("COMMIT");
  EXPECT_EQ(events.value("SELECT count(*) FROM ev.clicks WHERE id = 7"), "1");
}

TEST_F(Rules, HitsInMetricsAndReloadAppliesNewRules) {
  Pgsplit p(withRules(R"(
[[rules]]
name = "hot"
tables = ["rules_hot"]
route = "primary"
)"));
  Conn c(p.conninfo());
  ASSERT_TRUE(c.ok()) << c.error();
  for (int i = 0; i < 3; ++i)
    c.value("SELECT count(*) FROM rules_hot");
  auto metrics = parseMetrics(httpGet(p.httpPort(), "/metrics").body);
  EXPECT_EQ(metricSum(metrics, "pgsplit_rule_hits_total", {"rule=\"hot\""}), 3);
  EXPECT_GT(metricSum(metrics, "pgsplit_rule_last_hit_timestamp_seconds", {"rule=\"hot\""}), 0);
  // A bad file is refused and the rules in force stay.
  std::string text = p.configText();
  p.writeConfig(text + "[[rules]]\nname = \"broken\"\nquery_regex = \"(\"\nblock = \"x\"\n");
  auto [bad, badOut] = psql(p.port(), "admin", "admin-pw", "pgsplit", "RELOAD");
  EXPECT_NE(bad, 0);
  EXPECT_NE(badOut.find("query_regex"), std::string::npos) << badOut;
  EXPECT_EQ(c.value("SELECT count(*) FROM rules_hot WHERE id < 0"), "0");
  // A good one applies to the sessions already connected, and "hot" keeps its counter.
  p.writeConfig(text + "[[rules]]\nname = \"no cold\"\ntables = \"rules_cold\"\nblock = \"no\"\n");
  auto [good, goodOut] = psql(p.port(), "admin", "admin-pw", "pgsplit", "RELOAD");
  EXPECT_EQ(good, 0) << goodOut;
  EXPECT_EQ(c.errorState("SELECT count(*) FROM rules_cold"), "42501");
  const auto h = hits(p);
  EXPECT_EQ(h.at("hot"), 4);
  EXPECT_EQ(h.at("no cold"), 1);
}

}  // namespace
}  // namespace pgsplit::test
