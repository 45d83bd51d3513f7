#pragma once
// Keeps each node's liveness, role, WAL position and lag fresh in the NodeStateBoard. Every node
// is checked on its own schedule ([health] interval_ms) by its own coroutine on the monitor's
// event loop, each check bounded by [health] timeout_ms: a frozen node delays nobody else's
// check, and no worker thread ever runs one.
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "pgsplit/asio.hpp"
#include "pgsplit/config/config.hpp"
#include "pgsplit/health/lag_tracker.hpp"
#include "pgsplit/health/pg_probe.hpp"
#include "pgsplit/routing/node_snapshot.hpp"
#include "pgsplit/routing/router.hpp"

namespace pgsplit::health {

class Monitor {
 public:
  Monitor(std::shared_ptr<const config::Config> config, routing::NodeStateBoard& board);
  ~Monitor();
  Monitor(const Monitor&) = delete;
  Monitor& operator=(const Monitor&) = delete;

  // One check of every node, all at once, on the caller's thread; returns when each has answered
  // or timed out (used once before serving).
  void probeAll();
  // Checks every node every interval on the monitor's own thread, until stop().
  void start();
  void stop();

 private:
  Task<void> nodeLoop(std::size_t node);
  Task<void> checkOnce(std::size_t node);
  void publish(std::size_t node, ProbeResult result);
  void logChanges(const routing::NodeSnapshot& before, const routing::NodeSnapshot& after);

  std::shared_ptr<const config::Config> config_;
  routing::NodeStateBoard& board_;
  std::chrono::milliseconds interval_;
  std::chrono::milliseconds timeout_;
  routing::LagLimits limits_;
  // Declared before what runs on it, so it is destroyed last.
  asio::io_context io_{1};
  std::vector<std::unique_ptr<PgProbe>> probes_;
  std::vector<std::unique_ptr<asio::steady_timer>> timers_;
  std::thread thread_;
  // Touched only on the monitor's event loop (or by probeAll before it starts).
  bool stopping_ = false;
  // Per cluster (each has its own primary, whose positions its replicas are measured against).
  std::vector<LagTracker> lag_;
  std::vector<int> trackedPrimary_;
  std::vector<routing::Clock::time_point> splitBrainLoggedAt_;
  std::vector<bool> roleMismatch_;  // a configured role the node contradicts (logged once)
};

// The snapshot a config describes before any check: configured roles, nodes assumed up.
routing::NodeSnapshot initialSnapshot(const config::Config& config);

}  // namespace pgsplit::health
