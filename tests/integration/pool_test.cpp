// Pooling (issue #5) against the real primary and replicas: limits as PostgreSQL sees them
// (pg_stat_activity), arrival-order waiting, backend hygiene between clients, timeouts, min_idle.
#include <sys/socket.h>

#include <thread>

#include "health_util.hpp"
#include "ops_util.hpp"
#include "pgsplit/protocol/writer.hpp"
#include "pool_util.hpp"

namespace pgsplit::test {
namespace {

std::string joinedErrors(const ManyClientsReport& r) {
  std::string out = std::to_string(r.errorCount) + " errors:\n";
  for (const auto& e : r.errors)
    out += "  " + e + "\n";
  return out;
}

// A table on the primary, empty, for a test's rows (checked on the primary directly).
void freshTable(const Cluster& c, const std::string& name) {
  Conn primary(c.superuserConninfo(c.primaryPort, "app"));
  primary.exec("CREATE TABLE IF NOT EXISTS " + name + " (x int)");
  primary.exec("GRANT ALL ON " + name + " TO app");
  primary.exec("TRUNCATE " + name);
}

std::string primaryValue(const Cluster& c, const std::string& sql) {
  Conn primary(c.superuserConninfo(c.primaryPort, "app"));
  return primary.value(sql);
}

// The SQL-level state of a backend as PostgreSQL reports it (pid: pg_stat_activity).
std::string backendState(const Cluster& c, const std::string& pid) {
  Conn primary(c.superuserConninfo(c.primaryPort));
  auto rows = primary.rows("SELECT state FROM pg_stat_activity WHERE pid = " + pid);
  return rows.empty() ? "gone" : rows[0][0];
}

// Runs a Query on a raw connection and reads up to its ReadyForQuery; the last ErrorResponse's
// SQLSTATE, or "" if none.
std::string rawQuery(RawClient& raw, const std::string& sql) {
  std::string out;
  protocol::writeQuery(out, sql);
  raw.send(out);
  std::string state;
  for (;;) {
    auto [type, body] = raw.read();
    if (type == 0) return "EOF:" + body;
    if (type == 'E') state = sqlstateOf(body);
    if (type == 'Z') return state;
  }
}

const char* const kPoolBackends = "usename = 'app' AND datname = ";

TEST(Pool, FiveHundredClientsShareFiveServerConnectionsPerNode) {
  const Cluster& c = Cluster::get();
  ensureDatabase(c, "pool_many");
  PgsplitOptions o;
  o.maxServerConnections = 5;
  o.logLevel = "info";
  Pgsplit proxy(o);
  BackendSampler sampler(c, std::string(kPoolBackends) + "'pool_many'");

  ManyClientsOptions m;
  m.conninfo = proxy.conninfo("app", "app", "pool_many");
  m.clients = 500;
  m.burst = true;  // all 500 connected, then all 500 ask for a backend at once
  // pg_sleep is volatile (the primary); the catalog read goes to a replica.
  m.statements = {"SELECT pg_sleep(0.002)", "SELECT count(*) FROM pg_class"};
  const ManyClientsReport r = runManyClients(m);
  sampler.stop();

  EXPECT_EQ(r.connected, 500);
  EXPECT_EQ(r.succeeded, 500) << joinedErrors(r);
  EXPECT_GT(sampler.samples(), 0);
  EXPECT_GT(sampler.maxOn(0), 0) << "the sampler never saw the primary's pool";
  for (int node = 0; node < 3; ++node)
    EXPECT_LE(sampler.maxOn(node), 5) << "node " << node << " had more than 5 backends of app";
}

TEST(Pool, BurstOfTwoThousandClientsOverTwentyConnectionsCompletes) {
  const Cluster& c = Cluster::get();
  ensureDatabase(c, "pool_burst");
  // 2,000 client sockets here and 2,000 in pgsplit (which inherits this process's limit).
  const long files = raiseFileLimit();
  int clients = 2000;
  if (files < clients + 500) {
    clients = static_cast<int>(files) - 500;
    std::cerr << "open file limit " << files << ": the burst uses " << clients
              << " clients instead of 2000\n";
  }
  ASSERT_GE(clients, 500) << "open file limit too low for this test: " << files;
  PgsplitOptions o;
  o.maxServerConnections = 20;
  o.authMethod = "trust";  // the test is about pooling: spare the 2,000 SCRAM computations
  o.logLevel = "warn";
  Pgsplit proxy(o);
  BackendSampler sampler(c, std::string(kPoolBackends) + "'pool_burst'");

  ManyClientsOptions m;
  m.conninfo = proxy.conninfo("app", "app", "pool_burst");
  m.clients = clients;
  m.threads = 4;
  m.burst = true;
  m.statements = {"SELECT pg_sleep(0)", "SELECT 1"};
  const ManyClientsReport r = runManyClients(m);
  sampler.stop();

  EXPECT_EQ(r.connected, clients);
  EXPECT_EQ(r.succeeded, clients) << joinedErrors(r);
  for (int node = 0; node < 3; ++node)
    EXPECT_LE(sampler.maxOn(node), 20) << "node " << node;
  // Nobody starved: every client got its turn within checkout_timeout_ms (no 53300 above).
}

TEST(Pool, TheLimitIsSharedByEveryWorker) {
  const Cluster& c = Cluster::get();
  ensureDatabase(c, "pool_shared");
  BackendSampler sampler(c, std::string(kPoolBackends) + "'pool_shared'");
  PgsplitOptions o;
  o.workers = 4;
  o.poolMode = "session";
  o.maxServerConnections = 4;
  o.poolExtra = "checkout_timeout_ms = 1000";
  {
    Pgsplit proxy(o);
    const std::string ci = proxy.conninfo("app", "app", "pool_shared");
    // Four session clients each hold a primary backend, whichever workers they landed on (with
    // the limit split per worker, two on one worker used to get 53300).
    std::vector<std::unique_ptr<Conn>> holders;
    for (int i = 0; i < 4; ++i) {
      holders.push_back(std::make_unique<Conn>(ci));
      ASSERT_TRUE(holders.back()->ok()) << holders.back()->error();
      Outcome got = attempt(*holders.back(), "/* pgsplit:primary */ SELECT 1");
      EXPECT_TRUE(got.ok) << "holder " << i << ": " << got.message;
    }
    // A fifth waits its checkout_timeout_ms and is refused with 53300, the statement unsent.
    Conn fifth(ci);
    ASSERT_TRUE(fifth.ok()) << fifth.error();
    Outcome refused = attempt(fifth, "/* pgsplit:primary */ SELECT 1");
    EXPECT_EQ(refused.sqlstate, "53300") << refused.message;
    // One holder leaves: its backend is reset and pooled, and the fifth gets a slot (from
    // whichever worker holds it).
    holders.pop_back();
    EXPECT_TRUE(eventually([&] { return attempt(fifth, "/* pgsplit:primary */ SELECT 1").ok; }));
  }
  EXPECT_TRUE(eventually([&] {
    return countBackends(c, c.primaryPort, std::string(kPoolBackends) + "'pool_shared'") == 0;
  }));

  // Limit 1 shared by 4 workers: clients one after another, wherever they land, all succeed (an
  // idle connection on one worker is given up for a client of another).
  o.poolMode = "transaction";
  o.maxServerConnections = 1;
  {
    Pgsplit single(o);
    for (int i = 0; i < 20; ++i) {
      Conn client(single.conninfo("app", "app", "pool_shared"));
      Outcome got = attempt(client, "/* pgsplit:primary */ SELECT 1");
      EXPECT_TRUE(got.ok) << "client " << i << ": " << got.message;
    }
  }
  sampler.stop();
  EXPECT_LE(sampler.maxOn(0), 4);
  EXPECT_GT(sampler.maxOn(0), 0);
}

// More clients than connections, on two workers: a connection released on one worker while a
// client of the other waits longest moves there (its socket changes event loop) instead of being
// closed and opened again — pgbench -S at 16 clients over 4 connections per node used to log in
// 1,400 times in 5 seconds and run at a seventh of its speed.
TEST(Pool, ConnectionsMoveBetweenWorkersWithoutNewLogins) {
  const Cluster& c = Cluster::get();
  ensureDatabase(c, "pool_move");
  PgsplitOptions o;
  o.workers = 2;
  o.maxServerConnections = 2;
  o.logLevel = "info";
  Pgsplit proxy(o);
  ManyClientsOptions m;
  m.conninfo = proxy.conninfo("app", "app", "pool_move");
  m.clients = 16;
  m.threads = 2;
  m.burst = true;
  for (int i = 0; i < 40; ++i)
    m.statements.push_back("/* pgsplit:primary */ SELECT " + std::to_string(i));
  const ManyClientsReport r = runManyClients(m);
  EXPECT_EQ(r.succeeded, 16) << joinedErrors(r);
  const auto metrics = parseMetrics(httpGet(proxy.httpPort(), "/metrics").body);
  EXPECT_LE(metricSum(metrics, "pgsplit_server_connects_total", {"node=\"pg0\""}), 2.0)
      << "connections were closed and opened again instead of moving between workers";
  EXPECT_LE(countBackends(c, c.primaryPort, std::string(kPoolBackends) + "'pool_move'"), 2);
}

TEST(Pool, MaxClientConnectionsExceededIs53300) {
  PgsplitOptions o;
  o.serverExtra = "max_client_connections = 3";
  Pgsplit proxy(o);
  std::vector<std::unique_ptr<Conn>> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(std::make_unique<Conn>(proxy.conninfo()));
    ASSERT_TRUE(clients.back()->ok()) << clients.back()->error();
  }
  RawClient raw(proxy.port());
  EXPECT_EQ(raw.login("app", "app", "app"), "53300");
  Conn refused(proxy.conninfo());
  EXPECT_FALSE(refused.ok());
  EXPECT_NE(refused.error().find("too many clients"), std::string::npos) << refused.error();
  // One leaves: a new client gets in.
  clients.pop_back();
  EXPECT_TRUE(eventually([&] { return Conn(proxy.conninfo()).ok(); }));
}

TEST(Pool, CheckoutTimeoutIsAClearErrorAndTheStatementIsNotSent) {
  const Cluster& c = Cluster::get();
  freshTable(c, "pool_checkout");
  PgsplitOptions o;
  o.maxServerConnections = 1;
  o.poolExtra = "checkout_timeout_ms = 300";
  Pgsplit proxy(o);
  Conn holder(proxy.conninfo());
  holder.exec("BEGIN");
  holder.exec("INSERT INTO pool_checkout VALUES (1)");  // holds the only primary connection

  Conn waiter(proxy.conninfo());
  ASSERT_TRUE(waiter.ok()) << waiter.error();
  Outcome refused = attempt(waiter, "INSERT INTO pool_checkout VALUES (2)");
  EXPECT_EQ(refused.sqlstate, "53300");
  EXPECT_NE(refused.message.find("checkout_timeout_ms (300 ms)"), std::string::npos)
      << refused.message;
  EXPECT_NE(refused.message.find("was not sent"), std::string::npos) << refused.message;
  EXPECT_NE(refused.message.find("max_server_connections"), std::string::npos) << refused.message;

  holder.exec("COMMIT");
  EXPECT_EQ(primaryValue(c, "SELECT string_agg(x::text, ',' ORDER BY x) FROM pool_checkout"), "1");
  // The waiter's session goes on: its next statement runs.
  Outcome later = attempt(waiter, "INSERT INTO pool_checkout VALUES (3)");
  EXPECT_TRUE(later.ok) << later.message;
  EXPECT_EQ(primaryValue(c, "SELECT string_agg(x::text, ',' ORDER BY x) FROM pool_checkout"),
            "1,3");
}

TEST(Pool, ClientKilledMidTransactionIsRolledBackAndItsBackendReusedCleanly) {
  const Cluster& c = Cluster::get();
  freshTable(c, "pool_kill");
  PgsplitOptions o;
  o.workers = 1;  // the next client lands on the same worker, hence the same pool
  o.maxServerConnections = 1;
  Pgsplit proxy(o);

  std::string pid;
  {
    Conn a(proxy.conninfo());
    a.exec("BEGIN");
    a.exec("INSERT INTO pool_kill VALUES (1)");
    pid = a.value("SELECT pg_backend_pid()");
    ::shutdown(PQsocket(a.get()), SHUT_RDWR);  // the client vanishes without a Terminate
  }
  // The backend is rolled back and kept: idle again, not closed.
  EXPECT_TRUE(eventually([&] { return backendState(c, pid) == "idle"; }))
      << "backend " << pid << " is " << backendState(c, pid);
  Conn b(proxy.conninfo());
  EXPECT_EQ(b.value("/* pgsplit:primary */ SELECT pg_backend_pid()"), pid);
  // Not in a transaction: this statement started the backend's transaction.
  EXPECT_EQ(b.value("/* pgsplit:primary */ SELECT xact_start = query_start FROM "
                    "pg_stat_activity WHERE pid = pg_backend_pid()"),
            "t");
  EXPECT_EQ(primaryValue(c, "SELECT count(*) FROM pool_kill"), "0");
  EXPECT_EQ(metricSum(parseMetrics(httpGet(proxy.httpPort(), "/metrics").body),
                      "pgsplit_server_connection_resets_total"),
            1.0);

  // Vanishing in the middle of a COPY: nothing can be trusted on that backend; it is closed.
  std::string copyPid = b.value("/* pgsplit:primary */ SELECT pg_backend_pid()");
  {
    Conn d(proxy.conninfo());
    // b is idle: d gets the same (only) backend.
    EXPECT_EQ(d.value("/* pgsplit:primary */ SELECT pg_backend_pid()"), copyPid);
    PGresult* r = PQexec(d.get(), "COPY pool_kill FROM STDIN");
    EXPECT_EQ(PQresultStatus(r), PGRES_COPY_IN) << PQerrorMessage(d.get());
    PQclear(r);
    EXPECT_EQ(PQputCopyData(d.get(), "7\n8\n", 4), 1);
    EXPECT_EQ(PQflush(d.get()), 0);
    ::shutdown(PQsocket(d.get()), SHUT_RDWR);
  }
  EXPECT_TRUE(eventually([&] { return backendState(c, copyPid) == "gone"; }))
      << "backend " << copyPid << " is " << backendState(c, copyPid);
  std::string fresh = b.value("/* pgsplit:primary */ SELECT pg_backend_pid()");
  EXPECT_NE(fresh, copyPid);
  EXPECT_EQ(primaryValue(c, "SELECT count(*) FROM pool_kill"), "0");
}

TEST(Pool, SessionModeResetsStateBetweenClients) {
  PgsplitOptions o;
  o.workers = 1;
  o.poolMode = "session";
  o.maxServerConnections = 1;
  Pgsplit proxy(o);

  std::string pid;
  {
    Conn a(proxy.conninfo());
    pid = a.value("/* pgsplit:primary */ SELECT pg_backend_pid()");
    a.exec("SET statement_timeout = '17s'");
    a.exec("CREATE TEMP TABLE pool_tmp (x int)");
    a.exec("PREPARE pool_sql_stmt AS SELECT 1");
    PGresult* r = PQprepare(a.get(), "pool_named", "SELECT 2", 0, nullptr);
    EXPECT_EQ(PQresultStatus(r), PGRES_COMMAND_OK) << PQerrorMessage(a.get());
    PQclear(r);
    a.exec("LISTEN pool_channel");
    a.exec("/* pgsplit:primary */ SELECT pg_advisory_lock(4242)");
    EXPECT_EQ(a.value("/* pgsplit:primary */ SELECT pg_backend_pid()"), pid);
  }  // a normal disconnect: DISCARD ALL, and the backend goes back to the pool

  Conn b(proxy.conninfo());
  EXPECT_EQ(b.value("/* pgsplit:primary */ SELECT pg_backend_pid()"), pid)
      << "session mode closed the backend instead of resetting and pooling it";
  EXPECT_EQ(b.value("/* pgsplit:primary */ SHOW statement_timeout"), "0");
  EXPECT_EQ(b.value("/* pgsplit:primary */ SELECT count(*) FROM pg_class WHERE relname = "
                    "'pool_tmp'"),
            "0");
  EXPECT_EQ(b.value("/* pgsplit:primary */ SELECT count(*) FROM pg_prepared_statements"), "0");
  EXPECT_EQ(b.value("/* pgsplit:primary */ SELECT count(*) FROM pg_listening_channels()"), "0");
  EXPECT_EQ(b.value("/* pgsplit:primary */ SELECT count(*) FROM pg_locks WHERE locktype = "
                    "'advisory' AND pid = pg_backend_pid()"),
            "0");
  // Names the previous client used are free again.
  PGresult* r = PQprepare(b.get(), "pool_named", "SELECT 3", 0, nullptr);
  EXPECT_EQ(PQresultStatus(r), PGRES_COMMAND_OK) << PQerrorMessage(b.get());
  PQclear(r);
  b.exec("PREPARE pool_sql_stmt AS SELECT 4");
}

TEST(Pool, SessionModeHoldsAtMostOneBackendPerNodeItUsed) {
  const Cluster& c = Cluster::get();
  PgsplitOptions o;
  o.poolMode = "session";
  Pgsplit proxy(o);
  Conn a(proxy.conninfo() + " application_name=pool_one_per_node");
  std::set<std::string> portsRead;
  for (int i = 0; i < 12; ++i) {
    portsRead.insert(a.value("SELECT inet_server_port()"));
    a.exec("/* pgsplit:primary */ SELECT 1");
  }
  EXPECT_EQ(portsRead.size(), 2u) << "reads went to both replicas";
  const std::string mine = "application_name = 'pool_one_per_node'";
  EXPECT_EQ(countBackends(c, c.primaryPort, mine), 1);
  EXPECT_EQ(countBackends(c, c.replica1Port, mine), 1);
  EXPECT_EQ(countBackends(c, c.replica2Port, mine), 1);
}

TEST(Pool, PerUserPoolModeAndLimitOverrideThePool) {
  PgsplitOptions o;
  o.maxServerConnections = 1;
  o.poolExtra = "checkout_timeout_ms = 300";
  // (extra lands in the last [[users]] table the harness writes: md5user.)
  o.extra = "pool_mode = \"session\"\nmax_server_connections = 2\n";
  Pgsplit proxy(o);
  // md5user: session mode, two connections. Two clients each keep one; a third is refused.
  Conn m1(proxy.conninfo("md5user", "md5pw")), m2(proxy.conninfo("md5user", "md5pw"));
  EXPECT_TRUE(attempt(m1, "/* pgsplit:primary */ SELECT 1").ok);
  EXPECT_TRUE(attempt(m2, "/* pgsplit:primary */ SELECT 1").ok);
  Conn m3(proxy.conninfo("md5user", "md5pw"));
  ASSERT_TRUE(m3.ok()) << m3.error();
  EXPECT_EQ(attempt(m3, "/* pgsplit:primary */ SELECT 1").sqlstate, "53300");
  // app: transaction mode and one connection, shared by clients between their units.
  Conn a1(proxy.conninfo()), a2(proxy.conninfo());
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(attempt(a1, "/* pgsplit:primary */ SELECT 1").ok);
    EXPECT_TRUE(attempt(a2, "/* pgsplit:primary */ SELECT 1").ok);
  }
}

