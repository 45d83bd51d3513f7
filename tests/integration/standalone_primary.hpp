#pragma once
// A PostgreSQL server of a test's own, with no replicas: a second cluster for the routing-rule
// tests (issue #9). initdb in a fresh directory on a free loopback port, roles and databases
// like the fixture cluster's (app/app owning databases app and events), stopped and deleted
// when destroyed. Cheaper than a DisposableCluster: no base backups.
#include <string>

#include "harness.hpp"

namespace pgsplit::test {

class StandalonePrimary {
 public:
  // `binDir`: PostgreSQL's programs (the fixture cluster's PG_BINDIR).
  explicit StandalonePrimary(const std::string& binDir);
  ~StandalonePrimary();
  StandalonePrimary(const StandalonePrimary&) = delete;
  StandalonePrimary& operator=(const StandalonePrimary&) = delete;

  bool ok() const { return ok_; }
  int port() const { return port_; }
  std::string superuserConninfo(const std::string& db = "postgres") const;
  std::string appConninfo(const std::string& db = "app") const;

 private:
  std::pair<int, std::string> asPostgres(const std::string& command) const;

  std::string binDir_;
  std::string dir_;
  int port_ = 0;
  bool started_ = false;
  bool ok_ = false;
};

}  // namespace pgsplit::test
