// What operators see of the traffic, against a live pgsplit and the real cluster: latency
// histograms (SHOW STATS, /metrics), statement statistics (SHOW QUERIES), the slow-statement
// log, PAUSE / RESUME, and the session id on a session's log lines.
#include <future>
#include <thread>

#include "harness.hpp"
#include "ops_util.hpp"

namespace pgsplit::test {
namespace {

using namespace std::chrono_literals;

const std::string kAdmin =
    "[[users]]\nname = \"admin\"\npassword = \"admin-pw\"\n[admin]\nusers = [\"admin\"]\n";

std::map<std::string, double> scrape(const Pgsplit& p) {
  const HttpReply r = httpGet(p.httpPort(), "/metrics");
  EXPECT_EQ(r.status, 200) << r.body;
  return parseMetrics(r.body);
}

std::vector<std::vector<std::string>> adminRows(const Pgsplit& p, const std::string& command) {
  auto [code, out] = psql(p.port(), "admin", "admin-pw", "pgsplit", command);
  EXPECT_EQ(code, 0) << command << ": " << out;
  return psqlRows(out);
}

// A unit's latency is recorded right after its last reply is written to the client, so the
// client may look before the worker has: poll (bounded) until `done` holds.
template <class F>
bool eventually(F done, std::chrono::milliseconds limit = 3000ms) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

// ---- latency ----

TEST(OperationsLatency, ShowStatsAndMetricsTimeEveryUnitByNodeAndRoute) {
  PgsplitOptions o;
  o.extra = kAdmin;
  Pgsplit p(o);
  const auto before = scrape(p);
  {
    Conn c(p.conninfo());
    ASSERT_TRUE(c.ok()) << c.error();
    for (int i = 0; i < 6; ++i)
      EXPECT_EQ(c.value("SELECT pg_is_in_recovery()"), "t");
    c.exec("CREATE TABLE IF NOT EXISTS ops_latency (x int)");
    c.exec("INSERT INTO ops_latency VALUES (1)");
    EXPECT_EQ(c.errorState("INSERT INTO ops_latency VALUES ('nope')"), "22P02");
  }
  auto delta = [&](const std::map<std::string, double>& after, const std::string& name,
                   const std::vector<std::string>& labels) {
    return metricSum(after, name, labels) - metricSum(before, name, labels);
  };
  std::map<std::string, double> after;
  const std::string count = "pgsplit_query_duration_seconds_count";
  ASSERT_TRUE(eventually([&] {
    after = scrape(p);
    return delta(after, count, {}) >= 9;
  })) << "the histograms never counted the nine units";
  // Counts agree with the units sent, node by node and route by route.
  for (const std::string node : {"pg0", "pg1", "pg2"}) {
    for (const std::string route : {"primary", "replica"}) {
      const std::vector<std::string> labels{"node=\"" + node + "\"", "route=\"" + route + "\""};
      EXPECT_EQ(delta(after, count, labels), delta(after, "pgsplit_queries_total", labels))
          << node << " " << route;
      // Buckets are cumulative and end with the count.
      EXPECT_EQ(metricSum(after, "pgsplit_query_duration_seconds_bucket",
                          {labels[0], labels[1], "le=\"+Inf\""}),
                metricSum(after, count, labels));
      EXPECT_LE(metricSum(after, "pgsplit_query_duration_seconds_bucket",
                          {labels[0], labels[1], "le=\"0.001\""}),
                metricSum(after, "pgsplit_query_duration_seconds_bucket",
                          {labels[0], labels[1], "le=\"0.01\""}));
    }
  }
  EXPECT_EQ(delta(after, count, {"route=\"replica\""}), 6);
  EXPECT_EQ(delta(after, count, {"node=\"pg0\"", "route=\"primary\""}), 3);
  EXPECT_GT(delta(after, "pgsplit_query_duration_seconds_sum", {}), 0);
  // Every checkout that got a connection: at least one per node used (new connections).
  EXPECT_GE(metricSum(after, "pgsplit_pool_wait_duration_seconds_count", {"node=\"pg0\""}), 1);
  EXPECT_EQ(metricSum(after, "pgsplit_pool_wait_duration_seconds_count", {}),
            metricSum(after, "pgsplit_pool_wait_duration_seconds_bucket", {"le=\"+Inf\""}));

  // SHOW STATS: the same, with the mean and the estimated p99 per route.
  std::map<std::string, std::vector<std::string>> stats;
  for (auto& r : adminRows(p, "SHOW STATS")) {
    ASSERT_EQ(r.size(), 17u);
    stats[r[0]] = r;
  }
  for (const std::string replica : {"pg1", "pg2"}) {
    const auto& r = stats.at(replica);
    EXPECT_EQ(r[3], "3") << "round robin";
    ASSERT_FALSE(r[14].empty()) << "avg_ms_as_replica";
    EXPECT_GT(std::stod(r[14]), 0);
    ASSERT_FALSE(r[15].empty()) << "p99_ms_as_replica";
    EXPECT_GT(std::stod(r[15]), 0);
    EXPECT_TRUE(r[12].empty()) << "no unit ran on it as a primary";
  }
  const auto& primary = stats.at("pg0");
  ASSERT_FALSE(primary[12].empty()) << "avg_ms_as_primary";
  EXPECT_GT(std::stod(primary[12]), 0);
  EXPECT_EQ(primary[10], "1") << "errors_as_primary";
  EXPECT_EQ(primary[11], "0") << "errors_as_replica";
  EXPECT_FALSE(primary[16].empty()) << "pool_wait_p99_ms";
  EXPECT_FALSE(stats.at("(total)")[14].empty());
}

// ---- statement statistics ----

TEST(OperationsQueries, ShowQueriesCountsEachStatementWithoutItsValues) {
  PgsplitOptions o;
  o.extra = kAdmin;
  Pgsplit p(o);
  Conn c(p.conninfo());
  ASSERT_TRUE(c.ok()) << c.error();
  // Simple protocol, the constants inline and different every time.
  for (int i = 0; i < 7; ++i)
    c.value("SELECT 'literal-secret-" + std::to_string(i) + "' AS ops_q, " + std::to_string(i) +
            " + 1000");
  // Extended protocol: the value is a parameter.
  for (int i = 0; i < 5; ++i) {
    const std::string value = "param-secret-" + std::to_string(i);
    const char* values[] = {value.c_str()};
    PGresult* r = PQexecParams(c.get(), "SELECT length($1::text) AS ops_q_param", 1, nullptr,
                               values, nullptr, nullptr, 0);
    EXPECT_EQ(PQresultStatus(r), PGRES_TUPLES_OK) << PQerrorMessage(c.get());
    PQclear(r);
  }
  c.exec("CREATE TABLE IF NOT EXISTS ops_queries (x int)");
  for (int i = 0; i < 3; ++i)
    c.exec("INSERT INTO ops_queries VALUES (" + std::to_string(i) + ")");

  const std::string simple = "SELECT $1 AS ops_q, $2 + $3";
  const std::string extended = "SELECT length($1::text) AS ops_q_param";
  const std::string insert = "INSERT INTO ops_queries VALUES ($1)";
  std::map<std::string, std::vector<std::string>> rows;
  ASSERT_TRUE(eventually([&] {
    rows.clear();
    for (auto& r : adminRows(p, "SHOW QUERIES"))
      if (r.size() == 6) rows[r[0]] = r;
    return rows.count(insert) && rows.at(insert)[1] == "3";
  })) << "SHOW QUERIES never showed the INSERT three times";
  ASSERT_TRUE(rows.count(simple)) << "normalised simple-protocol text missing";
  EXPECT_EQ(rows.at(simple)[1], "7");  // calls
  EXPECT_EQ(rows.at(simple)[5], "7") << "all on replicas";
  EXPECT_GT(std::stod(rows.at(simple)[2]), 0);  // total_ms
  ASSERT_TRUE(rows.count(extended));
  EXPECT_EQ(rows.at(extended)[1], "5");
  EXPECT_EQ(rows.at(insert)[4], "3") << "on the primary";
  // No constant and no parameter value anywhere in the answer.
  auto [code, out] = psql(p.port(), "admin", "admin-pw", "pgsplit", "SHOW QUERIES");
  EXPECT_EQ(code, 0);
  EXPECT_EQ(out.find("secret"), std::string::npos) << out;
  EXPECT_EQ(out.find("1000"), std::string::npos) << out;
}

// ---- slow statements ----

TEST(OperationsSlowLog, LogsStatementsOverTheThresholdOnlyWithNormalisedText) {
  PgsplitOptions o;
  o.logExtra = "slow_statement_ms = 100";
  Pgsplit p(o);
  Conn c(p.conninfo());
  ASSERT_TRUE(c.ok()) << c.error();
  for (int i = 0; i < 5; ++i)
    c.value("SELECT 'fast-secret', 1");
  c.value("SELECT pg_sleep(0.3), 'slow-secret'");
  std::string line;
  ASSERT_TRUE(eventually([&] {
    const std::string log = p.log();
    const auto at = log.find("slow statement: ");
    if (at == std::string::npos) return false;
    const auto begin = log.rfind('\n', at);
    line = log.substr(begin + 1, log.find('\n', at) - begin - 1);
    return true;
  })) << p.log();
  EXPECT_NE(line.find("SELECT pg_sleep($1), $2"), std::string::npos) << line;
  EXPECT_NE(line.find(" warning "), std::string::npos) << line;
  EXPECT_NE(line.find("[c"), std::string::npos) << "the session id: " << line;
  EXPECT_NE(line.find("(replica)"), std::string::npos) << line;
  EXPECT_EQ(line.find("secret"), std::string::npos) << line;
  EXPECT_EQ(line.find("0.3"), std::string::npos) << line;
  const std::string log = p.log();
  EXPECT_EQ(log.find("slow statement: ", log.find("slow statement: ") + 1), std::string::npos)
      << "only the slow one is logged:\n"
      << log;
}

// ---- PAUSE / RESUME ----

class OperationsPause : public ::testing::Test {
 protected:
  void SetUp() override {
    PgsplitOptions o;
    o.extra = kAdmin + "pause_timeout_ms = 5000\n";
    proxy_ = std::make_unique<Pgsplit>(o);
  }
  std::string adminConninfo() const { return proxy_->conninfo("admin", "admin-pw", "pgsplit"); }
  double metric(const std::string& name) { return metricSum(scrape(*proxy_), name); }
  std::unique_ptr<Pgsplit> proxy_;
};

TEST_F(OperationsPause, WaitsForOpenTransactionsThenHoldsNewUnitsUntilResume) {
  Conn txn(proxy_->conninfo());
  ASSERT_TRUE(txn.ok()) << txn.error();
  txn.exec("BEGIN");
  txn.exec("SELECT 1");

  // PAUSE waits for the open transaction...
  Conn admin(adminConninfo());
  ASSERT_TRUE(admin.ok()) << admin.error();
  auto pause = std::async(std::launch::async, [&] { return admin.errorState("PAUSE"); });
  EXPECT_EQ(pause.wait_for(300ms), std::future_status::timeout) << "PAUSE returned too early";
  EXPECT_EQ(metric("pgsplit_paused"), 1);
  // ...which goes on (its statements are not held) and ends.
  txn.exec("SELECT 2");
  txn.exec("COMMIT");
  ASSERT_EQ(pause.wait_for(3s), std::future_status::ready) << "PAUSE did not return";
  EXPECT_EQ(pause.get(), "") << "PAUSE failed";

  // A client's next statement now waits: it is not refused.
  Conn c(proxy_->conninfo());  // logging in is not held
  ASSERT_TRUE(c.ok()) << c.error();
  auto held = std::async(std::launch::async, [&] { return c.value("SELECT 'after resume'"); });
  EXPECT_EQ(held.wait_for(400ms), std::future_status::timeout) << "the statement was not held";
  EXPECT_TRUE(eventually([&] { return metric("pgsplit_paused_clients") == 1; }));
  bool listed = false;
  for (const auto& r :
       psqlRows(psql(proxy_->port(), "admin", "admin-pw", "pgsplit", "SHOW CLIENTS").second))
    listed = listed || (r.size() == 15 && r[14] == "t");
  EXPECT_TRUE(listed) << "SHOW CLIENTS shows no paused client";
  EXPECT_EQ(httpGet(proxy_->httpPort(), "/readyz").status, 200) << "paused is still ready";

  admin.exec("RESUME");
  ASSERT_EQ(held.wait_for(3s), std::future_status::ready) << "RESUME did not release it";
  EXPECT_EQ(held.get(), "after resume");
  EXPECT_EQ(metric("pgsplit_paused"), 0);
  EXPECT_TRUE(eventually([&] { return metric("pgsplit_paused_clients") == 0; }));
  EXPECT_EQ(c.value("SELECT 1"), "1");
}

TEST_F(OperationsPause, GivesUpAfterItsTimeoutAndLiftsThePause) {
  // A short pause_timeout_ms, set by a reload.
  std::string text = proxy_->configText();
  const auto at = text.find("pause_timeout_ms = 5000");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 23, "pause_timeout_ms = 300");
  proxy_->writeConfig(text);
  Conn admin(adminConninfo());
  ASSERT_TRUE(admin.ok()) << admin.error();
  admin.exec("RELOAD");

