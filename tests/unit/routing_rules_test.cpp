// Routing rules as a table: (rules, client, statement texts, transaction) -> the deciding rule;
// then what the router does with it (write guard, clusters, lag limits).
#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <vector>

#include "pgsplit/config/config.hpp"
#include "pgsplit/routing/router.hpp"
#include "pgsplit/routing/rules.hpp"
#include "pgsplit/sql/analysis.hpp"

namespace pgsplit::routing {
namespace {

const char* kBase = R"(
[[nodes]]
name = "pg0"
host = "127.0.0.1"
[[users]]
name = "app"
password = "app"
)";

struct Compiled {
  std::shared_ptr<const config::Config> config;
  std::shared_ptr<const RuleSet> rules;
};

Compiled compile(const std::string& rulesToml, const std::string& base = kBase) {
  auto loaded = config::loadString(base + rulesToml);
  EXPECT_TRUE(loaded.errors.empty()) << (loaded.errors.empty() ? "" : loaded.errors.front());
  if (!loaded.config) return {};
  return {loaded.config, RuleSet::compile(*loaded.config)};
}

struct Client {
  std::string user = "app";
  std::string database = "app";
  std::string application = "web";
  std::string address = "10.1.2.3";
};

// The name of the rule that decides a unit made of these texts ("" when none does).
std::string decide(const RuleSet& rules, const std::vector<std::string>& texts,
                   const Client& client = {}, bool inTransaction = false) {
  const RuleMask session = rules.sessionMask(
      {client.user, client.database, client.application, config::IpAddress::parse(client.address)});
  RuleMask unit = rules.unitStart(session);
  for (const std::string& text : texts) {
    const sql::Analysis a = sql::analyze(text);
    rules.matchText(session, a.classification, a, text, unit);
  }
  const int i = rules.decide(unit, inTransaction);
  return i < 0 ? std::string() : rules[static_cast<std::size_t>(i)].name;
}

std::string decide(const RuleSet& rules, const std::string& text, const Client& client = {},
                   bool inTransaction = false) {
  return decide(rules, std::vector<std::string>{text}, client, inTransaction);
}

// Each text, alone in a unit: whether `rule` decides it.
struct MatchCase {
  const char* sql;
  bool matches;
};
void expectMatches(const RuleSet& rules, const std::string& rule,
                   std::initializer_list<MatchCase> cases) {
  for (const MatchCase& k : cases)
    EXPECT_EQ(decide(rules, k.sql), k.matches ? rule : "") << k.sql;
}

TEST(Rules, FirstMatchInFileOrderWins) {
  const auto c = compile(R"(
[[rules]]
name = "first"
tables = ["accounts"]
route = "primary"
[[rules]]
name = "second"
statement = "read"
route = "replica"
[[rules]]
name = "third"
statement = "any"
application_name = "web"
max_replica_lag_ms = 100
)");
  EXPECT_EQ(decide(*c.rules, "SELECT * FROM accounts"), "first");
  EXPECT_EQ(decide(*c.rules, "SELECT * FROM orders"), "second");
  EXPECT_EQ(decide(*c.rules, "INSERT INTO orders VALUES (1)"), "third");
  Client other;
  other.application = "cron";
  EXPECT_EQ(decide(*c.rules, "INSERT INTO orders VALUES (1)", other), "");
}

TEST(Rules, StatementKinds) {
  const auto c = compile(R"(
[[rules]]
name = "ddl"
statement = "ddl"
block = "no"
[[rules]]
name = "write"
statement = "write"
route = "primary"
[[rules]]
name = "transaction"
statement = "transaction"
route = "primary"
[[rules]]
name = "read"
statement = "read"
route = "replica"
)");
  struct Case {
    const char* sql;
    const char* rule;
  } cases[] = {
      {"SELECT 1", "read"},
      {"select * from t where id = $1", "read"},
      {"VALUES (1)", "read"},
      {"SHOW work_mem", "read"},
      {"EXPLAIN SELECT 1", "read"},
      {"WITH x AS (SELECT 1) SELECT * FROM x", "read"},
      {"COPY t TO STDOUT", "read"},
      {"SELECT * FROM t FOR UPDATE", "write"},
      {"INSERT INTO t VALUES (1)", "write"},
      {"UPDATE t SET a = 1", "write"},
      {"DELETE FROM t", "write"},
      {"WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d", "write"},
      {"COPY t FROM STDIN", "write"},
      {"TRUNCATE t", "write"},
      {"CALL p()", "write"},
      {"SELECT nextval('s')", "write"},
      {"VACUUM t", "write"},
      {"this is not sql", "write"},
      {"CREATE TABLE t (a int)", "ddl"},
      {"ALTER TABLE t ADD COLUMN b int", "ddl"},
      {"DROP INDEX i", "ddl"},
      {"GRANT SELECT ON t TO r", "ddl"},
      {"COMMENT ON TABLE t IS 'x'", "ddl"},
      {"BEGIN", "transaction"},
      {"BEGIN READ ONLY", "transaction"},
      {"COMMIT", "transaction"},
      {"ROLLBACK TO SAVEPOINT s", "transaction"},
      {"SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", "transaction"},
      {"SET work_mem = '64MB'", ""},  // session state: none of these kinds
      {"RESET ALL", ""},
      {"LISTEN ch", ""},
      {"DISCARD ALL", ""},
      {"", ""},
      // A text of several statements holds each of their kinds; "read" needs them all reads.
      {"SELECT 1; SELECT 2", "read"},
      {"SELECT 1; INSERT INTO t VALUES (1)", "write"},
      {"BEGIN; CREATE TABLE t (a int); COMMIT", "ddl"},
      {"BEGIN; SELECT 1; COMMIT", "transaction"},
  };
  for (const Case& k : cases)
    EXPECT_EQ(decide(*c.rules, k.sql), k.rule) << k.sql;
}

TEST(Rules, Tables) {
  const auto c = compile(R"(
[[rules]]
name = "hot"
tables = ["public.accounts", "billing.*", "audit_log", "\"Mixed\".\"Case\"", "tmp_?"]
route = "primary"
)");
  expectMatches(
      *c.rules, "hot",
      {
          {"SELECT * FROM accounts", true},  // unqualified: public (the default search_path)
          {"SELECT * FROM public.accounts", true},
          {"SELECT * FROM PUBLIC.ACCOUNTS", true},
          {"SELECT * FROM other.accounts", false},
          {"SELECT * FROM accounts_archive", false},
          {"SELECT * FROM billing.invoices", true},
          {"SELECT * FROM invoices", false},
          {"SELECT * FROM ops.audit_log", true},  // bare pattern: any schema
          {"SELECT * FROM audit_log", true},
          {"SELECT * FROM \"Mixed\".\"Case\"", true},
          {"SELECT * FROM mixed.case", false},
          {"SELECT * FROM tmp_1", true},
          {"SELECT * FROM tmp_12", false},
          // Wherever a statement names a table.
          {"SELECT * FROM orders o JOIN accounts a ON a.id = o.account", true},
          {"SELECT * FROM orders, billing.invoices", true},
          {"SELECT * FROM orders WHERE id IN (SELECT id FROM accounts)", true},
          {"WITH x AS (SELECT * FROM billing.invoices) SELECT * FROM x", true},
          {"INSERT INTO accounts VALUES (1)", true},
          {"INSERT INTO billing.invoices (id) VALUES (1)", true},
          {"UPDATE accounts SET balance = 0", true},
          {"UPDATE ONLY accounts SET balance = 0", true},
          {"UPDATE orders SET x = 1 FROM billing.invoices i WHERE i.id = orders.id", true},
          {"DELETE FROM accounts WHERE id = 1", true},
          {"DELETE FROM orders USING accounts WHERE orders.a = accounts.id", true},
          {"MERGE INTO accounts a USING src s ON a.id = s.id WHEN MATCHED THEN UPDATE SET b = 1",
           true},
          {"MERGE INTO t USING billing.invoices s ON t.id = s.id WHEN MATCHED THEN DELETE", true},
          {"COPY accounts FROM STDIN", true},
          {"COPY accounts TO STDOUT", true},
          {"TRUNCATE TABLE orders, accounts", true},
          {"LOCK TABLE accounts IN EXCLUSIVE MODE", true},
          {"ALTER TABLE accounts ADD COLUMN x int", true},
          {"DROP TABLE IF EXISTS billing.old", true},
          {"CREATE TABLE billing.new (id int)", true},
          {"EXPLAIN SELECT * FROM accounts", true},
          {"SELECT accounts FROM orders", false},  // a column, not a table
          {"SELECT * FROM orders o JOIN x USING (accounts)", false},
          {"INSERT INTO orders SELECT * FROM generate_series(1, 3)", false},
      });
}

TEST(Rules, Functions) {
  const auto c = compile(R"(
[[rules]]
name = "fn"
functions = ["pg_sleep", "audit.*", "public.log_event"]
route = "primary"
)");
  expectMatches(*c.rules, "fn",
                {
                    {"SELECT pg_sleep(1)", true},
                    {"SELECT PG_SLEEP(1)", true},
                    {"SELECT pg_catalog.pg_sleep(1)", true},
                    {"SELECT audit.write('x')", true},
                    {"SELECT write('x')", false},
                    {"SELECT log_event('x')", true},  // unqualified: public
                    {"SELECT other.log_event('x')", false},
                    {"SELECT count(*) FROM t WHERE x = lower($1)", false},
                    {"INSERT INTO t VALUES (audit.now())", true},
                    {"SELECT 1", false},
                });
}

TEST(Rules, QueryRegex) {
  const auto c = compile(R"(
[[rules]]
name = "sleep"
query_regex = "pg_sleep\\s*\\(\\s*[0-9]{3,}"
block = "long pg_sleep is not allowed"
[[rules]]
name = "hinted"
query_regex = "(?i)/\\*\\s*report\\s*\\*/"
route = "replica"
[[rules]]
name = "short"
query_regex = "^S"
route = "any"
)");
  EXPECT_EQ(decide(*c.rules, "SELECT pg_sleep(1000)"), "sleep");
  EXPECT_EQ(decide(*c.rules, "select pg_sleep ( 12345 )"), "sleep");
  EXPECT_EQ(decide(*c.rules, "SELECT PG_SLEEP(1000)"), "short");  // case-sensitive by default
  EXPECT_EQ(decide(*c.rules, "select pg_sleep(10)"), "");
  EXPECT_EQ(decide(*c.rules, "/* REPORT */ select 1"), "hinted");
  EXPECT_EQ(decide(*c.rules, "SELECT 1"), "short");  // a regex with no literal atom
  EXPECT_EQ(decide(*c.rules, "select 1"), "");
}

TEST(Rules, ClientConditions) {
  const auto c = compile(R"(
[[rules]]
name = "migrator"
user = ["migrator", "flyway*"]
route = "primary"
[[rules]]
name = "reporting"
application_name = "reporting*"
statement = "read"
route = "replica"
[[rules]]
name = "analytics"
database = "analytics_*"
max_replica_lag_ms = 60000
[[rules]]
name = "office"
client_addr = ["192.168.0.0/16", "fd00::/8"]
statement = "ddl"
block = "not from the office"
)");
  Client migrator;
  migrator.user = "migrator";
  EXPECT_EQ(decide(*c.rules, "SELECT 1", migrator), "migrator");
  Client flyway;
  flyway.user = "flyway_ci";
  EXPECT_EQ(decide(*c.rules, "CREATE TABLE t (a int)", flyway), "migrator");
  Client reporting;
  reporting.application = "reporting-daily";
  EXPECT_EQ(decide(*c.rules, "SELECT 1", reporting), "reporting");
  EXPECT_EQ(decide(*c.rules, "INSERT INTO t VALUES (1)", reporting), "");
  Client analytics;
  analytics.database = "analytics_eu";
  EXPECT_EQ(decide(*c.rules, "SELECT 1", analytics), "analytics");
  Client office;
  office.address = "192.168.4.5";
  EXPECT_EQ(decide(*c.rules, "DROP TABLE t", office), "office");
  EXPECT_EQ(decide(*c.rules, "SELECT 1", office), "");
  office.address = "fd12::7";
  EXPECT_EQ(decide(*c.rules, "DROP TABLE t", office), "office");
  office.address = "::ffff:192.168.9.9";  // an IPv4 client on a dual-stack listener
  EXPECT_EQ(decide(*c.rules, "DROP TABLE t", office), "office");
  office.address = "10.0.0.1";
  EXPECT_EQ(decide(*c.rules, "DROP TABLE t", office), "");
  office.address = "";  // unknown address: client_addr never holds
  EXPECT_EQ(decide(*c.rules, "DROP TABLE t", office), "");
}

TEST(Rules, InTransaction) {
  const auto c = compile(R"(
[[rules]]
name = "outside"
in_transaction = false
statement = "read"
route = "replica"
[[rules]]
name = "inside"
in_transaction = true
block = "not in a transaction"
)");
  EXPECT_EQ(decide(*c.rules, "SELECT 1", {}, false), "outside");
  EXPECT_EQ(decide(*c.rules, "SELECT 1", {}, true), "inside");
  EXPECT_EQ(decide(*c.rules, "UPDATE t SET a = 1", {}, false), "");
}

TEST(Rules, AUnitMatchesWhenOneOfItsStatementsDoes) {
  const auto c = compile(R"(
[[rules]]
name = "writes to accounts"
statement = "write"
tables = ["accounts"]
block = "no"
)");
  // Statement conditions hold for one statement text: a read of accounts and a write elsewhere
  // in the same batch is not "a write to accounts".
  EXPECT_EQ(decide(*c.rules, std::vector<std::string>{"SELECT * FROM accounts",
                                                      "INSERT INTO orders VALUES (1)"}),
            "");
  EXPECT_EQ(decide(*c.rules, std::vector<std::string>{"SELECT 1", "UPDATE accounts SET a = 1"}),
            "writes to accounts");
  EXPECT_EQ(decide(*c.rules, std::vector<std::string>{}), "");
}

TEST(Rules, NoRulesNoCost) {
  const auto c = compile("");
  EXPECT_TRUE(c.rules->empty());
  EXPECT_EQ(decide(*c.rules, "SELECT 1"), "");
}

TEST(Rules, DescribeThemselves) {
  const auto c = compile(R"(
[[rules]]
name = "r"
application_name = "reporting*"
statement = "read"
route = "replica"
max_replica_lag_ms = 30000
[[rules]]
name = "b"
query_regex = "x"
block = "no x"
)");
  EXPECT_EQ((*c.rules)[0].conditions, "statement = \"read\", application_name = \"reporting*\"");
  EXPECT_EQ((*c.rules)[0].action, "route = \"replica\", max_replica_lag_ms = 30000");
  EXPECT_EQ((*c.rules)[1].conditions, "query_regex = \"x\"");
  EXPECT_EQ((*c.rules)[1].action, "block = \"no x\"");
}

// ---- clusters -------------------------------------------------------------------------------

const char* kTwoClusters = R"(
[[clusters]]
name = "events"
databases = ["events", "events_*"]
[[clusters]]
name = "reports"
databases = ["app"]
users = ["reporter*"]
[[clusters]]
name = "main"
databases = ["*"]
[[nodes]]
name = "m0"
cluster = "main"
host = "127.0.0.1"
[[nodes]]
name = "m1"
cluster = "main"
host = "127.0.0.2"
[[nodes]]
name = "e0"
cluster = "events"
host = "127.0.0.3"
[[nodes]]
name = "e1"
cluster = "events"
host = "127.0.0.4"
[[nodes]]
name = "r0"
cluster = "reports"
host = "127.0.0.5"
[[users]]
name = "app"
password = "app"
)";

