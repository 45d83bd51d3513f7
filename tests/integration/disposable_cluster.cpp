#include "disposable_cluster.hpp"

#include <unistd.h>

#include <cstdlib>

namespace pgsplit::test {

namespace {
std::string clusterScript() {
  return std::string(PGSPLIT_DEFAULT_SOURCE_DIR) + "/scripts/cluster.sh";
}
}  // namespace

DisposableCluster::DisposableCluster() {
  char tmpl[] = "/tmp/pgsplit-dc-XXXXXX";
  const char* made = ::mkdtemp(tmpl);
  if (made == nullptr) {
    ADD_FAILURE() << "mkdtemp failed";
    return;
  }
  dir_ = made;
  auto [code, out] = runCommand(clusterScript() + " start " + dir_, std::chrono::seconds(180));
  if (code != 0) {
    ADD_FAILURE() << "could not start a disposable cluster in " << dir_ << ":\n" << out;
    return;
  }
  cluster_ = Cluster::fromEnvFile(dir_ + "/cluster.env");
  ok_ = cluster_.primaryPort > 0 && cluster_.replica1Port > 0 && cluster_.replica2Port > 0;
  if (!ok_) ADD_FAILURE() << "disposable cluster in " << dir_ << " has no ports";
}

DisposableCluster::~DisposableCluster() {
  if (dir_.empty()) return;
  auto [code, out] =
      runCommand(clusterScript() + " stop " + dir_ + " --wipe", std::chrono::seconds(120));
  if (code != 0)
    ADD_FAILURE() << "could not stop the disposable cluster in " << dir_ << ":\n" << out;
}

bool DisposableCluster::pgCtl(const std::string& node, const std::string& args) {
  const std::string data = cluster_.env.at("DATA_DIR") + "/" + node;
  // As root the servers run as postgres (see cluster.sh), and so must pg_ctl.
  const std::string asPg = ::geteuid() == 0 ? "runuser -u postgres -- " : "";
  auto [code, out] = runCommand(asPg + cluster_.binDir + "/pg_ctl -D " + data + " " + args,
                                std::chrono::seconds(90));
  if (code != 0) ADD_FAILURE() << "pg_ctl " << args << " on " << node << " failed:\n" << out;
  return code == 0;
}

bool DisposableCluster::stopNode(const std::string& node, const std::string& mode) {
  return pgCtl(node, "-m " + mode + " -w stop");
}

bool DisposableCluster::startNode(const std::string& node) {
  const std::string log = cluster_.env.at("DATA_DIR") + "/" + node + ".log";
  return pgCtl(node, "-l " + log + " -w -t 60 start");
}

}  // namespace pgsplit::test
