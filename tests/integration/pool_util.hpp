#pragma once
// Helpers for the pooling tests: many libpq clients at once (non-blocking, a few threads), and a
// sampler that watches pg_stat_activity on every node while they run.
#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "harness.hpp"

namespace pgsplit::test {

struct ManyClientsOptions {
  std::string conninfo;
  int clients = 100;
  int threads = 2;
  int maxConnecting = 64;  // connection attempts in flight at once, per thread
  // Each client runs these in order (one PQsendQuery each) and checks every result.
  std::vector<std::string> statements;
  // Burst: the statements are sent only once every client is connected, all at once.
  bool burst = false;
  std::chrono::seconds deadline{90};
};

struct ManyClientsReport {
  int connected = 0;                // logins that succeeded
  int succeeded = 0;                // clients whose every statement succeeded
  std::vector<std::string> errors;  // the first few, "client N: ..."
  int errorCount = 0;
};

// Runs the clients (each connects, runs its statements, disconnects) and reports.
ManyClientsReport runManyClients(const ManyClientsOptions& options);

// Counts the client backends that match `where` (SQL over pg_stat_activity) on each node, every
// few milliseconds, from its own thread, until stopped; keeps the highest count per node.
class BackendSampler {
 public:
  BackendSampler(const Cluster& cluster, std::string where);
  ~BackendSampler();
  BackendSampler(const BackendSampler&) = delete;
  BackendSampler& operator=(const BackendSampler&) = delete;

  void stop();
  int maxOn(int node) const { return max_[node].load(); }  // 0 primary, 1 and 2 the replicas
  int samples() const { return samples_.load(); }

 private:
  std::vector<std::string> conninfos_;
  std::string sql_;
  std::atomic<bool> stop_{false};
  std::atomic<int> max_[3] = {0, 0, 0};
  std::atomic<int> samples_{0};
  std::thread thread_;
};

// How many client backends match `where` on the node at `port`, now.
int countBackends(const Cluster& cluster, int port, const std::string& where);

// Raises this process's open-file limit to the hard limit (pgsplit, started by the test,
// inherits it); returns the limit now in force.
long raiseFileLimit();

// A database of its own for a test (owned by app), so that counting its backends counts only the
// test's; created once on the primary, then waited for on both replicas.
void ensureDatabase(const Cluster& cluster, const std::string& name);

}  // namespace pgsplit::test
