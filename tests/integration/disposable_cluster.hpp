#pragma once
// A primary + 2 streaming replicas of a test's own (scripts/cluster.sh in a fresh directory),
// for tests that stop, restart or promote nodes: the shared fixture cluster is never harmed.
// Stopped and deleted when destroyed.
#include <string>

#include "harness.hpp"

namespace pgsplit::test {

class DisposableCluster {
 public:
  DisposableCluster();
  ~DisposableCluster();
  DisposableCluster(const DisposableCluster&) = delete;
  DisposableCluster& operator=(const DisposableCluster&) = delete;

  bool ok() const { return ok_; }
  const Cluster& cluster() const { return cluster_; }
  // Nodes by cluster.sh's names: "primary", "replica1", "replica2". False (with a test failure
  // recorded) when pg_ctl fails.
  bool stopNode(const std::string& node, const std::string& mode = "immediate");
  bool startNode(const std::string& node);

 private:
  bool pgCtl(const std::string& node, const std::string& args);

  std::string dir_;
  Cluster cluster_;
  bool ok_ = false;
};

}  // namespace pgsplit::test