TEST(Clusters, DatabaseAndUserPickTheCluster) {
  const auto c = compile("", kTwoClusters);
  ASSERT_TRUE(c.rules);
  EXPECT_EQ(c.rules->clusterFor("events", "app"), 0);
  EXPECT_EQ(c.rules->clusterFor("events_eu", "app"), 0);
  EXPECT_EQ(c.rules->clusterFor("app", "reporter1"), 1);
  EXPECT_EQ(c.rules->clusterFor("app", "app"), 2);  // users do not match: the next entry
  EXPECT_EQ(c.rules->clusterFor("billing", "app"), 2);
  EXPECT_EQ(c.config->clusterFor("events_eu", "app"), 0);  // the uncompiled form agrees
  EXPECT_EQ(c.config->clusterFor("app", "reporter1"), 1);
  EXPECT_EQ(c.config->nodes[2].cluster, 0u);
  EXPECT_EQ(c.config->nodes[4].cluster, 1u);
}

TEST(Clusters, NoClustersMeansOneServingEverything) {
  const auto c = compile("");
  ASSERT_EQ(c.config->clusters.size(), 1u);
  EXPECT_TRUE(c.config->clusters[0].implicit);
  EXPECT_EQ(c.rules->clusterFor("anything", "anyone"), 0);
}

