// What drivers do beyond Simple Query, through pgsplit against the real primary + 2 replicas:
// named prepared statements on any backend, binary parameters, pipelining, portals fetched in
// chunks, session settings carried to every backend, COPY of 10 MB in both protocols.
#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <set>
#include <thread>

#include "pgsplit/protocol/writer.hpp"

#include "harness.hpp"

namespace pgsplit::test {
namespace {

// A PGresult that clears itself.
struct Result {
  explicit Result(PGresult* r) : res(r) {}
  ~Result() { PQclear(res); }
  Result(const Result&) = delete;
  Result& operator=(const Result&) = delete;
  ExecStatusType status() const { return PQresultStatus(res); }
  std::string value(int row = 0, int col = 0) const { return PQgetvalue(res, row, col); }
  std::string sqlstate() const {
    const char* s = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    return s ? s : "";
  }
  PGresult* res;
};

Result execPrepared(Conn& c, const char* name, const std::string& param) {
  const char* params[] = {param.c_str()};
  return Result(PQexecPrepared(c.get(), name, 1, params, nullptr, nullptr, 0));
}

void runOnPrimaryAsSuperuser(const std::string& sql) {
  const Cluster& cl = Cluster::get();
  Conn direct(cl.superuserConninfo(cl.primaryPort, "app"));
  ASSERT_TRUE(direct.ok()) << direct.error();
  direct.exec(sql);
}

void runOnPrimary(const std::string& sql) {
  const Cluster& cl = Cluster::get();
  Conn direct(cl.appConninfo(cl.primaryPort));
  ASSERT_TRUE(direct.ok()) << direct.error();
  direct.exec(sql);
}

// --- named prepared statements ---

class PreparedInPoolMode : public ::testing::TestWithParam<std::string> {};

TEST_P(PreparedInPoolMode, PrepareOnceExecuteManyReadsOnReplicasWritesOnPrimary) {
  const Cluster& cl = Cluster::get();
  runOnPrimary("DROP TABLE IF EXISTS drv_prep; CREATE TABLE drv_prep (id int, port int)");
  cl.waitForReplicas();
  PgsplitOptions o;
  o.poolMode = GetParam();
  o.maxServerConnections = 2;
  Pgsplit proxy(o);
  Conn c(proxy.conninfo());
  ASSERT_TRUE(c.ok()) << c.error();
  {
    Result r(PQprepare(c.get(), "read_one",
                       "SELECT pg_is_in_recovery(), inet_server_port(), $1::int + 1", 1, nullptr));
    ASSERT_EQ(r.status(), PGRES_COMMAND_OK) << PQerrorMessage(c.get());
  }
  {
    Result r(PQprepare(c.get(), "write_one",
                       "INSERT INTO drv_prep VALUES ($1::int, inet_server_port()) RETURNING port",
                       1, nullptr));
    ASSERT_EQ(r.status(), PGRES_COMMAND_OK) << PQerrorMessage(c.get());
  }
  std::set<std::string> ports;
  for (int i = 0; i < 20; ++i) {
    Result r = execPrepared(c, "read_one", std::to_string(i));
    ASSERT_EQ(r.status(), PGRES_TUPLES_OK) << PQerrorMessage(c.get());
    EXPECT_EQ(r.value(0, 0), "t") << "a prepared read ran on the primary";
    EXPECT_EQ(r.value(0, 2), std::to_string(i + 1));
    ports.insert(r.value(0, 1));
  }
  EXPECT_EQ(ports, (std::set<std::string>{std::to_string(cl.replica1Port),
                                          std::to_string(cl.replica2Port)}))
      << "prepared reads should use both replicas";
  {
    Result d(PQdescribePrepared(c.get(), "read_one"));
    ASSERT_EQ(d.status(), PGRES_COMMAND_OK) << PQerrorMessage(c.get());
    EXPECT_EQ(PQnparams(d.res), 1);
    EXPECT_EQ(PQparamtype(d.res, 0), 23u);  // int4
    EXPECT_EQ(PQnfields(d.res), 3);
  }
  for (int i = 0; i < 5; ++i) {
    Result r = execPrepared(c, "write_one", std::to_string(i));
    ASSERT_EQ(r.status(), PGRES_TUPLES_OK) << PQerrorMessage(c.get());
    EXPECT_EQ(r.value(), std::to_string(cl.primaryPort));
  }
  Conn direct(cl.superuserConninfo(cl.primaryPort, "app"));
  EXPECT_EQ(direct.value("SELECT count(*) FROM drv_prep"), "5");
}

INSTANTIATE_TEST_SUITE_P(Pool, PreparedInPoolMode, ::testing::Values("transaction", "session"));

// Clients sharing backends (transaction pooling, one connection per node and worker) each get
// their own statement behind the same name.
TEST(Prepared, SameNameDifferentTextNeverCrosses) {
  PgsplitOptions o;
  o.maxServerConnections = 2;
  Pgsplit proxy(o);
  std::vector<std::unique_ptr<Conn>> clients;
  for (int k = 0; k < 4; ++k) {
    clients.push_back(std::make_unique<Conn>(proxy.conninfo()));
    ASSERT_TRUE(clients.back()->ok()) << clients.back()->error();
    const std::string sql = "SELECT 'client" + std::to_string(k) + ":' || $1::text";
    Result r(PQprepare(clients.back()->get(), "q", sql.c_str(), 1, nullptr));
    ASSERT_EQ(r.status(), PGRES_COMMAND_OK) << PQerrorMessage(clients.back()->get());
  }
  for (int round = 0; round < 10; ++round) {
    for (int k = 0; k < 4; ++k) {
      Result r = execPrepared(*clients[k], "q", std::to_string(round));
      ASSERT_EQ(r.status(), PGRES_TUPLES_OK) << PQerrorMessage(clients[k]->get());
      EXPECT_EQ(r.value(), "client" + std::to_string(k) + ":" + std::to_string(round));
    }
  }
}

TEST(Prepared, DuplicateNameDeallocateAndDiscardBehaveAsPostgres) {
  Pgsplit proxy;
  Conn c(proxy.conninfo());
  ASSERT_TRUE(c.ok()) << c.error();
  {
    Result r(PQprepare(c.get(), "dup", "SELECT 1", 0, nullptr));
    ASSERT_EQ(r.status(), PGRES_COMMAND_OK) << PQerrorMessage(c.get());
  }
  {
    Result again(PQprepare(c.get(), "dup", "SELECT 2", 0, nullptr));
    EXPECT_EQ(again.status(), PGRES_FATAL_ERROR);
    EXPECT_EQ(again.sqlstate(), "42P05");
  }
  EXPECT_EQ(c.value("SELECT 'still fine'"), "still fine");
  {
    Result r(PQexecPrepared(c.get(), "dup", 0, nullptr, nullptr, nullptr, 0));
    ASSERT_EQ(r.status(), PGRES_TUPLES_OK) << PQerrorMessage(c.get());
    EXPECT_EQ(r.value(), "1") << "the first definition stands";
  }
  c.exec("DEALLOCATE dup");
  {
    Result gone(PQexecPrepared(c.get(), "dup", 0, nullptr, nullptr, nullptr, 0));
    EXPECT_EQ(gone.sqlstate(), "26000");
  }
  for (const char* reset : {"DEALLOCATE ALL", "DISCARD ALL"}) {
    Result p(PQprepare(c.get(), "dup", "SELECT 3", 0, nullptr));
    ASSERT_EQ(p.status(), PGRES_COMMAND_OK) << PQerrorMessage(c.get());
    c.exec(reset);
    Result gone(PQexecPrepared(c.get(), "dup", 0, nullptr, nullptr, nullptr, 0));
    EXPECT_EQ(gone.sqlstate(), "26000") << reset;
  }
  Result unknown(PQexecPrepared(c.get(), "never_prepared", 0, nullptr, nullptr, nullptr, 0));
  EXPECT_EQ(unknown.sqlstate(), "26000");
  EXPECT_EQ(c.value("SELECT 'alive'"), "alive");
}

// A DEALLOCATE of a statement pgsplit manages is answered by pgsplit only when it is the whole
// Query: with other statements beside it, their results must still reach the client.
TEST(Prepared, DeallocateBesideOtherStatementsKeepsTheirResults) {
  Pgsplit proxy;
  Conn c(proxy.conninfo());
  ASSERT_TRUE(c.ok()) << c.error();
  for (const char* text : {"SELECT 42; DEALLOCATE s", "DEALLOCATE s; SELECT 42"}) {
    Result p(PQprepare(c.get(), "s", "SELECT 1", 0, nullptr));
    ASSERT_EQ(p.status(), PGRES_COMMAND_OK) << PQerrorMessage(c.get());
    ASSERT_EQ(PQsendQuery(c.get(), text), 1) << text;
    std::vector<std::string> got;
    while (PGresult* r = PQgetResult(c.get())) {
      Result res(r);
      got.push_back(std::string(PQresStatus(res.status())) +
                    (res.status() == PGRES_TUPLES_OK ? ":" + res.value() : ""));
    }
    // The SELECT's rows arrive, or the Query fails visibly: never a success without them. (The
    // server does not know the client's name "s", so a DEALLOCATE beside other statements fails
    // with 26000 and ends the Query there: README, "Limitations today".)
    const bool rows = std::find(got.begin(), got.end(), "PGRES_TUPLES_OK:42") != got.end();
    const bool failed = std::find(got.begin(), got.end(), "PGRES_FATAL_ERROR") != got.end();
    EXPECT_TRUE(rows || failed) << text << ": the SELECT's rows were silently lost; got "
                                << ::testing::PrintToString(got);
    if (std::string_view(text).starts_with("SELECT")) {
      EXPECT_TRUE(rows) << text << ": got " << ::testing::PrintToString(got);
    }
    if (PQtransactionStatus(c.get()) != PQTRANS_IDLE) c.exec("ROLLBACK");
    c.exec("DEALLOCATE ALL");
  }
  EXPECT_EQ(c.value("SELECT 'still fine'"), "still fine");
}

// More statements than a backend keeps: the least recently used are closed and prepared again
// on demand, invisibly.
TEST(Prepared, BackendSetIsBoundedAndEvictionIsInvisible) {
  PgsplitOptions o;
  o.maxServerConnections = 2;
  o.poolExtra = "max_prepared_statements = 2";
  Pgsplit proxy(o);
  Conn c(proxy.conninfo());
  ASSERT_TRUE(c.ok()) << c.error();
  for (int k = 0; k < 6; ++k) {
    const std::string name = "s" + std::to_string(k);
    const std::string sql = "SELECT " + std::to_string(k * 100) + " + $1::int";
    Result r(PQprepare(c.get(), name.c_str(), sql.c_str(), 1, nullptr));
    ASSERT_EQ(r.status(), PGRES_COMMAND_OK) << PQerrorMessage(c.get());
  }
  for (int round = 0; round < 3; ++round) {
    for (int k = 0; k < 6; ++k) {
      const std::string name = "s" + std::to_string(k);
      Result r = execPrepared(c, name.c_str(), std::to_string(round));
      ASSERT_EQ(r.status(), PGRES_TUPLES_OK) << PQerrorMessage(c.get());
      EXPECT_EQ(r.value(), std::to_string(k * 100 + round));
    }
  }
  for (int i = 0; i < 6; ++i) {
    const int held = std::stoi(
        c.value("SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'pgsplit_%'"));
    EXPECT_LE(held, 2) << "a backend holds more statements than max_prepared_statements";
  }
}

// --- parameters, pipelines, portals ---

TEST(ExtendedProtocol, BinaryParametersAndResults) {
  Pgsplit proxy;
  Conn c(proxy.conninfo());
  ASSERT_TRUE(c.ok()) << c.error();
  const std::uint32_t n = htonl(41);
  const char bytes[] = {'\x00', '\x01', '\xff'};
  const char* values[] = {reinterpret_cast<const char*>(&n), bytes};
  const int lengths[] = {4, 3};
  const int formats[] = {1, 1};
  const Oid types[] = {23, 17};
  Result r(PQexecParams(c.get(), "SELECT $1::int4 + 1, $2::bytea, pg_is_in_recovery()", 2, types,
                        values, lengths, formats, 1));
  ASSERT_EQ(r.status(), PGRES_TUPLES_OK) << PQerrorMessage(c.get());
  ASSERT_EQ(PQgetlength(r.res, 0, 0), 4);
  std::uint32_t got;
  std::memcpy(&got, PQgetvalue(r.res, 0, 0), 4);
  EXPECT_EQ(ntohl(got), 42u);
  ASSERT_EQ(PQgetlength(r.res, 0, 1), 3);
  EXPECT_EQ(std::memcmp(PQgetvalue(r.res, 0, 1), bytes, 3), 0);
  ASSERT_EQ(PQgetlength(r.res, 0, 2), 1);
  EXPECT_EQ(PQgetvalue(r.res, 0, 2)[0], 1) << "a binary read ran on the primary";
}

TEST(ExtendedProtocol, PipelineOfHundredMixedStatementsInOrder) {
  const Cluster& cl = Cluster::get();
  runOnPrimary("DROP TABLE IF EXISTS drv_pipe; CREATE TABLE drv_pipe (id int)");
  Pgsplit proxy;
  Conn c(proxy.conninfo());
  ASSERT_TRUE(c.ok()) << c.error();
  ASSERT_EQ(PQenterPipelineMode(c.get()), 1);
  for (int i = 0; i < 100; ++i) {
    const std::string id = std::to_string(i);
    const char* params[] = {id.c_str()};
    if (i % 2 == 0)
      ASSERT_EQ(PQsendQueryParams(c.get(),
                                  "INSERT INTO drv_pipe VALUES ($1::int) RETURNING "
                                  "inet_server_port()",
                                  1, nullptr, params, nullptr, nullptr, 0),
                1);
    else
      ASSERT_EQ(PQsendQueryParams(c.get(), "SELECT count(*) FROM drv_pipe WHERE id <= $1::int", 1,
                                  nullptr, params, nullptr, nullptr, 0),
                1);
    if (i % 10 == 9) {
      ASSERT_EQ(PQpipelineSync(c.get()), 1);
    }
  }
  for (int i = 0; i < 100; ++i) {
    Result r(PQgetResult(c.get()));
    ASSERT_EQ(r.status(), PGRES_TUPLES_OK) << "statement " << i << ": " << PQerrorMessage(c.get());
    if (i % 2 == 0)
      EXPECT_EQ(r.value(), std::to_string(cl.primaryPort)) << "statement " << i;
    else
      EXPECT_EQ(r.value(), std::to_string(i / 2 + 1)) << "statement " << i;
    EXPECT_EQ(PQgetResult(c.get()), nullptr);
    if (i % 10 == 9) {
      Result sync(PQgetResult(c.get()));
      EXPECT_EQ(sync.status(), PGRES_PIPELINE_SYNC) << "after statement " << i;
    }
  }
  ASSERT_EQ(PQexitPipelineMode(c.get()), 1);
  EXPECT_EQ(c.value("SELECT count(*) FROM drv_pipe"), "50");
}

// Execute with a row limit suspends the portal; later Executes continue it (libpq cannot ask
// for this, drivers such as pgjdbc do: raw protocol).
TEST(ExtendedProtocol, PortalFetchedInChunks) {
  Pgsplit proxy;
  RawClient raw(proxy.port());
  ASSERT_EQ(raw.login("app", "app", "app"), "");
  std::string out;
  protocol::MessageWriter(out)
      .begin('P')
      .cstr("")
      .cstr("SELECT g, pg_is_in_recovery() FROM generate_series(1, 10) g")
      .i16(0)
      .end();
  protocol::MessageWriter(out).begin('B').cstr("").cstr("").i16(0).i16(0).i16(0).end();
  for (int k = 0; k < 3; ++k)
    protocol::MessageWriter(out).begin('E').cstr("").i32(3).end();
  protocol::MessageWriter(out).begin('E').cstr("").i32(0).end();
  protocol::writeSync(out);
  raw.send(out);
  std::string types;
  int rows = 0;
  for (;;) {
    auto [type, body] = raw.read();
    ASSERT_NE(type, 0) << "no reply";
    types.push_back(type);
    if (type == 'D') {
      ++rows;
      // Column 2 is pg_is_in_recovery(): the read ran on a replica.
      ASSERT_GE(body.size(), 2u);
      EXPECT_EQ(body.back(), 't');
    }
    if (type == 'Z') break;
  }
  EXPECT_EQ(types, "12DDDsDDDsDDDsDCZ");
  EXPECT_EQ(rows, 10);
}

// --- session settings ---

TEST(Settings, SetFollowsTheClientToEveryBackend) {
  const Cluster& cl = Cluster::get();
  runOnPrimaryAsSuperuser(
      "DROP SCHEMA IF EXISTS drv_s1 CASCADE; CREATE SCHEMA drv_s1 AUTHORIZATION app");
  runOnPrimary(
      "DROP TABLE IF EXISTS public.drv_where; CREATE TABLE public.drv_where (v text); "
      "INSERT INTO public.drv_where VALUES ('public'); "
      "CREATE TABLE drv_s1.drv_where (v text); INSERT INTO drv_s1.drv_where VALUES ('s1')");
  cl.waitForReplicas();
  PgsplitOptions o;
  o.maxServerConnections = 4;
  Pgsplit proxy(o);
  Conn c(proxy.conninfo());
  ASSERT_TRUE(c.ok()) << c.error();
  auto whereAndStandby = [&c] {
    auto rows = c.rows("SELECT v, pg_is_in_recovery() FROM drv_where");
    return rows.size() == 1 ? rows[0][0] + "/" + rows[0][1] : std::string("?");
  };
  awaitReplicaReads(c, "public.drv_where");
  c.exec("SET search_path TO drv_s1, public");
  awaitReplicaReads(c, "drv_where");
  for (int i = 0; i < 8; ++i)
    EXPECT_EQ(whereAndStandby(), "s1/t");
  c.exec("SET TIME ZONE 'Asia/Tokyo'");
  EXPECT_STREQ(PQparameterStatus(c.get(), "TimeZone"), "Asia/Tokyo");
  for (int i = 0; i < 8; ++i)
    EXPECT_EQ(c.value("SELECT current_setting('TimeZone') || '/' || pg_is_in_recovery()"),
              "Asia/Tokyo/true");
  c.exec("RESET search_path");
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(whereAndStandby(), "public/t");
  // The extended protocol's SET counts too.
  {
    Result r(PQexecParams(c.get(), "SET search_path TO drv_s1", 0, nullptr, nullptr, nullptr,
                          nullptr, 0));
    ASSERT_EQ(r.status(), PGRES_COMMAND_OK) << PQerrorMessage(c.get());
  }
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(whereAndStandby(), "s1/t");
  // Inside transactions, as PostgreSQL: SET LOCAL ends with it, a rolled back SET is undone, a
  // committed one stays. (Reads may use the primary for a moment after a transaction: only the
  // setting is checked here.)
  auto where = [&c] { return c.value("SELECT v FROM drv_where"); };
  c.exec("BEGIN");
  c.exec("SET LOCAL search_path TO public");
  c.exec("COMMIT");
  EXPECT_EQ(where(), "s1");
  c.exec("BEGIN");
  c.exec("SET search_path TO public");
  c.exec("ROLLBACK");
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(where(), "s1");
  c.exec("BEGIN");
  c.exec("SET search_path TO public");
  c.exec("COMMIT");
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(where(), "public");
  // Fails: the SET in its implicit transaction is undone too.
  EXPECT_EQ(c.errorState("SET search_path TO drv_s1; SELECT 1/0"), "22012");
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(where(), "public");
}

TEST(Settings, ClientsSharingBackendsNeverSeeEachOthersSettings) {
  PgsplitOptions o;
  o.maxServerConnections = 2;  // one connection per node and worker: shared by both clients
  Pgsplit proxy(o);
  Conn a(proxy.conninfo() + " application_name=alpha options='-c statement_timeout=4321'");
  Conn b(proxy.conninfo() + " application_name=beta");
  ASSERT_TRUE(a.ok()) << a.error();
  ASSERT_TRUE(b.ok()) << b.error();
  EXPECT_STREQ(PQparameterStatus(a.get(), "application_name"), "alpha");
  EXPECT_STREQ(PQparameterStatus(b.get(), "application_name"), "beta");
  a.exec("SET TimeZone = 'UTC'");
  b.exec("SET TimeZone = 'America/New_York'");
  const std::string probe =
      "SELECT current_setting('TimeZone') || '/' || current_setting('application_name') || '/' "
      "|| current_setting('statement_timeout')";
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(a.value(probe), "UTC/alpha/4321ms");
    EXPECT_EQ(b.value(probe), "America/New_York/beta/0");
  }
  EXPECT_STREQ(PQparameterStatus(a.get(), "TimeZone"), "UTC");
  EXPECT_STREQ(PQparameterStatus(b.get(), "TimeZone"), "America/New_York");
  EXPECT_STREQ(PQparameterStatus(a.get(), "application_name"), "alpha");
  EXPECT_STREQ(PQparameterStatus(b.get(), "application_name"), "beta");
  // A client that leaves its settings behind does not leave them on the backends.
  a.exec("SET work_mem = '7MB'");
  EXPECT_EQ(a.value("SHOW work_mem"), "7MB");
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(b.value("SHOW work_mem"), "4MB");
}

// --- COPY ---

TEST(Copy, TenMegabytesInBothProtocolsAndOut) {
  const Cluster& cl = Cluster::get();
  runOnPrimary("DROP TABLE IF EXISTS drv_copy; CREATE TABLE drv_copy (id int, payload text)");
  Pgsplit proxy;
  Conn c(proxy.conninfo());
  ASSERT_TRUE(c.ok()) << c.error();
  const std::string payload(100, 'x');
  std::string chunk;
  int id = 0;
  auto copyIn = [&](PGresult* start, int rows) {
    Result r(start);
    ASSERT_EQ(r.status(), PGRES_COPY_IN) << PQerrorMessage(c.get());
    for (int i = 0; i < rows; ++i) {
      chunk += std::to_string(id++) + "\t" + payload + "\n";
      if (chunk.size() > 60000) {
        ASSERT_EQ(PQputCopyData(c.get(), chunk.data(), static_cast<int>(chunk.size())), 1);
        chunk.clear();
      }
    }
    if (!chunk.empty()) {
      ASSERT_EQ(PQputCopyData(c.get(), chunk.data(), static_cast<int>(chunk.size())), 1);
    }
    chunk.clear();
    ASSERT_EQ(PQputCopyEnd(c.get(), nullptr), 1);
    Result done(PQgetResult(c.get()));
    ASSERT_EQ(done.status(), PGRES_COMMAND_OK) << PQerrorMessage(c.get());
    EXPECT_EQ(std::string(PQcmdTuples(done.res)), std::to_string(rows));
    EXPECT_EQ(PQgetResult(c.get()), nullptr);
  };
  copyIn(PQexec(c.get(), "COPY drv_copy FROM STDIN"), 100000);  // ~10 MB, simple protocol
  copyIn(
      PQexecParams(c.get(), "COPY drv_copy FROM STDIN", 0, nullptr, nullptr, nullptr, nullptr, 0),
      1000);  // extended protocol (its Sync is read inside the copy)
  EXPECT_EQ(c.value("SELECT 'after copy'"), "after copy");
  {
    // CopyFail: the server's error, and the session goes on.
    Result r(PQexec(c.get(), "COPY drv_copy FROM STDIN"));
    ASSERT_EQ(r.status(), PGRES_COPY_IN);
    ASSERT_EQ(PQputCopyData(c.get(), "1\tx\n", 4), 1);
    ASSERT_EQ(PQputCopyEnd(c.get(), "client gave up"), 1);
    Result failed(PQgetResult(c.get()));
    EXPECT_EQ(failed.status(), PGRES_FATAL_ERROR);
    EXPECT_EQ(failed.sqlstate(), "57014");
    EXPECT_EQ(PQgetResult(c.get()), nullptr);
  }
  EXPECT_EQ(c.value("SELECT count(*) FROM drv_copy"), "101000");

  cl.waitForReplicas();
  Result r(PQexec(c.get(), "COPY drv_copy TO STDOUT"));
  ASSERT_EQ(r.status(), PGRES_COPY_OUT) << PQerrorMessage(c.get());
  std::size_t bytes = 0;
  int lines = 0;
  for (;;) {
    char* buf = nullptr;
    int n = PQgetCopyData(c.get(), &buf, 0);
    if (n < 0) break;
    bytes += static_cast<std::size_t>(n);
    lines += std::count(buf, buf + n, '\n');
    PQfreemem(buf);
  }
  Result done(PQgetResult(c.get()));
  EXPECT_EQ(done.status(), PGRES_COMMAND_OK) << PQerrorMessage(c.get());
  EXPECT_EQ(lines, 101000);
  EXPECT_GT(bytes, 10u * 1000 * 1000);
}

}  // namespace
}  // namespace pgsplit::test

