// Health checks, replica lag limits and read-your-writes modes against the real primary + 2
// streaming replicas (the shared fixture cluster: these tests pause replay, never stop a node).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <set>
#include <thread>

#include "health_util.hpp"
#include "pgsplit/config/config.hpp"
#include "pgsplit/health/monitor.hpp"

namespace pgsplit::test {
namespace {

using namespace std::chrono_literals;

// ---- lag limits -------------------------------------------------------------------------------

TEST(LagLimits, ReplicaOverTheByteLimitGetsNoReadsUntilItCatchesUp) {
  const Cluster& c = Cluster::get();
  const std::string r1 = std::to_string(c.replica1Port);
  const std::string r2 = std::to_string(c.replica2Port);
  PgsplitOptions o;
  o.extra = "[health]\ninterval_ms = 100\n[consistency]\nmax_replica_lag_bytes = 65536\n";
  Pgsplit proxy(o);
  Conn primary(c.superuserConninfo(c.primaryPort, "app"));
  primary.exec("CREATE TABLE IF NOT EXISTS lag_bytes (id int, pad text)");
  c.waitForReplicas();
  Conn app(proxy.conninfo());  // reads only: read-your-writes plays no part
  ASSERT_TRUE(app.ok()) << app.error();
  EXPECT_TRUE(eventually([&] {
    return readPorts(app, 10) == std::set<std::string>{r1, r2};
  })) << "both caught-up replicas should serve reads";
  {
    ReplayPause pause(c, c.replica1Port);
    // About 1 MB of WAL that replica 1 cannot replay.
    primary.exec(
        "INSERT INTO lag_bytes SELECT g, repeat('x', 1000) FROM generate_series(1, 1000) g");
    EXPECT_TRUE(eventually([&] { return readPorts(app, 10) == std::set<std::string>{r2}; }))
        << "the lagging replica still got reads";
    EXPECT_EQ(readPorts(app, 20), std::set<std::string>{r2});
    Conn direct(c.superuserConninfo(c.replica1Port, "app"));
    EXPECT_EQ(direct.value("SELECT count(*) FROM lag_bytes WHERE id = 1000"), "0")
        << "replica 1 was not behind after all: the test proves nothing";
    EXPECT_TRUE(logHas(proxy, "replica pg1 is over the lag limit"));
  }
  c.waitForReplicas();
  EXPECT_TRUE(eventually([&] { return readPorts(app, 10).count(r1) == 1; }))
      << "the replica was not re-admitted after catching up";
  EXPECT_TRUE(logHas(proxy, "replica pg1 is back within the lag limits"));
  primary.exec("DROP TABLE lag_bytes");
}

TEST(LagLimits, ReplicaOverTheTimeLimitGetsNoReadsButAnIdlePrimaryExcludesNobody) {
  const Cluster& c = Cluster::get();
  const std::string r1 = std::to_string(c.replica1Port);
  const std::string r2 = std::to_string(c.replica2Port);
  PgsplitOptions o;
  o.extra = "[health]\ninterval_ms = 100\n[consistency]\nmax_replica_lag_ms = 1000\n";
  Pgsplit proxy(o);
  Conn primary(c.superuserConninfo(c.primaryPort, "app"));
  primary.exec("CREATE TABLE IF NOT EXISTS lag_time (id int)");
  c.waitForReplicas();
  Conn app(proxy.conninfo());
  ASSERT_TRUE(app.ok()) << app.error();
  // Nothing written for longer than the limit: now() - pg_last_xact_replay_timestamp() would
  // call both replicas late; they are not.
  // (Background WAL — checkpoints, autovacuum, other tests on a busy machine — may make a replica
  // late for a moment: what matters is that an idle primary does not keep it excluded.)
  std::this_thread::sleep_for(2s);
  EXPECT_TRUE(eventually([&] {
    return readPorts(app, 10) == std::set<std::string>{r1, r2};
  })) << "an idle primary made a caught-up replica look late";
  {
    ReplayPause pause(c, c.replica1Port);
    primary.exec("INSERT INTO lag_time VALUES (1)");  // one small write replica 1 cannot replay
    EXPECT_TRUE(eventually([&] { return readPorts(app, 10) == std::set<std::string>{r2}; }))
        << "a replica over max_replica_lag_ms still got reads";
    EXPECT_EQ(readPorts(app, 20), std::set<std::string>{r2});
    EXPECT_TRUE(logHas(proxy, "replica pg1 is over the lag limit"));
  }
  c.waitForReplicas();
  EXPECT_TRUE(eventually([&] { return readPorts(app, 10).count(r1) == 1; }))
      << "the replica was not re-admitted after catching up";
  primary.exec("DROP TABLE lag_time");
}

// ---- read-your-writes modes ---------------------------------------------------------------------

// Both replicas paused, a write through pgsplit, then reads in the same session.
class RywModes : public ::testing::Test {
 protected:
  void startProxy(const std::string& mode, const std::string& more = "") {
    PgsplitOptions o;
    o.extra =
        "[health]\ninterval_ms = 100\n[consistency]\nread_your_writes = \"" + mode + "\"\n" + more;
    proxy_ = std::make_unique<Pgsplit>(o);
    app_ = std::make_unique<Conn>(proxy_->conninfo());
    ASSERT_TRUE(app_->ok()) << app_->error();
    app_->exec("CREATE TABLE IF NOT EXISTS ryw_modes (id int primary key, v text)");
    app_->exec("TRUNCATE ryw_modes");
    cluster_.waitForReplicas();
    {
      Conn warm(proxy_->conninfo());  // (app_ wrote: it may be kept on the primary)
      awaitReplicaReads(warm, "ryw_modes");
    }
    pauses_.push_back(std::make_unique<ReplayPause>(cluster_, cluster_.replica1Port));
    pauses_.push_back(std::make_unique<ReplayPause>(cluster_, cluster_.replica2Port));
    app_->exec("INSERT INTO ryw_modes VALUES (1, 'mine')");
  }
  // (row visible?, ran on a standby?)
  std::pair<bool, bool> readOwnWrite() {
    auto rows =
        app_->rows("SELECT count(*) = 1, pg_is_in_recovery() FROM ryw_modes WHERE v = 'mine'");
    if (rows.size() != 1) return {false, false};
    return {rows[0][0] == "t", rows[0][1] == "t"};
  }
  void resumeReplicas() {
    pauses_.clear();
    cluster_.waitForReplicas();
  }
  const Cluster& cluster_ = Cluster::get();
  std::unique_ptr<Pgsplit> proxy_;
  std::unique_ptr<Conn> app_;
  std::vector<std::unique_ptr<ReplayPause>> pauses_;
};

TEST_F(RywModes, OffReadsFromAReplicaRightAfterAWrite) {
  startProxy("off");
  auto [visible, onStandby] = readOwnWrite();
  EXPECT_TRUE(onStandby) << "read-your-writes = off still sent the read to the primary";
  EXPECT_FALSE(visible) << "the replicas were not paused: the test proves nothing";
  resumeReplicas();
}

TEST_F(RywModes, SessionModeReadsFromThePrimaryForTheRestOfTheSession) {
  startProxy("session");
  for (int i = 0; i < 3; ++i) {
    auto [visible, onStandby] = readOwnWrite();
    EXPECT_TRUE(visible);
    EXPECT_FALSE(onStandby);
  }
  resumeReplicas();
  std::this_thread::sleep_for(1s);  // ten health intervals: lsn mode would be back on replicas
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(app_->value("SELECT pg_is_in_recovery()"), "f") << "session mode left the primary";
  Conn other(proxy_->conninfo());
  EXPECT_EQ(other.value("SELECT pg_is_in_recovery()"), "t")
      << "a session that never wrote should read from replicas";
}

TEST_F(RywModes, WindowModeReadsFromThePrimaryOnlyForTheWindow) {
  startProxy("window", "window_ms = 3000\n");
  auto [visible, onStandby] = readOwnWrite();
  EXPECT_TRUE(visible);
  EXPECT_FALSE(onStandby);
  // The window is time, not position: once it is over, reads go to the (still paused) replicas.
  std::this_thread::sleep_for(3500ms);
  auto [visibleAfter, onStandbyAfter] = readOwnWrite();
  EXPECT_TRUE(onStandbyAfter) << "window mode kept reading from the primary after the window";
  EXPECT_FALSE(visibleAfter) << "the replicas were not paused: the test proves nothing";
  resumeReplicas();
}

TEST_F(RywModes, LsnModeWaitsForAReplicaThatHasReplayedTheWrite) {
  startProxy("lsn");
  for (int i = 0; i < 3; ++i) {
    auto [visible, onStandby] = readOwnWrite();
    EXPECT_TRUE(visible);
    EXPECT_FALSE(onStandby);
  }
  // Time alone does not return reads to replicas that have not replayed the write.
  std::this_thread::sleep_for(1500ms);
  auto [visible, onStandby] = readOwnWrite();
  EXPECT_TRUE(visible);
  EXPECT_FALSE(onStandby);
  resumeReplicas();
  EXPECT_TRUE(eventually([&] { return readOwnWrite() == std::make_pair(true, true); }))
      << "reads did not return to the replicas once they had replayed the write";
}

// ---- the monitor itself -------------------------------------------------------------------------

// A node that accepts TCP connections and never answers (a frozen server) costs only its own
// check: the other node keeps being checked on schedule meanwhile.
TEST(HealthMonitor, AFrozenNodeDelaysNoOtherNodesChecks) {
  const Cluster& c = Cluster::get();
  int frozen = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(frozen, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(frozen, 64), 0);  // never accepted: the handshake completes, then silence
  socklen_t len = sizeof addr;
  ::getsockname(frozen, reinterpret_cast<sockaddr*>(&addr), &len);
  const int frozenPort = ntohs(addr.sin_port);

  auto loaded = config::loadString(
      "[health]\ninterval_ms = 50\ntimeout_ms = 2000\n"
      "[[nodes]]\nname = \"real\"\nhost = \"127.0.0.1\"\nport = " +
      std::to_string(c.primaryPort) +
      "\n[[nodes]]\nname = \"frozen\"\nhost = \"127.0.0.1\"\nport = " + std::to_string(frozenPort) +
      "\n[[users]]\nname = \"app\"\npassword = \"app\"\n");
  ASSERT_TRUE(loaded.errors.empty()) << loaded.errors[0];
  routing::NodeStateBoard board(health::initialSnapshot(*loaded.config));
  health::Monitor monitor(loaded.config, board);
  monitor.start();

  // During the frozen node's first check (2 s deadline), the real node is sampled again and
  // again: about 20 times a second. Checked one after the other, it would be at most once.
  std::set<routing::Clock::time_point> samples;
  const auto until = std::chrono::steady_clock::now() + 1s;
  bool frozenDownEarly = false;
  while (std::chrono::steady_clock::now() < until) {
    auto snap = board.current();
    if (snap->nodes[0].up && snap->nodes[0].role == routing::Role::Primary)
      samples.insert(snap->nodes[0].lsnSampledAt);
    frozenDownEarly = frozenDownEarly || !snap->nodes[1].up;
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_GE(samples.size(), 5u) << "the real node's checks waited for the frozen node's";
  EXPECT_FALSE(frozenDownEarly) << "the frozen node was down before its deadline";

  // And the frozen node is marked down by its deadline, the real one staying up.
  EXPECT_TRUE(eventually([&] { return !board.current()->nodes[1].up; }, 5s));
  auto snap = board.current();
  EXPECT_NE(snap->nodes[1].lastError.find("no answer within 2000 ms"), std::string::npos)
      << snap->nodes[1].lastError;
  EXPECT_TRUE(snap->nodes[0].up);
  monitor.stop();
  ::close(frozen);
}

// A node nothing listens on is down at its first check, with libpq's reason; the others are not
// affected.
TEST(HealthMonitor, UnreachableNodeIsDownWithTheReason) {
  const Cluster& c = Cluster::get();
  const int closedPort = freePort();
  auto loaded = config::loadString(
      "[health]\ninterval_ms = 50\n"
      "[[nodes]]\nname = \"a\"\nhost = \"127.0.0.1\"\nport = " +
      std::to_string(c.replica1Port) + "\n[[nodes]]\nname = \"b\"\nhost = \"127.0.0.1\"\nport = " +
      std::to_string(closedPort) + "\n[[users]]\nname = \"app\"\npassword = \"app\"\n");
  ASSERT_TRUE(loaded.errors.empty()) << loaded.errors[0];
  routing::NodeStateBoard board(health::initialSnapshot(*loaded.config));
  health::Monitor monitor(loaded.config, board);
  monitor.probeAll();
  auto snap = board.current();
  EXPECT_TRUE(snap->nodes[0].up);
  EXPECT_EQ(snap->nodes[0].role, routing::Role::Replica);
  EXPECT_NE(snap->nodes[0].lsn, 0u);
  EXPECT_GE(snap->nodes[0].replayDelayMs, 0);
  EXPECT_FALSE(snap->nodes[1].up);
  EXPECT_NE(snap->nodes[1].lastError.find("Connection refused"), std::string::npos)
      << snap->nodes[1].lastError;
}

// A host name is looked up off the monitor's thread, and the checks use it.
TEST(HealthMonitor, HostNamesAreResolved) {
  const Cluster& c = Cluster::get();
  auto loaded = config::loadString(
      "[[nodes]]\nname = \"a\"\nhost = \"localhost\"\nport = " + std::to_string(c.primaryPort) +
      "\n[[users]]\nname = \"app\"\npassword = \"app\"\n");
  ASSERT_TRUE(loaded.errors.empty()) << loaded.errors[0];
  routing::NodeStateBoard board(health::initialSnapshot(*loaded.config));
  health::Monitor monitor(loaded.config, board);
  monitor.probeAll();
  auto snap = board.current();
  EXPECT_TRUE(snap->nodes[0].up) << snap->nodes[0].lastError;
  EXPECT_EQ(snap->nodes[0].role, routing::Role::Primary);
}

// Wrong monitor credentials: the node is reported down with the server's reason (not a hang,
// not "up" on a guess), and the reason never holds the password.
TEST(HealthMonitor, RefusedLoginIsDownWithTheServersReason) {
  const Cluster& c = Cluster::get();
  auto loaded = config::loadString(
      "[health]\nuser = \"app\"\npassword = \"not-the-password\"\n"
      "[[nodes]]\nname = \"a\"\nhost = \"127.0.0.1\"\nport = " +
      std::to_string(c.primaryPort) + "\n[[users]]\nname = \"app\"\npassword = \"app\"\n");
  ASSERT_TRUE(loaded.errors.empty()) << loaded.errors[0];
  routing::NodeStateBoard board(health::initialSnapshot(*loaded.config));
  health::Monitor monitor(loaded.config, board);
  monitor.probeAll();
  auto snap = board.current();
  EXPECT_FALSE(snap->nodes[0].up);
  EXPECT_NE(snap->nodes[0].lastError.find("password authentication failed"), std::string::npos)
      << snap->nodes[0].lastError;
  EXPECT_EQ(snap->nodes[0].lastError.find("not-the-password"), std::string::npos);
}

// ---- read-your-writes across connections: pgsplit.write_lsn -> pgsplit.min_lsn ---------------

TEST(RywAcrossConnections, TheWritePositionTokenMakesAnotherConnectionSeeTheWrite) {
  const Cluster& cl = Cluster::get();
  PgsplitOptions o;
  o.extra = "[health]\ninterval_ms = 100\n";
  Pgsplit proxy(o);
  {
    Conn setup(proxy.conninfo());
    setup.exec("CREATE TABLE IF NOT EXISTS ryw_token (id int primary key, v text)");
    setup.exec("TRUNCATE ryw_token");
  }
  cl.waitForReplicas();
  {
    Conn warm(proxy.conninfo());
    awaitReplicaReads(warm, "ryw_token");
  }
  std::string token;
  {
    ReplayPause p1(cl, cl.replica1Port);
    ReplayPause p2(cl, cl.replica2Port);
    Conn writer(proxy.conninfo());
    ASSERT_TRUE(writer.ok()) << writer.error();
    writer.exec("INSERT INTO ryw_token VALUES (1, 'mine')");
    const char* reported = PQparameterStatus(writer.get(), "pgsplit.write_lsn");
    ASSERT_NE(reported, nullptr) << "no pgsplit.write_lsn after a write";
    token = reported;
    EXPECT_EQ(writer.value("SHOW pgsplit.write_lsn"), token);
    Conn direct(cl.appConninfo(cl.primaryPort));
    EXPECT_EQ(direct.value("SELECT '" + token + "'::pg_lsn <= pg_current_wal_insert_lsn()"), "t");

    const std::string read = "SELECT count(*) || '/' || pg_is_in_recovery() FROM ryw_token";
    // Another connection without the token reads from a (paused) replica: the write is not
    // there — which is what the token is for.
    Conn plain(proxy.conninfo());
    EXPECT_EQ(plain.value(read), "0/true")
        << "the replicas were not paused: the test proves nothing";
    // With the token as a startup option: the primary, and the row.
    Conn started(proxy.conninfo() + " options='-c pgsplit.min_lsn=" + token + "'");
    ASSERT_TRUE(started.ok()) << started.error();
    for (int i = 0; i < 3; ++i)
      EXPECT_EQ(started.value(read), "1/false");
    EXPECT_EQ(started.value("SHOW pgsplit.min_lsn"), token);
    // With SET pgsplit.min_lsn: the same.
    plain.exec("SET pgsplit.min_lsn = '" + token + "'");
    EXPECT_EQ(plain.value(read), "1/false");
    // RESET: a replica again.
    plain.exec("RESET pgsplit.min_lsn");
    EXPECT_EQ(plain.value(read), "0/true");
    EXPECT_EQ(plain.errorState("SET pgsplit.min_lsn = 'not-an-lsn'"), "22023");
  }
  // Replay resumed: a connection with the token goes back to the replicas once they have it.
  cl.waitForReplicas();
  Conn later(proxy.conninfo() + " options='-c pgsplit.min_lsn=" + token + "'");
  EXPECT_TRUE(eventually([&] {
    return later.value("SELECT count(*) || '/' || pg_is_in_recovery() FROM ryw_token") == "1/true";
  })) << "reads never returned to the replicas that replayed the write";
}

TEST(RywAcrossConnections, AnInvalidStartupTokenIsRefused) {
  Pgsplit proxy;
  Conn c(proxy.conninfo() + " options='-c pgsplit.min_lsn=bogus'");
  EXPECT_FALSE(c.ok());
  EXPECT_NE(c.error().find("pgsplit.min_lsn"), std::string::npos) << c.error();
}

}  // namespace
}  // namespace pgsplit::test
