#pragma once
// The process's lifecycle on the main thread: signals, reloads and the drain. Its io_context also
// runs the HTTP endpoint (admin::HttpServer).
//
//   SIGHUP or RELOAD      re-read the file; a valid one is published for new logins and new units
//                         of work, an invalid one is logged (file:line:column) and counted
//   SIGTERM or SHUTDOWN   drain: stop accepting, /readyz false, close each client as soon as it
//                         has no transaction open, and the rest after shutdown_timeout_ms (57P01)
//   SIGINT (or a second)  close every client now (57P01)
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "pgsplit/asio.hpp"
#include "pgsplit/config/config.hpp"
#include "pgsplit/net/server.hpp"
#include "pgsplit/session/control_plane.hpp"
#include "pgsplit/session/runtime.hpp"

namespace pgsplit::net {

class Controller final : public session::ControlPlane {
 public:
  // Around the publication of a reloaded configuration (control thread): `before` stops what
  // reads the node list (the health monitor), `after` starts it again with the new one.
  struct Hooks {
    std::function<void()> beforeNodesChange;
    std::function<void(std::shared_ptr<const config::Config>)> afterNodesChange;
  };

  Controller(session::Runtime& runtime, Server& server, std::string configPath, Hooks hooks);
  ~Controller() override;
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  asio::io_context& io() { return io_; }
  // Runs the control loop on this thread until the drain is over; returns the exit code.
  int run();

  void requestReload(std::function<void(session::ReloadOutcome)> done) override;
  void requestShutdown(bool immediate) override;
  session::ControlStatus status() const override;

 private:
  session::ReloadOutcome reload();  // control thread
  void applyToBoard(const config::Config& current, const config::Config& next);
  void waitForSignal();
  void startDrain(bool immediate);
  static Task<void> drain(Controller* self);
  void wakeDrain();

  session::Runtime& runtime_;
  Server& server_;
  std::string configPath_;
  Hooks hooks_;
  asio::io_context io_{1};
  asio::signal_set signals_;

  // Control thread only.
  bool draining_ = false;
  bool immediate_ = false;
  asio::steady_timer* drainSignal_ = nullptr;  // the drain's wake-up, while it waits
  int exitCode_ = 0;

  // Read by status() from any thread.
  std::atomic<std::uint64_t> reloads_{0};
  std::atomic<std::uint64_t> reloadFailures_{0};
  std::atomic<std::int64_t> lastReloadUnix_{0};
  std::atomic<bool> lastReloadOk_{true};
};

}  // namespace pgsplit::net