namespace pgsplit::test {
namespace {

// A read whose replica connection ends before any of its reply reached the client runs on the
// primary instead: the client sees only the result.
TEST(ReadRetry, ReplicaConnectionEndedMidReadIsSentToThePrimary) {
  const Cluster& cl = Cluster::get();
  Pgsplit proxy;
  Conn c(proxy.conninfo());
  ASSERT_TRUE(c.ok()) << c.error();
  ASSERT_EQ(PQsendQuery(c.get(), "SELECT pg_sleep(1.5), pg_is_in_recovery() AS retry_probe"), 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  int terminated = 0;
  for (int port : {cl.replica1Port, cl.replica2Port}) {
    Conn admin(cl.superuserConninfo(port));
    ASSERT_TRUE(admin.ok()) << admin.error();
    terminated +=
        std::stoi(admin.value("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                              "WHERE query LIKE '%retry_probe%' AND pid <> pg_backend_pid()"));
  }
  ASSERT_EQ(terminated, 1) << "the read should have been running on one replica";
  Result r(PQgetResult(c.get()));
  ASSERT_EQ(r.status(), PGRES_TUPLES_OK) << PQerrorMessage(c.get());
  EXPECT_EQ(r.value(0, 1), "f") << "the retried read should have run on the primary";
  EXPECT_EQ(PQgetResult(c.get()), nullptr);
  EXPECT_EQ(c.value("SELECT 'session goes on'"), "session goes on");
  EXPECT_NE(proxy.log().find("sent again to the primary"), std::string::npos) << proxy.log();
}

}  // namespace
}  // namespace pgsplit::test
