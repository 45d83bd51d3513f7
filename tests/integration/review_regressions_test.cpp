// Regressions from the review of the prepared-statement and settings work. Each scenario runs
// first directly against the primary (what PostgreSQL does), then through pgsplit: both must agree.
#include <arpa/inet.h>

#include <cstring>
#include <functional>
#include <thread>

#include "pgsplit/protocol/writer.hpp"

#include "harness.hpp"

namespace pgsplit::test {
namespace {

struct Res {
  explicit Res(PGresult* r) : res(r) {}
  ~Res() { PQclear(res); }
  Res(const Res&) = delete;
  ExecStatusType status() const { return PQresultStatus(res); }
  std::string value(int row = 0, int col = 0) const {
    return PQntuples(res) > row ? PQgetvalue(res, row, col) : "<no row>";
  }
  std::string sqlstate() const {
    const char* s = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    return s ? s : "";
  }
  PGresult* res;
};

void onPrimary(const std::string& sql) {
  const Cluster& cl = Cluster::get();
  Conn direct(cl.superuserConninfo(cl.primaryPort, "app"));
  ASSERT_TRUE(direct.ok()) << direct.error();
  direct.exec(sql);
}

std::string countOnPrimary(const std::string& table) {
  const Cluster& cl = Cluster::get();
  Conn direct(cl.superuserConninfo(cl.primaryPort, "app"));
  return direct.value("SELECT count(*) FROM " + table);
}

// Runs body against the primary directly, then through pgsplit (transaction pooling).
void bothWays(const std::function<void(const std::string& conninfo, const char* where)>& body,
              PgsplitOptions o = {}) {
  const Cluster& cl = Cluster::get();
  body(cl.appConninfo(cl.primaryPort), "direct");
  Pgsplit proxy(o);
  body(proxy.conninfo(), "via pgsplit");
}

// R1: an unnamed statement parsed but never bound keeps every later unit on its backend, so a
// write follows a read's Parse onto a replica.
TEST(ReviewRegression, R1_UnboundUnnamedParseDragsWritesToReplica) {
  onPrimary("DROP TABLE IF EXISTS rv_t1; CREATE TABLE rv_t1 (id int); GRANT ALL ON rv_t1 TO app");
  Cluster::get().waitForReplicas();
  bothWays([](const std::string& ci, const char* where) {
    Conn c(ci);
    ASSERT_TRUE(c.ok()) << c.error();
    Res p(PQprepare(c.get(), "", "SELECT 1", 0, nullptr));
    ASSERT_EQ(p.status(), PGRES_COMMAND_OK) << where;
    Res w(PQexec(c.get(), "INSERT INTO rv_t1 VALUES (1)"));
    EXPECT_EQ(w.status(), PGRES_COMMAND_OK) << where << ": " << PQerrorMessage(c.get());
    Res b(PQexec(c.get(), "BEGIN"));
    Res w2(PQexec(c.get(), "INSERT INTO rv_t1 VALUES (2)"));
    EXPECT_EQ(w2.status(), PGRES_COMMAND_OK) << where << ": " << PQerrorMessage(c.get());
    Res e(PQexec(c.get(), "COMMIT"));
  });
}

// R4: DEALLOCATE ALL followed, in the same pipeline, by a Parse of a text the backend held:
// pgsplit answers the Parse itself, and the Bind names a statement the server just dropped.
TEST(ReviewRegression, R4_DeallocateAllThenReparseInOnePipeline) {
  bothWays([](const std::string& ci, const char* where) {
    Conn c(ci);
    ASSERT_TRUE(c.ok()) << c.error();
    ASSERT_EQ(PQenterPipelineMode(c.get()), 1);
    const char* q = "SELECT 41 + 1 FROM pg_class LIMIT 1";
    ASSERT_EQ(PQsendPrepare(c.get(), "s1", q, 0, nullptr), 1);
    ASSERT_EQ(PQsendQueryPrepared(c.get(), "s1", 0, nullptr, nullptr, nullptr, 0), 1);
    ASSERT_EQ(
        PQsendQueryParams(c.get(), "DEALLOCATE ALL", 0, nullptr, nullptr, nullptr, nullptr, 0), 1);
    ASSERT_EQ(PQsendPrepare(c.get(), "s1", q, 0, nullptr), 1);
    ASSERT_EQ(PQsendQueryPrepared(c.get(), "s1", 0, nullptr, nullptr, nullptr, 0), 1);
    ASSERT_EQ(PQpipelineSync(c.get()), 1);
    for (int i = 0; i < 5; ++i) {
      Res r(PQgetResult(c.get()));
      EXPECT_TRUE(r.status() == PGRES_COMMAND_OK || r.status() == PGRES_TUPLES_OK)
          << where << " result " << i << ": " << PQresStatus(r.status()) << " "
          << PQresultErrorMessage(r.res);
      while (PGresult* extra = PQgetResult(c.get()))
        PQclear(extra);
    }
    Res s(PQgetResult(c.get()));
    EXPECT_EQ(s.status(), PGRES_PIPELINE_SYNC) << where;
  });
}

// R5: a duplicate Parse (42P05) answered by pgsplit: the server never sees an error, so the
// implicit transaction's earlier INSERT commits although the client got an error for the batch.
TEST(ReviewRegression, R5_DuplicateParseErrorStillCommitsTheBatchsWrite) {
  for (int direct = 1; direct >= 0; --direct) {
    onPrimary(
        "DROP TABLE IF EXISTS rv_dup; CREATE TABLE rv_dup (id int); GRANT ALL ON rv_dup TO app");
    const Cluster& cl = Cluster::get();
    std::unique_ptr<Pgsplit> proxy;
    std::string ci = cl.appConninfo(cl.primaryPort);
    if (!direct) {
      proxy = std::make_unique<Pgsplit>();
      ci = proxy->conninfo();
    }
    const char* where = direct ? "direct" : "via pgsplit";
    Conn c(ci);
    ASSERT_TRUE(c.ok()) << c.error();
    Res p(PQprepare(c.get(), "d", "SELECT 1", 0, nullptr));
    ASSERT_EQ(p.status(), PGRES_COMMAND_OK);
    ASSERT_EQ(PQenterPipelineMode(c.get()), 1);
    ASSERT_EQ(PQsendQueryParams(c.get(), "INSERT INTO rv_dup VALUES (1)", 0, nullptr, nullptr,
                                nullptr, nullptr, 0),
              1);
    ASSERT_EQ(PQsendPrepare(c.get(), "d", "SELECT 2", 0, nullptr), 1);
    ASSERT_EQ(PQpipelineSync(c.get()), 1);
    std::string seen;
    for (int i = 0; i < 8; ++i) {
      PGresult* r = PQgetResult(c.get());
      if (!r) continue;
      seen += std::string(PQresStatus(PQresultStatus(r))) + " ";
      const bool sync = PQresultStatus(r) == PGRES_PIPELINE_SYNC;
      PQclear(r);
      if (sync) break;
    }
    std::cerr << where << ": " << seen << "\n";
    EXPECT_EQ(countOnPrimary("rv_dup"), "0") << where << ": the failed batch's INSERT committed";
  }
}

// R8: a session default that a hot standby refuses is replayed on replicas.
TEST(ReviewRegression, R8_SerializableDefaultBreaksReplicaReads) {
  bothWays([](const std::string& ci, const char* where) {
    Conn c(ci);
    ASSERT_TRUE(c.ok()) << c.error();
    c.exec("SET default_transaction_isolation = 'serializable'");
    for (int i = 0; i < 4; ++i) {
      Res r(PQexec(c.get(), "SELECT 1"));
      EXPECT_EQ(r.status(), PGRES_TUPLES_OK) << where << ": " << PQerrorMessage(c.get());
    }
  });
}

// R10: the settings pgsplit replays go out as a simple Query, which destroys the client's
// unnamed statement.
TEST(ReviewRegression, R10_SettingsResyncDestroysUnnamedStatement) {
  bothWays([](const std::string& ci, const char* where) {
    Conn c(ci);
    ASSERT_TRUE(c.ok()) << c.error();
    Res p(PQprepare(c.get(), "", "SELECT 42", 0, nullptr));
    ASSERT_EQ(p.status(), PGRES_COMMAND_OK) << where;
    Res p2(PQprepare(c.get(), "bad", "SET statement_timeout = 'abc'", 0, nullptr));
    ASSERT_EQ(p2.status(), PGRES_COMMAND_OK) << where;
    Res e(PQexecPrepared(c.get(), "bad", 0, nullptr, nullptr, nullptr, 0));
    EXPECT_EQ(e.sqlstate(), "22023") << where;
    Res r(PQexecPrepared(c.get(), "", 0, nullptr, nullptr, nullptr, 0));
    EXPECT_EQ(r.status(), PGRES_TUPLES_OK) << where << ": " << PQerrorMessage(c.get());
    EXPECT_EQ(r.value(), "42") << where;
  });
}

std::string rawTypes(RawClient& raw, int readyForQueries, std::chrono::milliseconds timeout) {
  std::string types;
  int z = 0;
  while (z < readyForQueries) {
    auto [type, body] = raw.read(timeout);
    if (type == 0) {
      types += "<" + body + ">";
      break;
    }
    types.push_back(type);
    if (type == 'Z') ++z;
  }
  return types;
}

// R11: extended-protocol COPY whose data the client sends without waiting for CopyInResponse:
// the second Sync is counted as a unit before pgsplit learns it is absorbed.
TEST(ReviewRegression, R11_ExtendedCopyWithDataPipelined) {
  onPrimary(
      "DROP TABLE IF EXISTS rv_copy; CREATE TABLE rv_copy (id int); GRANT ALL ON rv_copy TO app");
  const Cluster& cl = Cluster::get();
  for (int direct = 1; direct >= 0; --direct) {
    std::unique_ptr<Pgsplit> proxy;
    int port = cl.primaryPort;
    if (!direct) {
      proxy = std::make_unique<Pgsplit>();
      port = proxy->port();
    }
    const char* where = direct ? "direct" : "via pgsplit";
    RawClient raw(port);
    ASSERT_EQ(raw.login("app", "app", "app"), "") << where;
    std::string out;
    using protocol::MessageWriter;
    MessageWriter(out).begin('P').cstr("").cstr("SELECT pg_sleep(0.3)").i16(0).end();
    MessageWriter(out).begin('B').cstr("").cstr("").i16(0).i16(0).i16(0).end();
    MessageWriter(out).begin('E').cstr("").i32(0).end();
    MessageWriter(out).begin('P').cstr("").cstr("COPY rv_copy FROM STDIN").i16(0).end();
    MessageWriter(out).begin('B').cstr("").cstr("").i16(0).i16(0).i16(0).end();
    MessageWriter(out).begin('E').cstr("").i32(0).end();
    protocol::writeSync(out);
    MessageWriter(out).begin('d').raw("1\n").end();
    MessageWriter(out).begin('c').end();
    protocol::writeSync(out);
    raw.send(out);
    std::string got = rawTypes(raw, 1, std::chrono::seconds(5));
    std::cerr << where << " copy: " << got << "\n";
    out.clear();
    MessageWriter(out).begin('P').cstr("").cstr("SELECT 7").i16(0).end();
    MessageWriter(out).begin('B').cstr("").cstr("").i16(0).i16(0).i16(0).end();
    MessageWriter(out).begin('E').cstr("").i32(0).end();
    protocol::writeSync(out);
    raw.send(out);
    got = rawTypes(raw, 1, std::chrono::seconds(5));
    EXPECT_EQ(got, "12DCZ") << where;
  }
}

// R12: pgsplit's own answer for a unit that needs no server (Close of a managed statement + Sync)
// is written without waiting for the relay's pending bytes: it can overtake the previous unit's
// ReadyForQuery. The previous unit's reply is made slow to write (a 16 MB synthetic 42P05 whose
// statement name is 16 MB long) while the client does not read.
TEST(ReviewRegression, R12_LocalAnswerOvertakesRelayedReply) {
  const Cluster& cl = Cluster::get();
  for (int direct = 1; direct >= 0; --direct) {
    std::unique_ptr<Pgsplit> proxy;
    int port = cl.primaryPort;
    if (!direct) {
      proxy = std::make_unique<Pgsplit>();
      port = proxy->port();
    }
    const char* where = direct ? "direct" : "via pgsplit";
    RawClient raw(port);
    ASSERT_EQ(raw.login("app", "app", "app"), "") << where;
    using protocol::MessageWriter;
    const std::string big(16u << 20, 'n');
    std::string out;
    MessageWriter(out).begin('P').cstr(big).cstr("SELECT 1").i16(0).end();
    protocol::writeSync(out);
    MessageWriter(out).begin('P').cstr("s2").cstr("SELECT 2").i16(0).end();
    protocol::writeSync(out);
    raw.send(out);
    std::string got = rawTypes(raw, 2, std::chrono::seconds(20));
    EXPECT_EQ(got, "1Z1Z") << where;
    out.clear();
    MessageWriter(out).begin('P').cstr(big).cstr("SELECT 1").i16(0).end();
    protocol::writeSync(out);
    MessageWriter(out).begin('C').u8('S').cstr("s2").end();
    protocol::writeSync(out);
    std::thread sender([&raw, &out] { raw.send(out); });
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    got = rawTypes(raw, 2, std::chrono::seconds(20));
    sender.join();
    EXPECT_EQ(got, "EZ3Z") << where;
  }
}

// R13: a client can drop pgsplit's own server-side statement; the backend's PreparedSet still
// lists it, so the next Bind of that text (by any client of that backend) fails.
TEST(ReviewRegression, R13_ClientDeallocatesPgsplitsStatement) {
  bothWays([](const std::string& ci, const char* where) {
    Conn c(ci);
    ASSERT_TRUE(c.ok()) << c.error();
    Res p(PQprepare(c.get(), "s", "SELECT txid_current() > 0", 0, nullptr));
    ASSERT_EQ(p.status(), PGRES_COMMAND_OK) << where;
    Res e(PQexecPrepared(c.get(), "s", 0, nullptr, nullptr, nullptr, 0));
    ASSERT_EQ(e.status(), PGRES_TUPLES_OK) << where;
    Res d(PQexec(c.get(), "DEALLOCATE pgsplit_1"));
    std::cerr << where << ": DEALLOCATE pgsplit_1 -> " << PQresStatus(d.status()) << "\n";
    Res r(PQexecPrepared(c.get(), "s", 0, nullptr, nullptr, nullptr, 0));
    EXPECT_EQ(r.status(), PGRES_TUPLES_OK) << where << ": " << PQerrorMessage(c.get());
  });
}

// R14: a per-transaction parameter SET outside a transaction (harmless on PostgreSQL) is kept as
// a session setting and replayed on replicas, where it fails; the whole replay (including the
// RESETs of the previous client's settings and role) rolls back, and this client's reads run
// with another client's role and search_path.
TEST(ReviewRegression, R14_FailedReplayLeaksPreviousClientsRoleAndSettings) {
  onPrimary(
      "DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'rv_low') THEN "
      "CREATE ROLE rv_low; END IF; END$$; GRANT rv_low TO app");
  Cluster::get().waitForReplicas();
  PgsplitOptions o;
  o.maxServerConnections = 2;
  Pgsplit proxy(o);
  std::vector<std::unique_ptr<Conn>> others;
  for (int k = 0; k < 4; ++k) {
    others.push_back(std::make_unique<Conn>(proxy.conninfo()));
    ASSERT_TRUE(others.back()->ok());
    others.back()->exec("SET ROLE rv_low");
    others.back()->exec("SET search_path TO leak_marker");
    for (int i = 0; i < 4; ++i)
      EXPECT_EQ(
          others.back()->value("SELECT current_user || '/' || current_setting('search_path')"),
          "rv_low/leak_marker");
  }
  for (int k = 0; k < 4; ++k) {
    Conn b(proxy.conninfo());
    ASSERT_TRUE(b.ok());
    b.exec("SET transaction_isolation = 'serializable'");
    for (int i = 0; i < 6; ++i) {
      std::string v = b.value(
          "SELECT current_user || '/' || current_setting('search_path') || '/' || "
          "pg_is_in_recovery()");
      EXPECT_EQ(v.substr(0, v.rfind('/')), "app/\"$user\", public") << "client " << k;
    }
  }
}

}  // namespace
}  // namespace pgsplit::test
