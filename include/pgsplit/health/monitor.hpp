#pragma once
// Keeps each node's liveness and role fresh in the NodeStateBoard, with libpq on a thread of its
// own so no worker ever blocks on a health check. (Issue #6 moves it onto the event loop with
// PQconnectStart/PQconnectPoll and adds replay positions and lag.)
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "pgsplit/config/config.hpp"
#include "pgsplit/routing/node_snapshot.hpp"

struct pg_conn;

namespace pgsplit::health {

struct ProbeResult {
  bool up = false;
  routing::Role role = routing::Role::Unknown;
  std::uint64_t lsn = 0;  // primary: insert LSN; replica: last replayed LSN
  routing::Clock::time_point sampledAt{};
  std::string error;  // when !up
};

class Monitor {
 public:
  Monitor(std::shared_ptr<const config::Config> config, routing::NodeStateBoard& board,
          std::chrono::milliseconds interval = std::chrono::milliseconds(200));
  ~Monitor();

  // One round over every node, now, on the caller's thread (used once before serving).
  void probeAll();
  void start();
  void stop();

 private:
  ProbeResult probe(std::size_t node);
  void loop();

  std::shared_ptr<const config::Config> config_;
  routing::NodeStateBoard& board_;
  std::chrono::milliseconds interval_;
  std::vector<pg_conn*> conns_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
};

// The snapshot a config describes before any check: configured roles, nodes assumed up.
routing::NodeSnapshot initialSnapshot(const config::Config& config);

}  // namespace pgsplit::health