  Conn txn(proxy_->conninfo());
  txn.exec("BEGIN");
  txn.exec("SELECT 1");
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(admin.errorState("PAUSE"), "57014");
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 3s);
  EXPECT_NE(std::string(PQerrorMessage(admin.get())).find("within 300 ms"), std::string::npos)
      << PQerrorMessage(admin.get());
  EXPECT_EQ(metric("pgsplit_paused"), 0);
  Conn other(proxy_->conninfo());
  EXPECT_EQ(other.value("SELECT 'not held'"), "not held");
  txn.exec("COMMIT");
}

TEST_F(OperationsPause, OneDatabaseOnly) {
  Conn admin(adminConninfo());
  ASSERT_TRUE(admin.ok()) << admin.error();
  admin.exec("PAUSE postgres");
  Conn elsewhere(proxy_->conninfo());  // database app: not paused
  EXPECT_EQ(elsewhere.value("SELECT 'app runs'"), "app runs");
  Conn paused(proxy_->conninfo("app", "app", "postgres"));
  ASSERT_TRUE(paused.ok()) << paused.error();
  auto held = std::async(std::launch::async, [&] { return paused.value("SELECT 'later'"); });
  EXPECT_EQ(held.wait_for(300ms), std::future_status::timeout);
  EXPECT_EQ(admin.errorState("RESUME app"), "") << "resuming a database not paused is a notice";
  EXPECT_EQ(held.wait_for(200ms), std::future_status::timeout);
  admin.exec("RESUME postgres");
  ASSERT_EQ(held.wait_for(3s), std::future_status::ready);
  EXPECT_EQ(held.get(), "later");
}