TEST(Pool, IdleTimeoutClosesIdleBackends) {
  const Cluster& c = Cluster::get();
  ensureDatabase(c, "pool_idle");
  PgsplitOptions o;
  o.poolExtra = "idle_timeout_ms = 300";
  Pgsplit proxy(o);
  const std::string mine = std::string(kPoolBackends) + "'pool_idle'";
  std::vector<std::unique_ptr<Conn>> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(std::make_unique<Conn>(proxy.conninfo("app", "app", "pool_idle")));
    clients.back()->exec("BEGIN");
    clients.back()->exec("SELECT pg_backend_pid()");  // a transaction holds a primary backend
  }
  EXPECT_GE(countBackends(c, c.primaryPort, mine), 3);
  for (auto& client : clients)
    client->exec("COMMIT");
  // Idle now; the clients stay connected, their backends are closed once idle_timeout_ms passes.
  EXPECT_TRUE(eventually([&] { return countBackends(c, c.primaryPort, mine) == 0; }))
      << countBackends(c, c.primaryPort, mine) << " backends still open";
  // /metrics counts them by reason.
  const auto m = parseMetrics(httpGet(proxy.httpPort(), "/metrics").body);
  EXPECT_GE(metricSum(m, "pgsplit_server_connection_closes_total", {"reason=\"idle_timeout\""}),
            3.0);
  EXPECT_EQ(metricSum(m, "pgsplit_server_connection_closes_total", {"reason=\"lifetime\""}), 0.0);
  // The clients go on: a new backend is opened for them.
  EXPECT_TRUE(attempt(*clients.front(), "/* pgsplit:primary */ SELECT 1").ok);
}

