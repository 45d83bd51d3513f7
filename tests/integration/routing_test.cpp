// Where statements run, through pgsplit, against the real primary + 2 streaming replicas.
#include <iostream>
#include <set>
#include <thread>

#include "pgsplit/protocol/writer.hpp"

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
  // Right after COMMIT the session reads its own write (read-your-writes), and once the
  // replicas have replayed it, reads are back on them.
  Conn direct(cluster_.superuserConninfo(cluster_.primaryPort, "app"));
  EXPECT_EQ(c.value("SELECT count(*) FROM routing_tx"),
            direct.value("SELECT count(*) FROM routing_tx"));
  bool back = false;
  for (int i = 0; i < 50 && !back; ++i) {
    back = c.value("SELECT pg_is_in_recovery()") == "t";
    if (!back) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(back) << "reads did not return to the replicas after the transaction";
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

namespace pgsplit::test {
namespace {

TEST(Cancel, CancelRequestStopsTheRunningQueryOnly) {
  Pgsplit proxy;
  Conn c(proxy.conninfo());
  ASSERT_TRUE(c.ok()) << c.error();
  ASSERT_EQ(PQsendQuery(c.get(), "SELECT pg_sleep(30)"), 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  // Issue #3: the cancel takes effect within a second, measured from the CancelRequest to the
  // query's error (PQcancel itself waits until pgsplit has taken the request and closed).
  const auto cancelled = std::chrono::steady_clock::now();
  PGcancel* cancel = PQgetCancel(c.get());
  char err[256];
  ASSERT_EQ(PQcancel(cancel, err, sizeof err), 1) << err;
  PGresult* r = PQgetResult(c.get());
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(PQresultStatus(r), PGRES_FATAL_ERROR);
  EXPECT_STREQ(PQresultErrorField(r, PG_DIAG_SQLSTATE), "57014");
  PQclear(r);
  while ((r = PQgetResult(c.get())))
    PQclear(r);
  const auto took = std::chrono::steady_clock::now() - cancelled;
  std::cerr << "cancel took " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
            << " ms\n";
  EXPECT_LT(took, std::chrono::seconds(1));
  // A stale cancel (nothing running) must not hit the next query.
  ASSERT_EQ(PQcancel(cancel, err, sizeof err), 1) << err;
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(c.value("SELECT 'survived'"), "survived");
  PQfreeCancel(cancel);
  // A forged key does nothing either.
  Conn other(proxy.conninfo());
  ASSERT_EQ(PQsendQuery(other.get(), "SELECT pg_sleep(0.5), 'done'"), 1);
  RawClient forged(proxy.port());
  std::string out;
  protocol::writeCancelRequest(out, static_cast<std::uint32_t>(PQbackendPID(other.get())), 12345);
  forged.send(out);
  r = PQgetResult(other.get());
  EXPECT_EQ(PQresultStatus(r), PGRES_TUPLES_OK) << PQerrorMessage(other.get());
  PQclear(r);
  while ((r = PQgetResult(other.get())))
    PQclear(r);
}

// Cancels `sql` (sent after `setup`) 300 ms in; how long from the CancelRequest to the error.
std::chrono::milliseconds cancelAfterStart(Conn& c, const std::string& setup, const char* sql) {
  if (!setup.empty()) c.exec(setup);
  EXPECT_EQ(PQsendQuery(c.get(), sql), 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto start = std::chrono::steady_clock::now();
  PGcancel* cancel = PQgetCancel(c.get());
  char err[256];
  EXPECT_EQ(PQcancel(cancel, err, sizeof err), 1) << err;
  PQfreeCancel(cancel);
  PGresult* r = PQgetResult(c.get());
  EXPECT_EQ(PQresultStatus(r), PGRES_FATAL_ERROR);
  const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
  EXPECT_STREQ(state ? state : "", "57014");
  PQclear(r);
  while ((r = PQgetResult(c.get())))
    PQclear(r);
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               start);
}

class CancelInPoolMode : public ::testing::TestWithParam<const char*> {};

// Issue #3 ("within a second"): on a replica (autocommit read) and on the primary (inside a
// transaction), in both pool modes.
TEST_P(CancelInPoolMode, TakesEffectWithinASecond) {
  PgsplitOptions o;
  o.poolMode = GetParam();
  Pgsplit proxy(o);
  Conn c(proxy.conninfo());
  ASSERT_TRUE(c.ok()) << c.error();
  const auto onReplica = cancelAfterStart(c, "", "SELECT pg_sleep(30), pg_is_in_recovery()");
  EXPECT_LT(onReplica, std::chrono::seconds(1));
  const auto inTransaction = cancelAfterStart(c, "BEGIN", "SELECT pg_sleep(30)");
  EXPECT_LT(inTransaction, std::chrono::seconds(1));
  c.exec("ROLLBACK");
  std::cerr << GetParam() << ": cancel on a replica " << onReplica.count()
            << " ms, in a transaction " << inTransaction.count() << " ms\n";
  EXPECT_EQ(c.value("SELECT 'still usable'"), "still usable");
}

INSTANTIATE_TEST_SUITE_P(Pool, CancelInPoolMode, ::testing::Values("transaction", "session"));

TEST(Notify, ListenerReceivesNotificationsPromptly) {
  Pgsplit proxy;
  Conn listener(proxy.conninfo());
  Conn sender(proxy.conninfo());
  ASSERT_TRUE(listener.ok() && sender.ok());
  listener.exec("LISTEN pgsplit_channel");
  sender.exec("NOTIFY pgsplit_channel, 'hello'");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  PGnotify* n = nullptr;
  while (!n && std::chrono::steady_clock::now() < deadline) {
    PQconsumeInput(listener.get());
    n = PQnotifies(listener.get());
    if (!n) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_NE(n, nullptr) << "no notification within 5 s";
  EXPECT_STREQ(n->relname, "pgsplit_channel");
  EXPECT_STREQ(n->extra, "hello");
  PQfreemem(n);
  // The listening session still works, on the primary it is pinned to.
  EXPECT_EQ(listener.value("SELECT pg_is_in_recovery()"), "f");
}

}  // namespace
}  // namespace pgsplit::test

namespace pgsplit::test {
namespace {

// Replicas that cannot replay (paused) must not serve a session's read of its own write.
TEST(ReadYourWrites, OwnWriteVisibleWhileReplicasLagThenReadsReturnToReplicas) {
  const Cluster& c = Cluster::get();
  Pgsplit proxy;
  Conn app(proxy.conninfo());
  ASSERT_TRUE(app.ok()) << app.error();
  app.exec("CREATE TABLE IF NOT EXISTS ryw (id int primary key, v text)");
  app.exec("TRUNCATE ryw");
  c.waitForReplicas();
  // Give the health checks a round to see the caught-up replicas.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(app.value("SELECT pg_is_in_recovery()"), "t") << "reads should use replicas again";

  std::vector<std::unique_ptr<Conn>> replicas;
  for (int port : {c.replica1Port, c.replica2Port}) {
    replicas.push_back(std::make_unique<Conn>(c.superuserConninfo(port, "app")));
    replicas.back()->exec("SELECT pg_wal_replay_pause()");
  }
  app.exec("INSERT INTO ryw VALUES (1, 'mine')");
  // Immediately, and repeatedly: the row is there, read from the primary.
  for (int i = 0; i < 5; ++i) {
    auto row = app.rows("SELECT v, pg_is_in_recovery() FROM ryw WHERE id = 1");
    ASSERT_EQ(row.size(), 1u) << "the session did not see its own write";
    EXPECT_EQ(row[0][0], "mine");
    EXPECT_EQ(row[0][1], "f");
  }
  // A replica really is behind (so the test proves something).
  EXPECT_EQ(replicas[0]->value("SELECT count(*) FROM ryw"), "0");

  for (auto& r : replicas)
    r->exec("SELECT pg_wal_replay_resume()");
  c.waitForReplicas();
  bool back = false;
  for (int i = 0; i < 50 && !back; ++i) {
    back = app.value("SELECT pg_is_in_recovery()") == "t";
    if (!back) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(back) << "reads did not return to the replicas after they caught up";
  EXPECT_EQ(app.value("SELECT v FROM ryw WHERE id = 1"), "mine");
}

}  // namespace
}  // namespace pgsplit::test

namespace pgsplit::test {
namespace {

// An unnamed statement survives Sync on its backend: a later Bind must reach that backend, never
// another client's (which would run the other client's statement with our parameters).
TEST(Extended, UnnamedStatementPreparedInOneUnitExecutesInTheNext) {
  Pgsplit proxy;
  Conn a(proxy.conninfo());
  Conn b(proxy.conninfo());
  ASSERT_TRUE(a.ok() && b.ok());
  for (int i = 0; i < 20; ++i) {
    PGresult* r = PQprepare(a.get(), "", "SELECT 'A' || $1::text", 1, nullptr);
    ASSERT_EQ(PQresultStatus(r), PGRES_COMMAND_OK) << PQerrorMessage(a.get());
    PQclear(r);
    r = PQprepare(b.get(), "", "SELECT 'B' || $1::text, pg_sleep(0)", 1, nullptr);
    ASSERT_EQ(PQresultStatus(r), PGRES_COMMAND_OK) << PQerrorMessage(b.get());
    PQclear(r);
    const std::string n = std::to_string(i);
    const char* params[] = {n.c_str()};
    r = PQexecPrepared(a.get(), "", 1, params, nullptr, nullptr, 0);
    ASSERT_EQ(PQresultStatus(r), PGRES_TUPLES_OK) << PQerrorMessage(a.get());
    EXPECT_EQ(std::string(PQgetvalue(r, 0, 0)), "A" + n);
    EXPECT_EQ(PQnfields(r), 1);
    PQclear(r);
    r = PQexecPrepared(b.get(), "", 1, params, nullptr, nullptr, 0);
    ASSERT_EQ(PQresultStatus(r), PGRES_TUPLES_OK) << PQerrorMessage(b.get());
    EXPECT_EQ(std::string(PQgetvalue(r, 0, 0)), "B" + n);
    PQclear(r);
  }
}

}  // namespace
}  // namespace pgsplit::test