TEST_F(OperationsPause, ShutdownClosesHeldClients) {
  Conn admin(adminConninfo());
  admin.exec("PAUSE");
  Conn c(proxy_->conninfo());
  ASSERT_TRUE(c.ok());
  auto held = std::async(std::launch::async, [&] { return c.errorState("SELECT 1"); });
  EXPECT_EQ(held.wait_for(300ms), std::future_status::timeout);
  admin.exec("SHUTDOWN");
  ASSERT_EQ(held.wait_for(5s), std::future_status::ready) << "the held client was not closed";
  EXPECT_NE(held.get(), "");  // 57P01, or the connection closed
  const auto exit = proxy_->waitExit(10s);
  EXPECT_TRUE(exit.has_value());
}

// ---- the session id on a session's lines ----

TEST(OperationsLogs, LinesAboutASessionCarryItsId) {
  PgsplitOptions o;
  o.logFormat = "json";
  o.logExtra = "slow_statement_ms = 1";
  Pgsplit p(o);
  {
    Conn c(p.conninfo());
    ASSERT_TRUE(c.ok()) << c.error();
    c.exec("CREATE TABLE IF NOT EXISTS ops_logs (x int)");
    c.exec("/* pgsplit:replica */ INSERT INTO ops_logs VALUES (1)");  // the hint is ignored
    c.value("SELECT pg_sleep(0.01)");                                 // slow (over 1 ms)
  }
  ASSERT_TRUE(eventually([&] { return p.log().find("disconnected") != std::string::npos; }));
  int hintLines = 0, slowLines = 0;
  std::size_t start = 0;
  const std::string log = p.log();
  while (start < log.size()) {
    const auto end = log.find('\n', start);
    const std::string line = log.substr(start, end - start);
    start = end == std::string::npos ? log.size() : end + 1;
    const bool hint = line.find("pgsplit:replica") != std::string::npos;
    const bool slow = line.find("slow statement") != std::string::npos;
    const bool route = line.find("route ->") != std::string::npos;
    if (!hint && !slow && !route) continue;
    hintLines += hint;
    slowLines += slow;
    EXPECT_NE(line.find("\"session\":"), std::string::npos) << line;
  }
  EXPECT_GE(hintLines, 1);
  EXPECT_GE(slowLines, 1);
}

}  // namespace
}  // namespace pgsplit::test
