// Every read case of the classifier's table (tests/unit/sql_classifier_cases.hpp) run on a
// real hot standby: none may be refused for being on a standby (a write, a lock, a sequence,
// SERIALIZABLE, an unlogged relation, a WAL function...). The objects the cases name are
// created on the primary first, so most cases run for real; the others fail before execution
// for reasons that have nothing to do with the standby (an undefined cursor, a parameter
// without a value) and are counted as inconclusive.
#include <libpq-fe.h>

#include <cstdio>
#include <string>

#include "../unit/sql_classifier_cases.hpp"
#include "harness.hpp"

namespace pgsplit::test {
namespace {

constexpr const char* kFixture = R"SQL(
DROP SCHEMA IF EXISTS standby_cases CASCADE;
CREATE SCHEMA standby_cases;
SET search_path = standby_cases;
CREATE TABLE t (id int, a int, b int, c int, d int, x int, y int, z int, v int, uid int,
                w text, note text, j jsonb, share int, key int, update_time timestamptz,
                inserted_by text, deleted bool, "Column" int, "weird "" name" int,
                abalance int, aid int, "for" int, "update" int, "insert" int, nextval int,
                "; DELETE FROM t" int);
INSERT INTO t (id, a, b, c, x, y, z, w, note, j)
  SELECT g, g, g, g, g, g, g, 'w' || g, 'n', '{"a": 1}' FROM generate_series(1, 3) g;
CREATE TABLE u (id int, a int, b int, c int, name text);
INSERT INTO u VALUES (1, 1, 1, 1, 'x');
CREATE TABLE v (id int, a int, b int);
CREATE TABLE t1 (id int, a int);
CREATE TABLE t2 (id int, b int);
CREATE TABLE t3 (id int, c int);
CREATE TABLE "Table" ("Column" int, "weird "" name" int);
CREATE TABLE "T" (a int);
CREATE TABLE pgbench_accounts (aid int, abalance int);
CREATE TABLE pgbench_branches (bid int, bbalance int);
CREATE TABLE "nextval" (a int);
CREATE VIEW vw AS SELECT * FROM t;
CREATE TABLE a (id int);
CREATE TABLE b (id int);
CREATE TABLE c (id int);
)SQL";

bool refusedOnStandby(const char* sqlstate, const std::string& message) {
  const std::string state = sqlstate != nullptr ? sqlstate : "";
  return state == "25006" || message.find("recovery") != std::string::npos ||
         message.find("hot standby") != std::string::npos ||
         message.find("read-only transaction") != std::string::npos;
}

TEST(StandbyCases, EveryReadCaseRunsOnAHotStandby) {
  const Cluster& cluster = Cluster::get();
  {
    Conn primary(cluster.appConninfo(cluster.primaryPort));
    ASSERT_TRUE(primary.ok()) << primary.error();
    primary.exec(kFixture);
  }
  cluster.waitForReplicas();
  Conn standby(cluster.appConninfo(cluster.replica1Port));
  ASSERT_TRUE(standby.ok()) << standby.error();
  ASSERT_EQ(standby.value("SELECT pg_is_in_recovery()"), "t");

  int reads = 0;
  int ran = 0;
  std::string inconclusive;
  for (const sql::spec::Case& c : sql::spec::kAllCases) {
    if (!c.readOnly) continue;
    ++reads;
    const std::string text(c.sql);
    // Cursors for FETCH and MOVE to move.
    PQclear(PQexec(standby.get(),
                   "BEGIN; SET LOCAL search_path = standby_cases, public; "
                   "DECLARE c SCROLL CURSOR FOR SELECT * FROM t; "
                   "DECLARE \"Cur\" SCROLL CURSOR FOR SELECT * FROM t"));
    PGresult* r = PQexec(standby.get(), text.c_str());
    const ExecStatusType status = PQresultStatus(r);
    if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK || status == PGRES_COPY_OUT) {
      ++ran;
    } else {
      const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
      const std::string message = PQresultErrorMessage(r);
      EXPECT_FALSE(refusedOnStandby(state, message))
          << "classified as a read, refused by the standby:\n  " << text << "\n  " << message;
      inconclusive += "  " + std::string(state != nullptr ? state : "?") + " " + text + "\n";
    }
    PQclear(r);
    // COPY ... TO STDOUT: drain it.
    while (PQresultStatus(r = PQgetResult(standby.get())) != PGRES_FATAL_ERROR && r != nullptr) {
      if (PQresultStatus(r) == PGRES_COPY_OUT) {
        char* row = nullptr;
        while (PQgetCopyData(standby.get(), &row, 0) > 0)
          PQfreemem(row);
      }
      PQclear(r);
    }
    if (r != nullptr) PQclear(r);
    PQclear(PQexec(standby.get(), "ROLLBACK"));
    ASSERT_EQ(PQtransactionStatus(standby.get()), PQTRANS_IDLE) << text;
  }
  std::printf(
      "[ standby ] %d read cases: %d ran on the standby, %d failed before running "
      "for other reasons:\n%s",
      reads, ran, reads - ran, inconclusive.c_str());
  EXPECT_GE(reads, 150);
  // Most cases must really run, or the check proves little.
  EXPECT_GE(ran * 10, reads * 8) << "too few read cases ran on the standby";
}

}  // namespace
}  // namespace pgsplit::test
