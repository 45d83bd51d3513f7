// pgbench and psql, real clients, through pgsplit.
#include <cstdlib>
#include <unistd.h>

#include <cstdio>
#include <thread>

#include "harness.hpp"

namespace pgsplit::test {
namespace {

std::string pgbench(const Cluster& c) {
  return c.binDir + "/pgbench";
}

// A pgbench script whose transaction fails (1/0, itself a read) whenever its read ran on the
// primary: pgbench then exits non-zero. Removed when destroyed.
class StandbyOnlyScript {
 public:
  StandbyOnlyScript() {
    int fd = ::mkstemp(path_);
    const std::string body =
        "\\set aid random(1, 100000)\n"
        "SELECT abalance, pg_is_in_recovery() AS standby FROM pgbench_accounts WHERE aid = :aid "
        "\\gset\n"
        "\\if :standby\n\\else\nSELECT 1/0;\n\\endif\n";
    EXPECT_EQ(::write(fd, body.data(), body.size()), static_cast<ssize_t>(body.size()));
    ::close(fd);
  }
  ~StandbyOnlyScript() { std::remove(path_); }
  std::string path() const { return path_; }

 private:
  char path_[32] = "/tmp/pgsplit-pgbench-XXXXXX";
};

TEST(Pgbench, InitializeThenSelectOnlyAndTpcbRunCleanly) {
  const Cluster& c = Cluster::get();
  Pgsplit proxy;
  const std::string env = "env PGPASSWORD=app ";
  const std::string target = " -h 127.0.0.1 -p " + std::to_string(proxy.port()) + " -U app app";

  auto [initCode, initOut] = runCommand(env + pgbench(c) + " -i -s 1 -q" + target);
  ASSERT_EQ(initCode, 0) << initOut;
  EXPECT_NE(initOut.find("done"), std::string::npos) << initOut;
  c.waitForReplicas();

  auto [selCode, selOut] = runCommand(env + pgbench(c) + " -S -c 4 -j 2 -t 200 -n" + target);
  ASSERT_EQ(selCode, 0) << selOut;
  EXPECT_NE(selOut.find("number of transactions actually processed: 800/800"), std::string::npos)
      << selOut;
  EXPECT_NE(selOut.find("number of failed transactions: 0"), std::string::npos) << selOut;

  // A read of a relation pgsplit has not looked up in the primary's catalog yet (and any read
  // of one named by DDL it saw, until that settles) goes to the primary: wait until
  // pgbench_accounts is known before checking where reads run.
  {
    Conn warm(proxy.conninfo());
    bool onReplica = false;
    for (int i = 0; i < 100 && !onReplica; ++i) {
      onReplica = warm.value("SELECT pg_is_in_recovery() FROM pgbench_accounts LIMIT 1") == "t";
      if (!onReplica) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_TRUE(onReplica) << "reads of pgbench_accounts never reached a replica";
  }

  // Every -S style read ran on a replica (see StandbyOnlyScript), in every protocol mode: -M
  // prepared names its statements, which pgsplit prepares on whichever replica runs them.
  StandbyOnlyScript script;
  for (const char* mode : {"simple", "extended", "prepared"}) {
    auto [chkCode, chkOut] = runCommand(env + pgbench(c) + " -M " + mode + " -f " + script.path() +
                                        " -c 4 -j 2 -t 100 -n" + target);
    EXPECT_EQ(chkCode, 0) << "a pgbench read (-M " << mode << ") ran on the primary:\n" << chkOut;
    EXPECT_NE(chkOut.find("processed: 400/400"), std::string::npos) << mode << "\n" << chkOut;
  }

  for (const char* mode : {"simple", "extended", "prepared"}) {
    auto [tpcCode, tpcOut] =
        runCommand(env + pgbench(c) + " -M " + mode + " -c 4 -j 2 -t 50 -n" + target);
    ASSERT_EQ(tpcCode, 0) << tpcOut;
    EXPECT_NE(tpcOut.find("number of failed transactions: 0"), std::string::npos) << tpcOut;
  }
  // Every TPC-B transaction wrote one history row on the primary.
  Conn primary(c.superuserConninfo(c.primaryPort, "app"));
  EXPECT_EQ(primary.value("SELECT count(*) FROM pgbench_history"), "600");
}

// Session pooling: each pgbench client keeps its backends for its whole run; its reads still go
// to the replicas and its prepared statements are prepared on each backend it uses.
TEST(Pgbench, SessionPoolingReadsOnReplicasInExtendedAndPreparedModes) {
  const Cluster& c = Cluster::get();
  PgsplitOptions o;
  o.poolMode = "session";
  Pgsplit proxy(o);
  const std::string env = "env PGPASSWORD=app ";
  const std::string target = " -h 127.0.0.1 -p " + std::to_string(proxy.port()) + " -U app app";

  auto [initCode, initOut] = runCommand(env + pgbench(c) + " -i -s 1 -q" + target);
  ASSERT_EQ(initCode, 0) << initOut;
  c.waitForReplicas();
  {
    Conn warm(proxy.conninfo());
    awaitReplicaReads(warm, "pgbench_accounts");
  }
  StandbyOnlyScript script;
  for (const char* mode : {"extended", "prepared"}) {
    auto [chkCode, chkOut] = runCommand(env + pgbench(c) + " -M " + mode + " -f " + script.path() +
                                        " -c 4 -j 2 -t 100 -n" + target);
    EXPECT_EQ(chkCode, 0) << "a pgbench read (-M " << mode << ", session pooling) ran on the "
                          << "primary:\n"
                          << chkOut;
    EXPECT_NE(chkOut.find("processed: 400/400"), std::string::npos) << mode << "\n" << chkOut;

    auto [selCode, selOut] =
        runCommand(env + pgbench(c) + " -M " + mode + " -S -c 4 -j 2 -t 200 -n" + target);
    EXPECT_EQ(selCode, 0) << selOut;
    EXPECT_NE(selOut.find("number of failed transactions: 0"), std::string::npos) << selOut;

    auto [tpcCode, tpcOut] =
        runCommand(env + pgbench(c) + " -M " + mode + " -c 4 -j 2 -t 50 -n" + target);
    EXPECT_EQ(tpcCode, 0) << tpcOut;
    EXPECT_NE(tpcOut.find("number of failed transactions: 0"), std::string::npos) << tpcOut;
  }
  Conn primary(c.superuserConninfo(c.primaryPort, "app"));
  EXPECT_EQ(primary.value("SELECT count(*) FROM pgbench_history"), "400");
}

TEST(Psql, ScriptThroughProxy) {
  const Cluster& c = Cluster::get();
  Pgsplit proxy;
  const std::string psql = c.binDir + "/psql";
  auto [code, out] = runCommand(psql + " -X -v ON_ERROR_STOP=1 -At \"" + proxy.url() +
                                "\" -c \"CREATE TABLE IF NOT EXISTS psql_t (x int)\" "
                                "-c \"INSERT INTO psql_t VALUES (1)\" "
                                "-c \"SELECT count(*) > 0, pg_is_in_recovery() FROM psql_t\"");
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("INSERT 0 1"), std::string::npos) << out;
  // Its own write is visible at once (read from the primary until a replica has replayed it).
  EXPECT_NE(out.find("\nt|"), std::string::npos) << out;
  // A new session, with no write of its own, reads from a replica.
  auto [code2, out2] =
      runCommand(psql + " -X -At \"" + proxy.url() + "\" -c \"SELECT pg_is_in_recovery()\"");
  ASSERT_EQ(code2, 0) << out2;
  EXPECT_EQ(out2, "t\n");
}

}  // namespace
}  // namespace pgsplit::test
