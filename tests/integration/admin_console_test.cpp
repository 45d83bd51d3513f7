// The admin console through psql and libpq, against a live pgsplit in front of the real primary
// and 2 replicas: values checked against what the cluster itself says.
#include <set>
#include <thread>

#include "harness.hpp"
#include "ops_util.hpp"

namespace pgsplit::test {
namespace {

const std::string kAdminUsers =
    "[[users]]\nname = \"admin\"\npassword = \"admin-pw\"\n"
    "[admin]\nusers = [\"admin\"]\n";

class AdminConsole : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    PgsplitOptions o;
    o.extra = kAdminUsers;
    proxy_ = new Pgsplit(o);
  }
  static void TearDownTestSuite() {
    delete proxy_;
    proxy_ = nullptr;
  }
  std::pair<int, std::string> admin(const std::string& command) {
    return psql(proxy_->port(), "admin", "admin-pw", "pgsplit", command);
  }
  std::vector<std::vector<std::string>> adminRows(const std::string& command) {
    auto [code, out] = admin(command);
    EXPECT_EQ(code, 0) << command << ": " << out;
    return psqlRows(out);
  }
  // SHOW STATS as node -> {queries_as_primary, queries_as_replica, errors}.
  std::map<std::string, std::array<long, 3>> stats() {
    std::map<std::string, std::array<long, 3>> out;
    for (const auto& r : adminRows("SHOW STATS")) {
      EXPECT_EQ(r.size(), 17u);
      if (r.size() < 5) continue;
      out[r[0]] = {std::stol(r[2]), std::stol(r[3]), std::stol(r[4])};
    }
    return out;
  }
  static Pgsplit* proxy_;
  const Cluster& cluster_ = Cluster::get();
};
Pgsplit* AdminConsole::proxy_ = nullptr;

TEST_F(AdminConsole, ShowNodesMatchesTheCluster) {
  const auto rows = adminRows("SHOW NODES");
  ASSERT_EQ(rows.size(), 3u);
  const std::array<int, 3> ports{cluster_.primaryPort, cluster_.replica1Port,
                                 cluster_.replica2Port};
  const std::array<const char*, 3> names{"pg0", "pg1", "pg2"};
  for (std::size_t i = 0; i < 3; ++i) {
    ASSERT_EQ(rows[i].size(), 15u);
    EXPECT_EQ(rows[i][14], "default") << "no [[clusters]]: the implicit cluster";
    EXPECT_EQ(rows[i][0], names[i]);
    EXPECT_EQ(rows[i][1], "127.0.0.1");
    EXPECT_EQ(rows[i][2], std::to_string(ports[i]));
    EXPECT_EQ(rows[i][3], i == 0 ? "primary" : "replica");
    EXPECT_EQ(rows[i][4], "auto");
    EXPECT_EQ(rows[i][5], "up");
    EXPECT_EQ(rows[i][6], "1");
    EXPECT_FALSE(rows[i][7].empty()) << "a WAL position is known for every node";
  }
  EXPECT_TRUE(rows[0][8].empty()) << "no lag for the primary";
  EXPECT_TRUE(rows[0][9].empty()) << "no lag for the primary";
  for (std::size_t i = 1; i < 3; ++i) {
    EXPECT_FALSE(rows[i][8].empty()) << "a replica's lag in bytes is known";
    EXPECT_FALSE(rows[i][9].empty()) << "a replica's lag in ms is known";
  }
  // The replay position SHOW NODES reports is one the replica really has passed.
  Conn replica(cluster_.superuserConninfo(cluster_.replica1Port));
  EXPECT_EQ(replica.value("SELECT pg_last_wal_replay_lsn() >= '" + rows[1][7] + "'::pg_lsn"), "t");
}

TEST_F(AdminConsole, ShowStatsCountsEveryUnitOfWorkByNodeAndRoute) {
  const auto before = stats();
  {
    Conn c(proxy_->conninfo());
    ASSERT_TRUE(c.ok()) << c.error();
    for (int i = 0; i < 6; ++i)
      EXPECT_EQ(c.value("SELECT pg_is_in_recovery()"), "t");
    c.exec("CREATE TABLE IF NOT EXISTS admin_stats (x int)");
    c.exec("INSERT INTO admin_stats VALUES (1)");
    EXPECT_EQ(c.errorState("INSERT INTO admin_stats VALUES ('not a number')"), "22P02");
  }
  const auto after = stats();
  auto delta = [&](const std::string& node, int column) {
    return after.at(node)[column] - before.at(node)[column];
  };
  EXPECT_EQ(delta("pg1", 1) + delta("pg2", 1), 6) << "six reads on the replicas";
  EXPECT_EQ(delta("pg1", 1), 3) << "round robin";
  EXPECT_EQ(delta("pg0", 0), 3) << "three writes on the primary";
  EXPECT_EQ(delta("pg1", 0) + delta("pg2", 0) + delta("pg0", 1), 0);
  EXPECT_EQ(delta("pg0", 2), 1) << "the primary's error was counted";
  EXPECT_EQ(delta("(total)", 1), 6);
}

