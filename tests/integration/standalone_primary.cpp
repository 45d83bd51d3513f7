#include "standalone_primary.hpp"

#include <pwd.h>
#include <unistd.h>

#include <fstream>

namespace pgsplit::test {

StandalonePrimary::StandalonePrimary(const std::string& binDir) : binDir_(binDir) {
  char tmpl[] = "/tmp/pgsplit-sp-XXXXXX";
  const char* made = ::mkdtemp(tmpl);
  if (made == nullptr) {
    ADD_FAILURE() << "mkdtemp failed";
    return;
  }
  dir_ = made;
  // As root the server runs as postgres (as scripts/cluster.sh does): it must own the directory.
  if (::geteuid() == 0) {
    if (const passwd* pg = ::getpwnam("postgres"); pg != nullptr) {
      if (::chown(dir_.c_str(), pg->pw_uid, pg->pw_gid) != 0)
        ADD_FAILURE() << "cannot give " << dir_ << " to postgres";
    }
  }
  {
    std::ofstream pw(dir_ + "/pwfile");
    pw << "postgres\n";
  }
  ::chmod((dir_ + "/pwfile").c_str(), 0644);
  auto [code, out] =
      asPostgres(binDir_ + "/initdb -D " + dir_ + "/data -U postgres --pwfile=" + dir_ +
                 "/pwfile --auth-local=trust --auth-host=scram-sha-256 " +
                 "--encoding=UTF8 --locale=C --no-sync");
  if (code != 0) {
    ADD_FAILURE() << "initdb failed:\n" << out;
    return;
  }
  for (int attempt = 0; attempt < 5 && !started_; ++attempt) {
    port_ = freePort();
    const std::string options = "-c listen_addresses=127.0.0.1 -c port=" + std::to_string(port_) +
                                " -c unix_socket_directories=" + dir_ +
                                " -c fsync=off -c max_connections=60 -c shared_buffers=16MB";
    auto [started, log] = asPostgres(binDir_ + "/pg_ctl -D " + dir_ + "/data -l " + dir_ +
                                     "/server.log -w -t 60 -o \"" + options + "\" start");
    started_ = started == 0;
    if (!started_ && attempt == 4) ADD_FAILURE() << "pg_ctl start failed:\n" << log;
  }
  if (!started_) return;
  Conn su(superuserConninfo());
  if (!su.ok()) {
    ADD_FAILURE() << "cannot connect to the standalone primary: " << su.error();
    return;
  }
  su.exec("CREATE ROLE app LOGIN PASSWORD 'app'");
  su.exec("CREATE DATABASE app OWNER app");
  su.exec("CREATE DATABASE events OWNER app");
  ok_ = !::testing::Test::HasFatalFailure();
}

StandalonePrimary::~StandalonePrimary() {
  if (dir_.empty()) return;
  if (started_) {
    auto [code, out] =
        asPostgres(binDir_ + "/pg_ctl -D " + dir_ + "/data -m immediate -w -t 60 stop");
    if (code != 0) ADD_FAILURE() << "pg_ctl stop failed:\n" << out;
  }
  runCommand("rm -rf " + dir_, std::chrono::seconds(60));
}

std::pair<int, std::string> StandalonePrimary::asPostgres(const std::string& command) const {
  // (From "/": postgres may not enter the test's working directory.)
  const std::string inRoot = "sh -c 'cd / && exec " + command + "'";
  if (::geteuid() == 0) return runCommand("runuser -u postgres -- " + inRoot);
  return runCommand(inRoot);
}

std::string StandalonePrimary::superuserConninfo(const std::string& db) const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " dbname=" + db +
         " user=postgres password=postgres connect_timeout=10";
}

std::string StandalonePrimary::appConninfo(const std::string& db) const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " dbname=" + db +
         " user=app password=app connect_timeout=10";
}

}  // namespace pgsplit::test
