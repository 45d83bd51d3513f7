#pragma once
// What the admin console and the HTTP endpoints see of the workers: plain copies, taken on each
// worker's own thread (posted there) and handed back, so nobody reads a session's state from
// another thread.
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "pgsplit/asio.hpp"
#include "pgsplit/session/query_stats.hpp"

namespace pgsplit::session {

struct Runtime;

struct BackendInfo {
  std::size_t node = 0;
  std::uint32_t pid = 0;  // the server process
  char txnStatus = 'I';
  bool active = false;  // its replies are being relayed (else held: session mode, pins)
};

struct ClientInfo {
  std::uint64_t id = 0;
  unsigned worker = 0;
  std::string peer;
  std::string user;
  std::string database;
  std::string application;
  const char* state = "";  // startup, authenticating, ready, closed
  std::chrono::system_clock::time_point connectedAt{};
  char txnStatus = 'I';  // as the backend last reported; 'I' without a backend
  bool busy = false;     // replies outstanding
  bool pinned = false;
  bool paused = false;  // its next unit waits for RESUME
  std::string pinReason;
  std::vector<BackendInfo> backends;
};

struct IdleServerInfo {
  std::uint32_t pid = 0;
  std::chrono::steady_clock::duration idleFor{};
};

struct PoolInfo {
  unsigned worker = 0;
  std::size_t node = 0;
  std::string database;
  std::string user;
  std::uint32_t open = 0;  // idle + in use + connecting
  std::uint32_t idle = 0;
  std::uint32_t waiting = 0;  // clients waiting for a connection
  std::uint32_t max = 0;      // max_server_connections for the key (whole process)
  std::uint64_t waits = 0;    // checkouts that had to wait
  std::uint64_t waitMicros = 0;
  std::uint64_t timeouts = 0;  // waits that ran out (53300)
  std::uint64_t connects = 0;  // server connections opened
  std::uint64_t connectFailures = 0;
  std::uint64_t resets = 0;          // reused after ROLLBACK / DISCARD ALL
  std::uint64_t resetFailures = 0;   // closed: the reset failed
  std::uint64_t idleTimeouts = 0;    // closed after idle_timeout_ms
  std::uint64_t lifetimeCloses = 0;  // closed after server_lifetime_ms
  std::uint64_t handedOver = 0;      // moved to another worker for its waiting client
  std::vector<IdleServerInfo> idleServers;
};

struct WorkerReport {
  unsigned worker = 0;
  std::vector<ClientInfo> clients;
  std::vector<PoolInfo> pools;
  std::size_t adminConnections = 0;
};

// (Runtime by pointer: coroutine parameters are never references.)
// Every worker's report, gathered without blocking any thread: each worker fills its part on its
// own thread and posts it back. Workers that do not answer within `deadline` (only when they are
// being stopped) are left out.
Task<std::vector<WorkerReport>> gatherReports(
    Runtime* runtime, std::chrono::milliseconds deadline = std::chrono::milliseconds(2000));

// Every worker's statement statistics (SHOW QUERIES), normalised on its own thread.
Task<std::vector<std::vector<QueryStatsRow>>> gatherQueryStats(
    Runtime* runtime, std::chrono::milliseconds deadline = std::chrono::milliseconds(2000));

class WorkerContext;

// Runs `fn` on every worker's thread and sums what it returns (same deadline rule as above).
Task<std::size_t> sumOverWorkers(
    Runtime* runtime, std::function<std::size_t(WorkerContext&)> fn,
    std::chrono::milliseconds deadline = std::chrono::milliseconds(2000));

}  // namespace pgsplit::session