TEST_F(AdminConsole, ShowClientsServersAndPoolsSeeAnOpenTransaction) {
  Conn c(proxy_->conninfo() + " application_name=ops-client");
  ASSERT_TRUE(c.ok()) << c.error();
  c.exec("BEGIN");
  const std::string pid = c.value("SELECT pg_backend_pid()");

  bool seen = false;
  std::string clientId;
  for (const auto& r : adminRows("SHOW CLIENTS")) {
    ASSERT_EQ(r.size(), 15u);
    if (r[5] != "ops-client") continue;
    seen = true;
    clientId = r[0];
    EXPECT_EQ(r[3], "app");
    EXPECT_EQ(r[4], "app");
    EXPECT_EQ(r[6], "ready");
    EXPECT_EQ(r[7], "in transaction");
    EXPECT_EQ(r[11], "pg0");
    EXPECT_EQ(r[12], pid);
    EXPECT_TRUE(r[2].starts_with("127.0.0.1:")) << r[2];
  }
  ASSERT_TRUE(seen) << "SHOW CLIENTS does not list the client";

  bool serverSeen = false;
  for (const auto& r : adminRows("SHOW SERVERS")) {
    ASSERT_EQ(r.size(), 9u);
    if (r[4] != pid) continue;
    serverSeen = true;
    EXPECT_EQ(r[0], "pg0");
    EXPECT_EQ(r[5], "active");
    EXPECT_EQ(r[6], clientId);
    EXPECT_EQ(r[7], "in transaction");
  }
  EXPECT_TRUE(serverSeen) << "SHOW SERVERS does not list backend " << pid;
  // That backend is real: the primary runs it, for user app, in a transaction.
  Conn primary(cluster_.superuserConninfo(cluster_.primaryPort));
  EXPECT_EQ(
      primary.value("SELECT usename || ' ' || state FROM pg_stat_activity WHERE pid = " + pid),
      "app idle in transaction");

  bool poolSeen = false;
  for (const auto& r : adminRows("SHOW POOLS")) {
    ASSERT_EQ(r.size(), 11u);
    if (r[0] != "pg0" || r[1] != "app" || r[2] != "app") continue;
    poolSeen = true;
    EXPECT_GE(std::stol(r[3]), 1);
    EXPECT_GE(std::stol(r[4]), 1) << "in use: the open transaction's";
    EXPECT_EQ(std::stol(r[7]), 20) << "max_server_connections, all workers' shares";
  }
  EXPECT_TRUE(poolSeen);
  c.exec("COMMIT");
}

TEST_F(AdminConsole, ShowConfigNamesWherePasswordsComeFrom) {
  auto [code, out] = admin("SHOW CONFIG");
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("server.listen|127.0.0.1:" + std::to_string(proxy_->port())),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("server.http_listen|127.0.0.1:" + std::to_string(proxy_->httpPort())),
            std::string::npos);
  EXPECT_NE(out.find("users.admin|password in the configuration file (admin)"), std::string::npos)
      << out;
  EXPECT_EQ(out.find("admin-pw"), std::string::npos) << out;
  EXPECT_EQ(out.find("md5pw"), std::string::npos) << out;
}

TEST_F(AdminConsole, SeveralCommandsInOneQueryAndHelp) {
  auto [code, out] = admin("SHOW VERSION; SHOW HELP");
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("pgsplit " PGSPLIT_VERSION), std::string::npos);
  EXPECT_NE(out.find("SHOW NODES|"), std::string::npos);
}

TEST_F(AdminConsole, UnknownAndUnsupportedCommandsAreErrors) {
  Conn c(proxy_->conninfo("admin", "admin-pw", "pgsplit"));
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c.errorState("SHOW FOO"), "42601");
  EXPECT_EQ(c.errorState("SELECT 1"), "42601");
  EXPECT_EQ(c.errorState("SHOW RULES"), "") << "SHOW RULES is implemented (issue #9)";
  // The extended protocol is refused, and the connection stays usable.
  PGresult* r = PQprepare(c.get(), "s", "SHOW NODES", 0, nullptr);
  const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
  EXPECT_EQ(std::string(state ? state : ""), "0A000");
  PQclear(r);
  EXPECT_EQ(c.rows("SHOW NODES").size(), 3u);
  auto [code, out] = admin("SHOW NODES; NOPE; SHOW POOLS");
  EXPECT_NE(code, 0);
  EXPECT_NE(out.find("unknown admin console command: NOPE"), std::string::npos) << out;
}

TEST_F(AdminConsole, OnlyAdminUsersWithTheirPassword) {
  Conn app(proxy_->conninfo("app", "app", "pgsplit"));
  EXPECT_FALSE(app.ok());
  EXPECT_NE(app.error().find("may not use the pgsplit admin console"), std::string::npos)
      << app.error();
  RawClient raw(proxy_->port());
  EXPECT_EQ(raw.login("app", "app", "pgsplit"), "42501");
  RawClient wrong(proxy_->port());
  EXPECT_EQ(wrong.login("admin", "not-the-password", "pgsplit"), "28P01");
  // The admin user reaches ordinary databases only if PostgreSQL knows it: not here.
  RawClient elsewhere(proxy_->port());
  EXPECT_NE(elsewhere.login("admin", "admin-pw", "app"), "");
}

TEST_F(AdminConsole, ReloadAppliesAndCounts) {
  auto generation = [&] {
    for (const auto& r : adminRows("SHOW CONFIG"))
      if (r.size() == 2 && r[0] == "generation") return std::stoi(r[1]);
    return -1;
  };
  const int before = generation();
  auto [code, out] = admin("RELOAD");
  EXPECT_EQ(code, 0) << out;
  EXPECT_EQ(generation(), before + 1);
  EXPECT_NE(proxy_->log().find("reload applied: configuration generation"), std::string::npos);
}

}  // namespace
}  // namespace pgsplit::test