TEST(Clusters, OnlyMatchingDatabasesAreServed) {
  const auto c = compile("", R"(
[[clusters]]
name = "only"
databases = ["app"]
[[nodes]]
name = "n"
cluster = "only"
host = "h"
[[users]]
name = "app"
password = "app"
)");
  EXPECT_EQ(c.rules->clusterFor("app", "app"), 0);
  EXPECT_EQ(c.rules->clusterFor("other", "app"), -1);
  EXPECT_EQ(c.config->clusterFor("other", "app"), -1);
}

TEST(Clusters, RuleNamesItsCluster) {
  const auto c = compile(R"(
[[rules]]
name = "to events"
tables = ["events.*"]
cluster = "events"
)",
                         kTwoClusters);
  EXPECT_EQ(decide(*c.rules, "INSERT INTO events.clicks VALUES (1)"), "to events");
  EXPECT_EQ((*c.rules)[0].cluster, 0);
}

// ---- the router with clusters and rules -----------------------------------------------------

NodeSnapshot twoClusters() {
  // main: n0 primary, n1 replica; events: n2 primary, n3 replica.
  NodeSnapshot s;
  s.nodes.push_back({"n0", Role::Primary, true, 1});
  s.nodes.push_back({"n1", Role::Replica, true, 1});
  s.nodes.push_back({"n2", Role::Primary, true, 1});
  s.nodes.push_back({"n3", Role::Replica, true, 1});
  s.nodes[2].cluster = 1;
  s.nodes[3].cluster = 1;
  return s;
}

