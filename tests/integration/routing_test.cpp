// Where statements run, through pgsplit, against the real primary + 2 streaming replicas.
#include <set>

#include "harness.hpp"

namespace pgsplit::test {
namespace {

class Routing : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { proxy_ = new Pgsplit(); }
  static void TearDownTestSuite() {
    delete proxy_;
    proxy_ = nullptr;
  }
  static Pgsplit* proxy_;
  const Cluster& cluster_ = Cluster::get();
};
Pgsplit* Routing::proxy_ = nullptr;

TEST_F(Routing, SelectRunsOnReplicasRoundRobin) {
  Conn c(proxy_->conninfo());
  ASSERT_TRUE(c.ok()) << c.error();
  std::set<std::string> ports;
  for (int i = 0; i < 10; ++i) {
    auto row = c.rows("SELECT pg_is_in_recovery(), inet_server_port()");
    ASSERT_EQ(row.size(), 1u);
    EXPECT_EQ(row[0][0], "t") << "a plain SELECT ran on the primary";
    ports.insert(row[0][1]);
  }
  EXPECT_EQ(ports, (std::set<std::string>{std::to_string(cluster_.replica1Port),
                                          std::to_string(cluster_.replica2Port)}))
      << "reads should alternate over both replicas";
}

TEST_F(Routing, WritesAndDdlRunOnPrimary) {
  Conn c(proxy_->conninfo());
  ASSERT_TRUE(c.ok()) << c.error();
  const std::string primary = std::to_string(cluster_.primaryPort);
  c.exec("DROP TABLE IF EXISTS routing_w");
  c.exec("CREATE TABLE routing_w (id int primary key, v text, port int)");
  EXPECT_EQ(c.value("INSERT INTO routing_w VALUES (1, 'a', inet_server_port()) "
                    "RETURNING port"),
            primary);
  EXPECT_EQ(c.value("UPDATE routing_w SET v = 'b' WHERE id = 1 RETURNING inet_server_port()"),
            primary);
  EXPECT_EQ(c.value("WITH d AS (DELETE FROM routing_w WHERE id = 1 RETURNING id) "
                    "SELECT inet_server_port() FROM d"),
            primary);
  EXPECT_EQ(c.value("SELECT inet_server_port() FROM (SELECT 1) s FOR UPDATE"), primary);
  // The DDL really happened on the primary.
  Conn direct(cluster_.superuserConninfo(cluster_.primaryPort, "app"));
  EXPECT_EQ(direct.value("SELECT count(*) FROM pg_class WHERE relname = 'routing_w'"), "1");
}

TEST_F(Routing, SequenceFunctionsAndMultiStatementGoToPrimary) {
  Conn c(proxy_->conninfo());
  ASSERT_TRUE(c.ok()) << c.error();
  const std::string primary = std::to_string(cluster_.primaryPort);
  c.exec("CREATE SEQUENCE IF NOT EXISTS routing_seq");
  EXPECT_EQ(c.value("SELECT inet_server_port() FROM (SELECT nextval('routing_seq')) s"), primary);
  // A string with a read and a write is routed as a whole.
  PGresult* r = PQexec(c.get(),
                       "SELECT 1; CREATE TEMP TABLE IF NOT EXISTS t_ms (x int); "
                       "SELECT inet_server_port()");
  ASSERT_EQ(PQresultStatus(r), PGRES_TUPLES_OK) << PQerrorMessage(c.get());
  EXPECT_EQ(std::string(PQgetvalue(r, 0, 0)), primary);
  PQclear(r);
}

TEST_F(Routing, TransactionStaysWhollyOnPrimary) {
  Conn c(proxy_->conninfo());
  ASSERT_TRUE(c.ok()) << c.error();
  const std::string primary = std::to_string(cluster_.primaryPort);
  c.exec("CREATE TABLE IF NOT EXISTS routing_tx (id serial primary key, port int)");
  c.exec("BEGIN");
  EXPECT_EQ(c.value("SELECT inet_server_port()"), primary);
  EXPECT_EQ(c.value("SELECT pg_is_in_recovery()"), "f");
  c.exec("INSERT INTO routing_tx (port) VALUES (inet_server_port())");
  // Reads inside the transaction see its own uncommitted write: same backend.
  EXPECT_EQ(c.value("SELECT count(*) FROM routing_tx WHERE port = " + primary +
                    " AND id = "
                    "currval('routing_tx_id_seq')"),
            "1");
  const std::string pid1 = c.value("SELECT pg_backend_pid()");
  const std::string pid2 = c.value("SELECT pg_backend_pid()");
  EXPECT_EQ(pid1, pid2) << "a transaction must stay on one backend";
  c.exec("COMMIT");
  EXPECT_EQ(PQtransactionStatus(c.get()), PQTRANS_IDLE);
  // After COMMIT, reads are back on replicas.
  EXPECT_EQ(c.value("SELECT pg_is_in_recovery()"), "t");
}

TEST_F(Routing, FailedTransactionReportsStatusAndRollsBack) {
  Conn c(proxy_->conninfo());
  ASSERT_TRUE(c.ok()) << c.error();
  c.exec("BEGIN");
  EXPECT_EQ(c.errorState("SELECT 1/0"), "22012");
  EXPECT_EQ(PQtransactionStatus(c.get()), PQTRANS_INERROR);
  EXPECT_EQ(c.errorState("SELECT 1"), "25P02");
  c.exec("ROLLBACK");
  EXPECT_EQ(PQtransactionStatus(c.get()), PQTRANS_IDLE);
  EXPECT_EQ(c.value("SELECT 42"), "42");
}

TEST_F(Routing, ReadOnlyTransactionMayUseReplica) {
  Conn c(proxy_->conninfo());
  ASSERT_TRUE(c.ok()) << c.error();
  c.exec("BEGIN READ ONLY");
  EXPECT_EQ(c.value("SELECT pg_is_in_recovery()"), "t");
  const std::string port = c.value("SELECT inet_server_port()");
  EXPECT_EQ(c.value("SELECT inet_server_port()"), port) << "the transaction must stay put";
  c.exec("COMMIT");
}

TEST_F(Routing, ErrorsAndNoticesAreRelayedUnchanged) {
  Conn c(proxy_->conninfo());
  ASSERT_TRUE(c.ok()) << c.error();
  PGresult* r = PQexec(c.get(), "SELECT * FROM no_such_table_xyz");
  ASSERT_EQ(PQresultStatus(r), PGRES_FATAL_ERROR);
  EXPECT_STREQ(PQresultErrorField(r, PG_DIAG_SQLSTATE), "42P01");
  EXPECT_STREQ(PQresultErrorField(r, PG_DIAG_STATEMENT_POSITION), "15");
  PQclear(r);

  std::vector<std::string> notices;
  PQsetNoticeProcessor(
      c.get(),
      [](void* arg, const char* msg) {
        static_cast<std::vector<std::string>*>(arg)->push_back(msg);
      },
      &notices);
  c.exec("DO $$ BEGIN RAISE NOTICE 'hello from %', 'plpgsql'; END $$");
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_NE(notices[0].find("hello from plpgsql"), std::string::npos);
  // The session keeps working after errors.
  EXPECT_EQ(c.value("SELECT 'still here'"), "still here");
}

TEST_F(Routing, NewConnectionsReuseBackendsAndStillWork) {
  std::set<std::string> backends;
  for (int i = 0; i < 20; ++i) {
    Conn c(proxy_->conninfo());
    ASSERT_TRUE(c.ok()) << c.error();
    auto row = c.rows("SELECT " + std::to_string(i) + ", inet_server_port(), pg_backend_pid()");
    ASSERT_EQ(row.size(), 1u);
    EXPECT_EQ(row[0][0], std::to_string(i));
    backends.insert(row[0][1] + "/" + row[0][2]);
  }
  // 20 clients one after another, on 2 workers and 2 replicas: a handful of pooled backends.
  EXPECT_LE(backends.size(), 8u) << "backend connections are not being reused";
}

TEST_F(Routing, CopyInAndOut) {
  Conn c(proxy_->conninfo());
  ASSERT_TRUE(c.ok()) << c.error();
  c.exec("DROP TABLE IF EXISTS routing_copy");
  c.exec("CREATE TABLE routing_copy (id int, v text)");
  PGresult* r = PQexec(c.get(), "COPY routing_copy FROM STDIN");
  ASSERT_EQ(PQresultStatus(r), PGRES_COPY_IN) << PQerrorMessage(c.get());
  PQclear(r);
  for (int i = 0; i < 1000; ++i) {
    std::string line = std::to_string(i) + "\tvalue " + std::to_string(i) + "\n";
    ASSERT_EQ(PQputCopyData(c.get(), line.data(), static_cast<int>(line.size())), 1);
  }
  ASSERT_EQ(PQputCopyEnd(c.get(), nullptr), 1);
  r = PQgetResult(c.get());
  EXPECT_EQ(PQresultStatus(r), PGRES_COMMAND_OK) << PQerrorMessage(c.get());
  EXPECT_STREQ(PQcmdTuples(r), "1000");
  PQclear(r);
  while ((r = PQgetResult(c.get())))
    PQclear(r);
  cluster_.waitForReplicas();
  EXPECT_EQ(c.value("SELECT count(*) FROM routing_copy"), "1000");
}

}  // namespace
}  // namespace pgsplit::test
