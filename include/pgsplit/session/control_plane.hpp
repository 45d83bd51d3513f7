#pragma once
// What the admin console and the HTTP endpoints may ask of the process (reload, shutdown) and
// read about it. Implemented by net::Controller on the control thread; callable from any thread.
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace pgsplit::session {

struct ReloadOutcome {
  bool ok = false;
  std::uint64_t generation = 0;      // the configuration in force afterwards
  std::vector<std::string> errors;   // file:line:column: message (the file was rejected)
  std::vector<std::string> changes;  // what changed (ok)
  std::vector<std::string> needRestart;
};

struct ControlStatus {
  std::uint64_t reloads = 0;  // applied
  std::uint64_t reloadFailures = 0;
  std::int64_t lastReloadUnix = 0;  // seconds; 0 = never
  bool lastReloadOk = true;
  bool draining = false;
  std::chrono::system_clock::time_point startedAt{};
};

class ControlPlane {
 public:
  virtual ~ControlPlane() = default;
  // Re-reads the configuration file; `done` runs on the control thread with the outcome.
  virtual void requestReload(std::function<void(ReloadOutcome)> done) = 0;
  // Graceful drain (SIGTERM, SHUTDOWN) or immediate close (SIGINT).
  virtual void requestShutdown(bool immediate) = 0;
  virtual ControlStatus status() const = 0;
};

}  // namespace pgsplit::session