// The server ends pooled connections while they sit idle (pg_terminate_backend, as
// idle_session_timeout or an operator would): the next statements — a write included — get fresh
// connections instead of failing on a dead one.
TEST(Pool, IdleBackendsTheServerClosedAreReplacedNotHandedOut) {
  const Cluster& c = Cluster::get();
  ensureDatabase(c, "pool_killed_idle");
  auto onPrimary = [&](const std::string& sql) {
    Conn primary(c.superuserConninfo(c.primaryPort, "pool_killed_idle"));
    return primary.value(sql);
  };
  onPrimary("CREATE TABLE IF NOT EXISTS t (x int); GRANT ALL ON t TO app; TRUNCATE t; SELECT 1");
  Pgsplit proxy;
  Conn client(proxy.conninfo("app", "app", "pool_killed_idle"));
  ASSERT_TRUE(client.ok()) << client.error();
  for (int i = 0; i < 3; ++i)  // primary backends go back to the pool between statements
    ASSERT_TRUE(attempt(client, "/* pgsplit:primary */ SELECT 1").ok);
  const std::string mine = std::string(kPoolBackends) + "'pool_killed_idle'";
  ASSERT_GE(countBackends(c, c.primaryPort, mine), 1);
  {
    Conn admin(c.superuserConninfo(c.primaryPort));
    admin.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE " + mine);
  }
  ASSERT_TRUE(eventually([&] { return countBackends(c, c.primaryPort, mine) == 0; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // idle long enough to be checked
  const auto ins = attempt(client, "INSERT INTO t VALUES (1)");
  EXPECT_TRUE(ins.ok) << ins.message;
  EXPECT_EQ(onPrimary("SELECT count(*) FROM t"), "1");
  EXPECT_EQ(proxy.log().find("lost server connection"), std::string::npos) << proxy.log();
}

TEST(Pool, MinIdleOpensConnectionsInTheBackgroundWithinTheLimit) {
  const Cluster& c = Cluster::get();
  ensureDatabase(c, "pool_warm");
  PgsplitOptions o;
  o.maxServerConnections = 5;
  // Short idle timeout: min_idle keeps the connections nonetheless.
  o.poolExtra = "min_idle = 2\nidle_timeout_ms = 100";
  o.extra = "max_server_connections = 1\n";  // md5user: a limit below min_idle
  Pgsplit proxy(o);
  BackendSampler md5Sampler(c, "usename = 'md5user' AND datname = 'pool_warm'");
  { Conn login(proxy.conninfo("app", "app", "pool_warm")); }  // a login makes the pools
  { Conn login(proxy.conninfo("md5user", "md5pw", "pool_warm")); }
  const std::string mine = std::string(kPoolBackends) + "'pool_warm'";
  for (int port : {c.primaryPort, c.replica1Port, c.replica2Port}) {
    EXPECT_TRUE(eventually([&] { return countBackends(c, port, mine) == 2; }))
        << "port " << port << ": " << countBackends(c, port, mine) << " idle backends";
  }
  const std::string md5 = "usename = 'md5user' AND datname = 'pool_warm'";
  EXPECT_TRUE(eventually([&] { return countBackends(c, c.primaryPort, md5) == 1; }));
  // Several idle timeouts later they are still there (and no more of them).
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  for (int port : {c.primaryPort, c.replica1Port, c.replica2Port})
    EXPECT_EQ(countBackends(c, port, mine), 2) << "port " << port;
  md5Sampler.stop();
  for (int node = 0; node < 3; ++node)
    EXPECT_LE(md5Sampler.maxOn(node), 1) << "node " << node << ": min_idle broke the user's limit";
  EXPECT_EQ(md5Sampler.maxOn(0), 1) << "min_idle within the limit: one for md5user";
}

TEST(Pool, ServerLifetimeReplacesOldBackends) {
  PgsplitOptions o;
  o.poolExtra = "server_lifetime_ms = 300";
  o.workers = 1;
  Pgsplit proxy(o);
  Conn a(proxy.conninfo());
  const std::string first = a.value("/* pgsplit:primary */ SELECT pg_backend_pid()");
  EXPECT_TRUE(eventually([&] {
    return a.value("/* pgsplit:primary */ SELECT pg_backend_pid()") != first;
  })) << "backend "
      << first << " outlived server_lifetime_ms";
}

TEST(Pool, IdleInTransactionClientIsClosedWith25P03AndRolledBack) {
  const Cluster& c = Cluster::get();
  freshTable(c, "pool_idle_txn");
  Conn grant(c.superuserConninfo(c.primaryPort, "app"));
  grant.exec("GRANT ALL ON pool_idle_txn TO md5user");
  PgsplitOptions o;
  o.workers = 1;
  o.extra = "idle_in_transaction_timeout_ms = 300\n";  // md5user's own limit ([pool]: none)
  Pgsplit proxy(o);

  RawClient raw(proxy.port());
  ASSERT_EQ(raw.login("md5user", "md5pw", "app"), "");
  EXPECT_EQ(rawQuery(raw, "BEGIN"), "");
  EXPECT_EQ(rawQuery(raw, "INSERT INTO pool_idle_txn VALUES (1)"), "");
  // Now idle in the transaction: pgsplit ends the session as PostgreSQL would.
  auto [type, body] = raw.read(std::chrono::seconds(10));
  ASSERT_EQ(type, 'E') << body;
  EXPECT_EQ(sqlstateOf(body), "25P03");
  EXPECT_NE(body.find("FATAL"), std::string::npos);
  EXPECT_NE(body.find("idle-in-transaction timeout"), std::string::npos);
  EXPECT_TRUE(raw.closedByPeer());
  // Rolled back: the row never existed.
  EXPECT_EQ(primaryValue(c, "SELECT count(*) FROM pool_idle_txn"), "0");

  // The app user has no such limit: it stays in its transaction.
  Conn app(proxy.conninfo());
  app.exec("BEGIN");
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  EXPECT_TRUE(attempt(app, "SELECT 1").ok);
  app.exec("COMMIT");
}

TEST(Pgbench, ConnectPerTransactionInBothPoolModes) {
  const Cluster& c = Cluster::get();
  char script[] = "/tmp/pgsplit-pool-pgbench-XXXXXX";
  int fd = ::mkstemp(script);
  const std::string body = "\\set x random(1, 1000)\nSELECT :x;\n";
  ASSERT_EQ(::write(fd, body.data(), body.size()), static_cast<ssize_t>(body.size()));
  ::close(fd);
  for (const char* mode : {"transaction", "session"}) {
    PgsplitOptions o;
    o.poolMode = mode;
    o.maxServerConnections = 4;
    o.logLevel = "info";
    Pgsplit proxy(o);
    auto [code, out] = runCommand("env PGPASSWORD=app " + c.binDir + "/pgbench -C -n -f " + script +
                                  " -c 4 -j 2 -t 50 -h 127.0.0.1 -p " +
                                  std::to_string(proxy.port()) + " -U app app");
    EXPECT_EQ(code, 0) << mode << "\n" << out;
    EXPECT_NE(out.find("processed: 200/200"), std::string::npos) << mode << "\n" << out;
    // Backends outlive the clients: 200 client connections, few server logins.
    const auto metrics = parseMetrics(httpGet(proxy.httpPort(), "/metrics").body);
    const double logins = metricSum(metrics, "pgsplit_server_connects_total");
    EXPECT_GT(logins, 0) << mode;
    // (Without reuse: at least 200 replica logins plus the primary's.)
    EXPECT_LT(logins, 100) << mode << ": server connections were not reused";
  }
  std::remove(script);
}

// pgbench -M prepared with more clients than connections on two workers: connections move
// between the workers holding the statements they prepared, and the new worker's names must not
// collide with them (they once did: "prepared statement pgsplit_1 already exists").
TEST(Pgbench, PreparedStatementsSurviveConnectionsMovingBetweenWorkers) {
  const Cluster& c = Cluster::get();
  char script[] = "/tmp/pgsplit-pool-pgbench-XXXXXX";
  int fd = ::mkstemp(script);
  const std::string body = "\\set x random(1, 1000)\nSELECT :x;\nSELECT :x + 1;\n";
  ASSERT_EQ(::write(fd, body.data(), body.size()), static_cast<ssize_t>(body.size()));
  ::close(fd);
  PgsplitOptions o;
  o.workers = 2;
  o.maxServerConnections = 2;
  o.logLevel = "info";
  Pgsplit proxy(o);
  auto [code, out] = runCommand("env PGPASSWORD=app " + c.binDir + "/pgbench -M prepared -n -f " +
                                script + " -c 16 -j 2 -t 100 -h 127.0.0.1 -p " +
                                std::to_string(proxy.port()) + " -U app app");
  std::remove(script);
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("processed: 1600/1600"), std::string::npos) << out;
  const auto metrics = parseMetrics(httpGet(proxy.httpPort(), "/metrics").body);
  EXPECT_GT(metricSum(metrics, "pgsplit_server_connection_handovers_total"), 0)
      << "16 clients over 2 workers and 2 connections per node: connections should have moved";
  for (const char* node : {"pg1", "pg2"})
    EXPECT_LE(
        metricSum(metrics, "pgsplit_server_connects_total", {std::string("node=\"") + node + "\""}),
        2.0)
        << node;
}

}  // namespace
}  // namespace pgsplit::test
