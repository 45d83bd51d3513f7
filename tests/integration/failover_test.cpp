// Nodes that stop, come back, get promoted: each test runs against a disposable cluster of its
// own (DisposableCluster), so the shared fixture cluster is never stopped or promoted.
#include <chrono>
#include <thread>

#include "disposable_cluster.hpp"
#include "health_util.hpp"

namespace pgsplit::test {
namespace {

using namespace std::chrono_literals;

const char* const kFastHealth = "[health]\ninterval_ms = 100\ntimeout_ms = 1000\n";

// How pgsplit logs a node's state change.
std::string nodeIs(const std::string& name, int port, const std::string& state) {
  return "node " + name + " (127.0.0.1:" + std::to_string(port) + ") is " + state;
}

TEST(Failover, StoppedReplicaGetsNoReadsAndRejoinsWhenRestarted) {
  DisposableCluster dc;
  ASSERT_TRUE(dc.ok());
  const Cluster& c = dc.cluster();
  const std::string r1 = std::to_string(c.replica1Port);
  const std::string r2 = std::to_string(c.replica2Port);
  PgsplitOptions o;
  o.cluster = &c;
  o.extra = kFastHealth;
  Pgsplit proxy(o);
  Conn app(proxy.conninfo());
  ASSERT_TRUE(app.ok()) << app.error();
  EXPECT_EQ(readPorts(app, 10), (std::set<std::string>{r1, r2}));

  ASSERT_TRUE(dc.stopNode("replica1"));
  ASSERT_TRUE(eventually([&] { return logHas(proxy, nodeIs("pg1", c.replica1Port, "down")); }))
      << "the stopped replica was never marked down";
  // From then on no read fails, and all go to the other replica.
  for (int i = 0; i < 30; ++i) {
    Outcome r = attempt(app, "SELECT inet_server_port()");
    ASSERT_TRUE(r.ok) << "read " << i << " failed: " << r.message;
    EXPECT_EQ(r.value, r2);
  }

  ASSERT_TRUE(dc.startNode("replica1"));
  EXPECT_TRUE(eventually([&] { return readPorts(app, 10).count(r1) == 1; }, 30s))
      << "the restarted replica was never re-admitted";
  EXPECT_TRUE(logHas(proxy, nodeIs("pg1", c.replica1Port, "up as replica")));
}

TEST(Failover, PrimaryDownReadsWorkWritesFailFastAndResumeWhenItReturns) {
  DisposableCluster dc;
  ASSERT_TRUE(dc.ok());
  const Cluster& c = dc.cluster();
  PgsplitOptions o;
  o.cluster = &c;
  o.extra = kFastHealth;
  Pgsplit proxy(o);
  Conn app(proxy.conninfo());
  ASSERT_TRUE(app.ok()) << app.error();
  app.exec("CREATE TABLE failover_w (id int)");
  app.exec("INSERT INTO failover_w VALUES (1)");
  c.waitForReplicas();

  ASSERT_TRUE(dc.stopNode("primary"));
  ASSERT_TRUE(eventually([&] { return logHas(proxy, nodeIs("pg0", c.primaryPort, "down")); }))
      << "the stopped primary was never marked down";

  // Reads keep working, on the replicas, in the same client connection.
  for (int i = 0; i < 10; ++i) {
    Outcome r = attempt(app, "SELECT count(*) FROM failover_w");
    ASSERT_TRUE(r.ok) << "read " << i << " failed: " << r.message;
    EXPECT_EQ(r.value, "1");
  }
  // Writes get a prompt, clear error naming the node; the session survives it.
  const auto t0 = std::chrono::steady_clock::now();
  Outcome w = attempt(app, "INSERT INTO failover_w VALUES (2)");
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_FALSE(w.ok);
  EXPECT_EQ(w.sqlstate, "08006") << w.message;
  EXPECT_NE(w.message.find("primary node pg0 is down"), std::string::npos) << w.message;
  // Not a speed test: a refusal takes milliseconds; this only catches a write that waits (for
  // the pool's 5 s connect timeout, or forever).
  EXPECT_LT(took, 3s) << "the write waited instead of being refused at once";
  // The extended protocol too (Parse/Bind/Execute/Sync answered with the error and ReadyForQuery).
  const char* params[] = {"3"};
  PGresult* r = PQexecParams(app.get(), "INSERT INTO failover_w VALUES ($1::int)", 1, nullptr,
                             params, nullptr, nullptr, 0);
  EXPECT_EQ(PQresultStatus(r), PGRES_FATAL_ERROR);
  const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
  EXPECT_STREQ(state ? state : "", "08006");
  PQclear(r);
  EXPECT_TRUE(attempt(app, "SELECT 1").ok) << "the session did not survive the refusal";

  // The primary returns: writes resume in the same client connection, without restarting.
  ASSERT_TRUE(dc.startNode("primary"));
  Outcome back;
  EXPECT_TRUE(eventually(
      [&] {
        back = attempt(app, "INSERT INTO failover_w VALUES (4) RETURNING inet_server_port()");
        return back.ok;
      },
      30s))
      << "writes did not resume: " << back.message;
  EXPECT_EQ(back.value, std::to_string(c.primaryPort));
  Conn direct(c.superuserConninfo(c.primaryPort, "app"));
  EXPECT_EQ(direct.value("SELECT array_agg(id ORDER BY id)::text FROM failover_w"), "{1,4}")
      << "a refused write must not have happened";
}

TEST(Failover, PromotedReplicaTakesWritesAndTwoPrimariesRefuseThem) {
  DisposableCluster dc;
  ASSERT_TRUE(dc.ok());
  const Cluster& c = dc.cluster();
  PgsplitOptions o;
  o.cluster = &c;
  o.extra = kFastHealth;
  Pgsplit proxy(o);
  Conn app(proxy.conninfo());
  ASSERT_TRUE(app.ok()) << app.error();
  app.exec("CREATE TABLE promoted (id int, port int)");
  c.waitForReplicas();

  // The primary dies; an HA manager promotes replica 1.
  ASSERT_TRUE(dc.stopNode("primary"));
  Conn r1(c.superuserConninfo(c.replica1Port));
  ASSERT_EQ(r1.value("SELECT pg_promote()"), "t");
  Outcome w;
  EXPECT_TRUE(eventually(
      [&] {
        w = attempt(app, "INSERT INTO promoted VALUES (1, inet_server_port()) RETURNING port");
        return w.ok;
      },
      10s))
      << "writes never reached the promoted replica: " << w.message;
  EXPECT_EQ(w.value, std::to_string(c.replica1Port));
  EXPECT_TRUE(logHas(proxy, nodeIs("pg1", c.replica1Port, "up as primary")));
  // (This session's reads now follow its write to the new primary: replica 2 still follows the
  // old one and cannot replay it. A session that has not written reads from the replica.)
  Conn reader(proxy.conninfo());
  EXPECT_EQ(attempt(reader, "SELECT pg_is_in_recovery()").value, "t") << "reads left the replicas";

  // The old primary comes back without being demoted: two nodes claim to be primary.
  ASSERT_TRUE(dc.startNode("primary"));
  EXPECT_TRUE(eventually(
      [&] {
        w = attempt(app, "INSERT INTO promoted VALUES (2, inet_server_port())");
        return !w.ok && w.message.find("split brain") != std::string::npos;
      },
      10s))
      << "writes were not refused with two primaries: " << (w.ok ? "it succeeded" : w.message);
  EXPECT_EQ(w.sqlstate, "08006");
  EXPECT_NE(w.message.find("pg0 and pg1"), std::string::npos) << w.message;
  EXPECT_TRUE(logHas(proxy, "SPLIT BRAIN"));
  // Reads are still served by the replica.
  for (int i = 0; i < 5; ++i) {
    Outcome r = attempt(reader, "SELECT inet_server_port()");
    ASSERT_TRUE(r.ok) << r.message;
    EXPECT_EQ(r.value, std::to_string(c.replica2Port));
  }
  // The HA manager fences the old primary: writes go to the new one again.
  ASSERT_TRUE(dc.stopNode("primary"));
  EXPECT_TRUE(eventually(
      [&] {
        w = attempt(app, "INSERT INTO promoted VALUES (3, inet_server_port()) RETURNING port");
        return w.ok;
      },
      10s))
      << w.message;
  EXPECT_EQ(w.value, std::to_string(c.replica1Port));
}

}  // namespace
}  // namespace pgsplit::test