sql::Classification readCls() {
  sql::Classification c;
  c.readOnly = true;
  c.statements = 1;
  c.reason = "read: SELECT";
  return c;
}

sql::Classification writeCls() {
  sql::Classification c;
  c.statements = 1;
  c.reason = "write: INSERT";
  return c;
}

TEST(RouterClusters, PicksOnlyNodesOfTheUnitsCluster) {
  Router router;
  ReplicaBalancer balancer;
  const NodeSnapshot snap = twoClusters();
  RouteRequest events;
  events.cluster = 1;
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(router.route(readCls(), {}, snap, balancer, events).node, 3);
    EXPECT_EQ(router.route(writeCls(), {}, snap, balancer, events).node, 2);
    EXPECT_EQ(router.route(readCls(), {}, snap, balancer).node, 1);
    EXPECT_EQ(router.route(writeCls(), {}, snap, balancer).node, 0);
  }
  EXPECT_EQ(Router::primaryOf(snap, 0), 0);
  EXPECT_EQ(Router::primaryOf(snap, 1), 2);
  EXPECT_EQ(Router::primaryOf(snap, 7), -1);
}

TEST(RouterClusters, SplitBrainAndNoPrimaryArePerCluster) {
  Router router;
  ReplicaBalancer balancer;
  NodeSnapshot snap = twoClusters();
  snap.nodes[3].role = Role::Primary;  // events: two primaries
  EXPECT_EQ(Router::primaryOf(snap, 1), -1);
  EXPECT_EQ(Router::primaryClaims(snap, 1), 2);
  EXPECT_EQ(Router::primaryOf(snap, 0), 0);  // main is fine
  RouteRequest events;
  events.cluster = 1;
  const Decision d = router.route(writeCls(), {}, snap, balancer, events);
  EXPECT_EQ(d.node, -1);
  EXPECT_NE(d.refusal.find("n2 and n3"), std::string::npos) << d.refusal;
  EXPECT_EQ(router.route(writeCls(), {}, snap, balancer).node, 0);

  snap = twoClusters();
  snap.nodes[0].up = false;  // main's primary down: main's writes refused, events' fine
  EXPECT_EQ(router.route(writeCls(), {}, snap, balancer).node, -1);
  EXPECT_EQ(router.route(writeCls(), {}, snap, balancer, events).node, 2);
  // A read with main's primary down and its replica up still goes to main's replica.
  EXPECT_EQ(router.route(readCls(), {}, snap, balancer).node, 1);
}

