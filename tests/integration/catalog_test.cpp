// Catalog-aware routing through pgsplit against the real primary + 2 streaming replicas: user
// functions by their volatility in the primary's catalog, relations a standby cannot read,
// the [routing] overrides, DDL seen through pgsplit, hints and --explain.
#include <csignal>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

#include "harness.hpp"

namespace pgsplit::test {
namespace {

// Created on the primary directly (not through pgsplit) once for the suite.
constexpr const char* kSchema = R"SQL(
DROP TABLE IF EXISTS cat_log, cat_unlogged, cat_perm, cat_other CASCADE;
DROP SEQUENCE IF EXISTS cat_seq CASCADE;
DROP SCHEMA IF EXISTS cat_s CASCADE;
CREATE TABLE cat_log (id serial PRIMARY KEY, note text, port int);
CREATE UNLOGGED TABLE cat_unlogged (a int);
INSERT INTO cat_unlogged VALUES (1);
CREATE TABLE cat_perm (a int);
INSERT INTO cat_perm VALUES (1);
CREATE SEQUENCE cat_seq;
CREATE VIEW cat_next_v AS SELECT nextval('cat_seq') AS n;
CREATE SCHEMA cat_s;
-- A VOLATILE function that writes: it must run on the primary.
CREATE OR REPLACE FUNCTION cat_audit(note text) RETURNS int VOLATILE LANGUAGE sql AS
  $$ INSERT INTO cat_log (note, port) VALUES (note, inet_server_port()) RETURNING port $$;
-- STABLE / IMMUTABLE ones that say where they ran.
CREATE OR REPLACE FUNCTION cat_where() RETURNS bool STABLE LANGUAGE sql AS
  'SELECT pg_is_in_recovery()';
CREATE OR REPLACE FUNCTION cat_s.where_s() RETURNS bool STABLE LANGUAGE sql AS
  'SELECT pg_is_in_recovery()';
CREATE OR REPLACE FUNCTION cat_flip() RETURNS bool STABLE LANGUAGE sql AS
  'SELECT pg_is_in_recovery()';
CREATE OR REPLACE FUNCTION cat_override_w() RETURNS bool STABLE LANGUAGE sql AS
  'SELECT pg_is_in_recovery()';
-- VOLATILE but only reads: the catalog sends it to the primary unless listed read-only.
CREATE OR REPLACE FUNCTION cat_where_v() RETURNS bool VOLATILE LANGUAGE sql AS
  'SELECT pg_is_in_recovery()';
)SQL";

// Runs `sql` (its first column says pg_is_in_recovery()) up to `attempts` times, 100 ms apart,
// until it ran on a replica; every attempt must succeed. Returns whether it got there.
bool eventuallyOnReplica(Conn& c, const std::string& sql, int attempts = 100) {
  for (int i = 0; i < attempts; ++i) {
    if (c.value(sql) == "t") return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

// Runs `sql` up to 100 times, 100 ms apart, each time expecting `value`, until pgsplit's log
// shows `text` (its debug lines carry each routing decision's reason). Returns the runs.
int runUntilLogShows(const Pgsplit& proxy, Conn& c, const std::string& sql,
                     const std::string& value, const std::string& text) {
  for (int runs = 1; runs <= 100; ++runs) {
    EXPECT_EQ(c.value(sql), value) << sql;
    if (proxy.log().find(text) != std::string::npos) return runs;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ADD_FAILURE() << "pgsplit never logged: " << text << "\n" << proxy.log();
  return 100;
}

void createSchema() {
  const Cluster& c = Cluster::get();
  Conn direct(c.appConninfo(c.primaryPort));
  ASSERT_TRUE(direct.ok()) << direct.error();
  direct.exec(kSchema);
  c.waitForReplicas();
}

class Catalog : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    createSchema();
    proxy_ = new Pgsplit();
  }
  static void TearDownTestSuite() {
    delete proxy_;
    proxy_ = nullptr;
  }
  static Pgsplit* proxy_;
  const Cluster& cluster_ = Cluster::get();
};
Pgsplit* Catalog::proxy_ = nullptr;

// (A statement routed to the primary counts as the session's write for read-your-writes, so
// reads expected on a replica use a connection of their own.)

TEST_F(Catalog, VolatileFunctionThatInsertsRunsOnThePrimary) {
  Conn c(proxy_->conninfo());
  ASSERT_TRUE(c.ok()) << c.error();
  const std::string primary = std::to_string(cluster_.primaryPort);
  // Before the lookup (not known yet: the primary) and after it (VOLATILE: the primary), and
  // it never fails.
  int calls = runUntilLogShows(*proxy_, c, "SELECT cat_audit('volatile')", primary,
                               "function public.cat_audit() is VOLATILE");
  EXPECT_EQ(c.value("SELECT cat_audit('volatile')"), primary);
  ++calls;
  Conn direct(cluster_.appConninfo(cluster_.primaryPort));
  EXPECT_EQ(
      direct.value("SELECT count(*) FROM cat_log WHERE note = 'volatile' AND port = " + primary),
      std::to_string(calls));
}

TEST_F(Catalog, StableFunctionRunsOnAReplica) {
  {
    // The first call cannot know yet: it runs on the primary, and the lookup starts.
    Conn first(proxy_->conninfo());
    ASSERT_TRUE(first.ok()) << first.error();
    EXPECT_EQ(first.value("SELECT cat_where()"), "f");
  }
  Conn c(proxy_->conninfo());
  EXPECT_TRUE(eventuallyOnReplica(c, "SELECT cat_where()")) << proxy_->log();
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(c.value("SELECT cat_where()"), "t");
  // Schema-qualified, and inside a larger read.
  Conn q(proxy_->conninfo());
  EXPECT_TRUE(eventuallyOnReplica(q, "SELECT cat_s.where_s() AND a = 1 FROM cat_perm"));
  EXPECT_NE(proxy_->log().find("catalog: looked up"), std::string::npos);
}

TEST_F(Catalog, UnloggedTableReadGoesToThePrimary) {
  {
    // A permanent table's reads reach the replicas once looked up ...
    Conn c(proxy_->conninfo());
    EXPECT_TRUE(eventuallyOnReplica(c, "SELECT pg_is_in_recovery() FROM cat_perm"));
  }
  // ... an unlogged one's never do: they succeed on the primary (a standby refuses them).
  Conn c(proxy_->conninfo());
  runUntilLogShows(*proxy_, c, "SELECT pg_is_in_recovery() FROM cat_unlogged", "f",
                   "relation public.cat_unlogged is UNLOGGED");
  for (int i = 0; i < 6; ++i) {
    const auto rows = c.rows("SELECT pg_is_in_recovery(), count(*) FROM cat_unlogged, cat_perm");
    ASSERT_EQ(rows.size(), 1U);
    EXPECT_EQ(rows[0][0], "f");
    EXPECT_EQ(rows[0][1], "1");
  }
  // What a standby answers instead.
  Conn replica(cluster_.appConninfo(cluster_.replica1Port));
  EXPECT_EQ(replica.errorState("SELECT * FROM cat_unlogged"), "0A000");
}

TEST_F(Catalog, ViewCallingNextvalGoesToThePrimary) {
  Conn c(proxy_->conninfo());
  ASSERT_TRUE(c.ok()) << c.error();
  runUntilLogShows(*proxy_, c, "SELECT pg_is_in_recovery() FROM cat_next_v", "f",
                   "view public.cat_next_v: function nextval");
  EXPECT_EQ(c.value("SELECT pg_is_in_recovery() FROM cat_next_v"), "f");
}

TEST_F(Catalog, DdlThroughPgsplitIsSeenAtOnce) {
  {
    Conn reader(proxy_->conninfo());
    ASSERT_TRUE(eventuallyOnReplica(reader, "SELECT cat_flip()"));
  }
  {
    Conn ddl(proxy_->conninfo());
    ddl.exec(
        "CREATE OR REPLACE FUNCTION cat_flip() RETURNS bool VOLATILE LANGUAGE sql AS "
        "'SELECT pg_is_in_recovery()'");
  }
  cluster_.waitForReplicas();
  // From the DDL on, the old STABLE verdict is gone: every call runs on the primary.
  Conn reader(proxy_->conninfo());
  runUntilLogShows(*proxy_, reader, "SELECT cat_flip()", "f",
                   "function public.cat_flip() is VOLATILE");
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(reader.value("SELECT cat_flip()"), "f");
}

TEST_F(Catalog, DdlOnOtherObjectsLeavesReadsOnReplicas) {
  {
    Conn reader(proxy_->conninfo());
    ASSERT_TRUE(eventuallyOnReplica(reader, "SELECT pg_is_in_recovery() FROM cat_perm"));
  }
  {
    // What applications run at every start: it names cat_other, not cat_perm.
    Conn ddl(proxy_->conninfo());
    ddl.exec("CREATE TABLE IF NOT EXISTS cat_other (a int)");
  }
  Conn reader(proxy_->conninfo());
  EXPECT_EQ(reader.value("SELECT pg_is_in_recovery() FROM cat_perm"), "t");
}

TEST_F(Catalog, ReplicaHintOnAWriteIsIgnoredAndLogged) {
  Conn c(proxy_->conninfo());
  ASSERT_TRUE(c.ok()) << c.error();
  const std::string primary = std::to_string(cluster_.primaryPort);
  EXPECT_EQ(c.value("/* pgsplit:replica */ SELECT cat_audit('hinted')"), primary);
  EXPECT_EQ(c.value("/* pgsplit:replica */ INSERT INTO cat_log (note, port) "
                    "VALUES ('hinted', inet_server_port()) RETURNING port"),
            primary);
  EXPECT_NE(proxy_->log().find("ignoring /* pgsplit:replica */"), std::string::npos);
  Conn direct(cluster_.appConninfo(cluster_.primaryPort));
  EXPECT_EQ(direct.value("SELECT count(*) FROM cat_log WHERE note = 'hinted'"), "2");
}

TEST_F(Catalog, ExplainUsesTheCatalog) {
  const std::string cmd =
      std::string(PGSPLIT_DEFAULT_BINARY) + " --config " + proxy_->configPath() + " --explain ";
  auto [code, out] = runCommand(cmd + "\"SELECT cat_audit('x')\"");
  EXPECT_EQ(code, 0) << out;
  EXPECT_TRUE(out.starts_with("primary: function public.cat_audit() is VOLATILE\n")) << out;
  auto [code2, out2] = runCommand(cmd + "\"SELECT cat_where() FROM cat_perm\"");
  EXPECT_EQ(code2, 0) << out2;
  EXPECT_TRUE(out2.starts_with("replica: SELECT\n")) << out2;
  EXPECT_NE(out2.find("function cat_where(): STABLE"), std::string::npos) << out2;
  auto [code3, out3] = runCommand(cmd + "\"SELECT * FROM cat_unlogged\"");
  EXPECT_TRUE(out3.starts_with("primary: relation public.cat_unlogged is UNLOGGED\n")) << out3;
  // Explaining runs nothing.
  Conn direct(cluster_.appConninfo(cluster_.primaryPort));
  EXPECT_EQ(direct.value("SELECT count(*) FROM cat_log WHERE note = 'x'"), "0");
}

TEST(CatalogOverrides, ConfiguredListsFlipTheDecision) {
  createSchema();
  PgsplitOptions o;
  o.extra =
      "[routing]\n"
      "write_functions = [\"cat_override_w\"]\n"
      "read_only_functions = [\"public.cat_where_v\"]\n";
  Pgsplit proxy(o);
  {
    // VOLATILE in the catalog, listed read-only: a replica from the first call.
    Conn c(proxy.conninfo());
    ASSERT_TRUE(c.ok()) << c.error();
    for (int i = 0; i < 4; ++i)
      EXPECT_EQ(c.value("SELECT cat_where_v()"), "t");
  }
  {
    // STABLE in the catalog, listed as writing: always the primary.
    Conn c(proxy.conninfo());
    for (int i = 0; i < 10; ++i)
      EXPECT_EQ(c.value("SELECT cat_override_w()"), "f");
  }
  // Unlisted, the catalog decides the other way round for both.
  Pgsplit plain;
  {
    Conn p(plain.conninfo());
    EXPECT_TRUE(eventuallyOnReplica(p, "SELECT cat_override_w()"));
  }
  Conn p(plain.conninfo());
  runUntilLogShows(plain, p, "SELECT cat_where_v()", "f",
                   "function public.cat_where_v() is VOLATILE");
  // --check-config accepts the lists.
  auto [code, out] =
      runCommand(std::string(PGSPLIT_DEFAULT_BINARY) + " --check-config " + proxy.configPath());
  EXPECT_EQ(code, 0) << out;
}

TEST(CatalogOff, WithoutLookupsUserFunctionsStayOnThePrimary) {
  createSchema();
  PgsplitOptions o;
  o.extra = "[routing]\ncatalog_lookups = false\n";
  Pgsplit proxy(o);
  {
    // Relations are taken as readable: permanent tables are read on replicas from the start.
    Conn c(proxy.conninfo());
    EXPECT_EQ(c.value("SELECT pg_is_in_recovery() FROM cat_perm"), "t");
  }
  Conn c(proxy.conninfo());
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(c.value("SELECT cat_where()"), "f");
  EXPECT_EQ(proxy.log().find("catalog: looked up"), std::string::npos);
}

// The safety net behind the classifier: a function listed read-only that writes reaches a
// replica, which refuses it (25006); pgsplit sends it again to the primary before any byte of
// the reply reached the client, so the client sees one success and the write happens once.
TEST(CatalogSafetyNet, AWriteAReplicaRefusesIsRunOnceOnThePrimary) {
  createSchema();
  const Cluster& cl = Cluster::get();
  PgsplitOptions o;
  o.extra = "[routing]\nread_only_functions = [\"public.cat_audit\"]\n";
  Pgsplit proxy(o);
  Conn c(proxy.conninfo());
  ASSERT_TRUE(c.ok()) << c.error();
  const std::string primary = std::to_string(cl.primaryPort);
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(c.value("SELECT cat_audit('safety-simple')"), primary);
  // The extended protocol, with a parameter, too.
  for (int i = 0; i < 3; ++i) {
    const char* values[] = {"safety-extended"};
    std::unique_ptr<PGresult, decltype(&PQclear)> r(
        PQexecParams(c.get(), "SELECT cat_audit($1)", 1, nullptr, values, nullptr, nullptr, 0),
        &PQclear);
    ASSERT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK) << PQresultErrorMessage(r.get());
    EXPECT_EQ(std::string(PQgetvalue(r.get(), 0, 0)), primary);
  }
  Conn direct(cl.appConninfo(cl.primaryPort));
  EXPECT_EQ(direct.value("SELECT count(*) FROM cat_log WHERE note = 'safety-simple'"), "3")
      << "each write must happen exactly once";
  EXPECT_EQ(direct.value("SELECT count(*) FROM cat_log WHERE note = 'safety-extended'"), "3");
  EXPECT_NE(proxy.log().find("safety net"), std::string::npos) << proxy.log();
  // Inside a read-only transaction nothing can be retried: the client gets the replica's 25006.
  c.exec("BEGIN READ ONLY");
  EXPECT_EQ(c.errorState("SELECT cat_audit('safety-txn')"), "25006");
  c.exec("ROLLBACK");
  EXPECT_EQ(direct.value("SELECT count(*) FROM cat_log WHERE note = 'safety-txn'"), "0");
}

// Without catalog lookups relations are taken as readable: an UNLOGGED table's read reaches a
// replica, which refuses it (0A000); it is answered by the primary instead.
TEST(CatalogSafetyNet, AnUnloggedReadAReplicaRefusesIsAnsweredByThePrimary) {
  createSchema();
  PgsplitOptions o;
  o.extra = "[routing]\ncatalog_lookups = false\n";
  Pgsplit proxy(o);
  Conn c(proxy.conninfo());
  ASSERT_TRUE(c.ok()) << c.error();
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(c.value("SELECT count(*)::text || '/' || pg_is_in_recovery() FROM cat_unlogged"),
              "1/false");
  EXPECT_NE(proxy.log().find("0A000"), std::string::npos) << proxy.log();
}

// A reload gives the classifiers the new function lists, and the catalog lookups keep working
// under the new configuration.
TEST(CatalogReload, FunctionListsFollowAReloadAndLookupsGoOn) {
  createSchema();
  Pgsplit proxy;
  {
    Conn c(proxy.conninfo());
    ASSERT_TRUE(c.ok()) << c.error();
    runUntilLogShows(proxy, c, "SELECT cat_where_v()", "f",
                     "function public.cat_where_v() is VOLATILE");
  }
  std::ifstream in(proxy.configPath());
  std::stringstream text;
  text << in.rdbuf();
  proxy.writeConfig(text.str() + "[routing]\nread_only_functions = [\"public.cat_where_v\"]\n");
  proxy.signal(SIGHUP);
  bool applied = false;
  for (int i = 0; i < 100 && !applied; ++i) {
    applied = proxy.log().find("reload applied") != std::string::npos;
    if (!applied) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(applied) << proxy.log();
  EXPECT_NE(proxy.log().find("[routing] read_only_functions changed"), std::string::npos);
  {
    Conn c(proxy.conninfo());
    EXPECT_TRUE(eventuallyOnReplica(c, "SELECT cat_where_v()", 20))
        << "a function listed read-only by a reload still went to the primary";
  }
  // A function created after the reload is looked up like before it.
  Conn direct(Cluster::get().appConninfo(Cluster::get().primaryPort));
  direct.exec(
      "CREATE OR REPLACE FUNCTION cat_after_reload() RETURNS bool STABLE LANGUAGE sql AS "
      "'SELECT pg_is_in_recovery()'");
  Cluster::get().waitForReplicas();
  Conn c(proxy.conninfo());
  EXPECT_TRUE(eventuallyOnReplica(c, "SELECT cat_after_reload()"))
      << "catalog lookups stopped after the reload";
  direct.exec("DROP FUNCTION cat_after_reload()");
}

}  // namespace
}  // namespace pgsplit::test