TEST(RouterClusters, ATransactionOrPinNeverSpansClusters) {
  Router router;
  ReplicaBalancer balancer;
  const NodeSnapshot snap = twoClusters();
  SessionView inMain;
  inMain.inTransaction = true;
  inMain.transactionNode = 0;
  RouteRequest ruleToEvents;
  ruleToEvents.cluster = 1;
  ruleToEvents.ruleCluster = true;
  Decision d = router.route(writeCls(), inMain, snap, balancer, ruleToEvents);
  EXPECT_EQ(d.node, -1);
  EXPECT_TRUE(d.crossCluster);
  // A rule naming the transaction's own cluster: fine.
  RouteRequest ruleToMain;
  ruleToMain.cluster = 0;
  ruleToMain.ruleCluster = true;
  EXPECT_EQ(router.route(writeCls(), inMain, snap, balancer, ruleToMain).node, 0);
  // A unit no rule sent anywhere follows the transaction, wherever it is (COMMIT must reach it).
  SessionView inEvents;
  inEvents.inTransaction = true;
  inEvents.transactionNode = 2;
  EXPECT_EQ(router.route(writeCls(), inEvents, snap, balancer).node, 2);
  // Pinned sessions likewise.
  SessionView pinned;
  pinned.pinned = true;
  pinned.pinnedNode = 0;
  d = router.route(readCls(), pinned, snap, balancer, ruleToEvents);
  EXPECT_TRUE(d.crossCluster);
  EXPECT_EQ(router.route(readCls(), pinned, snap, balancer).node, 0);
}

TEST(RouterRules, ForcedRoutes) {
  Router router;
  ReplicaBalancer balancer;
  const NodeSnapshot snap = twoClusters();
  RouteRequest primary;
  primary.force = Force::Primary;
  Decision d = router.route(readCls(), {}, snap, balancer, primary);
  EXPECT_EQ(d.node, 0);
  EXPECT_STREQ(d.reason, "rule: primary");
  RouteRequest replica;
  replica.force = Force::Replica;
  d = router.route(readCls(), {}, snap, balancer, replica);
  EXPECT_EQ(d.node, 1);
  EXPECT_STREQ(d.reason, "rule: replica");
  // A rule's route beats the statement's hint.
  sql::Classification hinted = readCls();
  hinted.hint = sql::Hint::Primary;
  EXPECT_EQ(router.route(hinted, {}, snap, balancer, replica).node, 1);
  // route = "replica" overrides read-your-writes, as the replica hint does.
  SessionView afterWrite;
  afterWrite.readsOnPrimary = true;
  EXPECT_EQ(router.route(readCls(), afterWrite, snap, balancer, replica).node, 1);
  EXPECT_EQ(router.route(readCls(), afterWrite, snap, balancer).node, 0);
}

TEST(RouterRules, WriteGuardIsAbsolute) {
  Router router;
  ReplicaBalancer balancer;
  const NodeSnapshot snap = twoClusters();
  RouteRequest replica;
  replica.force = Force::Replica;
  Decision d = router.route(writeCls(), {}, snap, balancer, replica);
  EXPECT_EQ(d.node, 0);
  EXPECT_EQ(d.target, Target::Primary);
  EXPECT_TRUE(d.writeGuarded);
  // A read kept on the primary for its relations is not a read a replica may take either.
  sql::Classification unlogged = writeCls();
  unlogged.primaryRead = true;
  d = router.route(unlogged, {}, snap, balancer, replica);
  EXPECT_EQ(d.node, 0);
  EXPECT_TRUE(d.writeGuarded);
  // Even with the primary down, a write is never sent to a replica.
  NodeSnapshot down = snap;
  down.nodes[0].up = false;
  d = router.route(writeCls(), {}, down, balancer, replica);
  EXPECT_EQ(d.node, -1);
  EXPECT_TRUE(d.writeGuarded);
  // BEGIN READ ONLY may go to a replica.
  sql::Classification ro;
  ro.txnStart = sql::TxnStart::ReadOnly;
  ro.statements = 1;
  EXPECT_EQ(router.route(ro, {}, snap, balancer, replica).node, 1);
}

TEST(RouterRules, LagLimitPerRule) {
  RouterOptions options;
  options.lag.maxMs = 1000;
  Router router(options);
  ReplicaBalancer balancer;
  NodeSnapshot snap = twoClusters();
  snap.nodes[1].lagMs = 5000;  // over the [consistency] limit
  EXPECT_EQ(router.route(readCls(), {}, snap, balancer).node, 0);
  RouteRequest patient;
  patient.maxLagMs = 10000;
  EXPECT_EQ(router.route(readCls(), {}, snap, balancer, patient).node, 1);
  RouteRequest strict;
  strict.maxLagMs = 100;
  snap.nodes[1].lagMs = 500;
  EXPECT_EQ(router.route(readCls(), {}, snap, balancer).node, 1);
  EXPECT_EQ(router.route(readCls(), {}, snap, balancer, strict).node, 0);
}

}  // namespace
}  // namespace pgsplit::routing
