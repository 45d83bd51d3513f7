#include "pgsplit/net/controller.hpp"

#include <signal.h>

#include <spdlog/spdlog.h>

#include "pgsplit/config/reload.hpp"

namespace pgsplit::net {

namespace {
constexpr auto kDrainPoll = std::chrono::milliseconds(100);
constexpr auto kWindDown = std::chrono::seconds(3);

std::int64_t unixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
}  // namespace

Controller::Controller(session::Runtime& runtime, Server& server, std::string configPath,
                       Hooks hooks)
    : runtime_(runtime),
      server_(server),
      configPath_(std::move(configPath)),
      hooks_(std::move(hooks)),
      signals_(io_, SIGINT, SIGTERM, SIGHUP) {
  runtime_.control = this;
}

Controller::~Controller() {
  runtime_.control = nullptr;
}

int Controller::run() {
  waitForSignal();
  io_.run();
  return exitCode_;
}

void Controller::waitForSignal() {
  signals_.async_wait([this](const error_code& ec, int signo) {
    if (ec) return;
    if (signo == SIGHUP) {
      spdlog::info("received SIGHUP: reloading {}", configPath_);
      reload();
    } else if (signo == SIGTERM) {
      spdlog::info("received SIGTERM: draining");
      startDrain(false);
    } else {
      spdlog::info("received SIGINT: closing every client now");
      startDrain(true);
    }
    waitForSignal();
  });
}

void Controller::requestReload(std::function<void(session::ReloadOutcome)> done) {
  asio::post(io_, [this, done = std::move(done)] {
    session::ReloadOutcome outcome = reload();
    if (done) done(std::move(outcome));
  });
}

void Controller::requestShutdown(bool immediate) {
  asio::post(io_, [this, immediate] { startDrain(immediate); });
}

session::ControlStatus Controller::status() const {
  session::ControlStatus s;
  s.reloads = reloads_.load();
  s.reloadFailures = reloadFailures_.load();
  s.lastReloadUnix = lastReloadUnix_.load();
  s.lastReloadOk = lastReloadOk_.load();
  s.draining = runtime_.draining.load();
  s.startedAt = runtime_.startedAt;
  return s;
}

session::ReloadOutcome Controller::reload() {
  session::ReloadOutcome out;
  lastReloadUnix_ = unixNow();
  auto fail = [&](std::vector<std::string> errors) {
    out.errors = std::move(errors);
    ++reloadFailures_;
    lastReloadOk_ = false;
    spdlog::error("reload rejected; the configuration in force (generation {}) stays:",
                  runtime_.config.current().number);
    for (const auto& e : out.errors)
      spdlog::error("  {}", e);
    out.generation = runtime_.config.current().number;
    return out;
  };
  config::LoadResult loaded = config::loadFile(configPath_);
  if (!loaded.errors.empty()) return fail(std::move(loaded.errors));
  const auto current = runtime_.config.snapshot();
  config::ReloadPlan plan = config::planReload(*current, *loaded.config);
  if (!plan.error.empty()) return fail({configPath_ + ": " + plan.error});

  // The health monitor is rebuilt around the new node list (and the user it logs in as).
  if (hooks_.beforeNodesChange) hooks_.beforeNodesChange();
  applyToBoard(*current, *plan.config);
  const auto& gen = runtime_.config.publish(plan.config);
  if (hooks_.afterNodesChange) hooks_.afterNodesChange(plan.config);
  // Each worker brings its pools in line (limits, passwords) on its own thread.
  for (session::WorkerContext* w : runtime_.workers)
    asio::post(w->io(), [w] { w->reconfigure(); });
  if (plan.config->log.level != current->log.level)
    spdlog::set_level(spdlog::level::from_str(plan.config->log.level));

  ++reloads_;
  lastReloadOk_ = true;
  out.ok = true;
  out.generation = gen.number;
  out.changes = std::move(plan.changes);
  out.needRestart = std::move(plan.needRestart);
  spdlog::info("reload applied: configuration generation {} ({} change{})", gen.number,
               out.changes.size(), out.changes.size() == 1 ? "" : "s");
  for (const auto& c : out.changes)
    spdlog::info("  {}", c);
  for (const auto& r : out.needRestart)
    spdlog::warn("  not applied, needs a restart: {}", r);
  return out;
}

// The node board follows the configuration: names, weights, configured roles; new slots start
// as the configuration describes them (up, role unknown for "auto" until checked); retired
// slots are down and serve nothing.
void Controller::applyToBoard(const config::Config& current, const config::Config& next) {
  runtime_.nodes.update([&](routing::NodeSnapshot& s) {
    for (std::size_t i = 0; i < next.nodes.size(); ++i) {
      const config::NodeConfig& n = next.nodes[i];
      const routing::Role configured = n.role == config::NodeRole::Primary ? routing::Role::Primary
                                       : n.role == config::NodeRole::Replica
                                           ? routing::Role::Replica
                                           : routing::Role::Unknown;
      if (i >= s.nodes.size()) {
        routing::NodeState fresh;
        fresh.name = n.name;
        fresh.cluster = n.cluster;
        fresh.weight = n.weight;
        fresh.up = true;
        fresh.role = configured;
        s.nodes.push_back(std::move(fresh));
        continue;
      }
      routing::NodeState& st = s.nodes[i];
      const bool wasRetired = i < current.nodes.size() && current.nodes[i].retired;
      st.name = n.name;
      st.weight = n.weight;
      st.cluster = n.cluster;
      if (n.retired) {
        st.up = false;
        st.role = routing::Role::Unknown;
        st.lsn = 0;
        continue;
      }
      if (configured != routing::Role::Unknown) st.role = configured;
      if (wasRetired) st.up = true;  // added back: checked again from now on
    }
  });
}

void Controller::startDrain(bool immediate) {
  if (draining_) {
    if (immediate && !immediate_) {
      spdlog::info("closing the remaining clients now");
      immediate_ = true;
      wakeDrain();
    }
    return;
  }
  draining_ = true;
  immediate_ = immediate;
  runtime_.draining = true;
  server_.stopAccepting();
  asio::co_spawn(io_, drain(this), [this](std::exception_ptr e) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        spdlog::error("bug: exception escaped the drain: {}", ex.what());
      }
      io_.stop();
    }
  });
}

void Controller::wakeDrain() {
  if (drainSignal_) drainSignal_->cancel();
}

Task<void> Controller::drain(Controller* self) {
  auto& rt = self->runtime_;
  const auto timeout = std::chrono::milliseconds(rt.config->server.shutdownTimeoutMs);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  asio::steady_timer timer(self->io_);
  self->drainSignal_ = &timer;
  error_code ec;
  if (!self->immediate_) {
    spdlog::info("draining: no new clients; open transactions have up to {} ms to finish",
                 timeout.count());
    for (;;) {
      const std::size_t left = co_await session::sumOverWorkers(
          &rt, [](session::WorkerContext& w) { return w.closeIdleSessions(); });
      spdlog::debug("drain: {} client{} still in a transaction", left, left == 1 ? "" : "s");
      if (left == 0 || self->immediate_) break;
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) {
        spdlog::warn(
            "drain: shutdown_timeout_ms ({} ms) is up; closing {} client{} still in a "
            "transaction",
            timeout.count(), left, left == 1 ? "" : "s");
        break;
      }
      timer.expires_after(
          std::min<std::chrono::steady_clock::duration>(kDrainPoll, deadline - now));
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  }
  // Everyone left (admin consoles too) gets 57P01; then give the sessions a moment to return
  // their server connections.
  const auto windDown = std::chrono::steady_clock::now() + kWindDown;
  for (;;) {
    const std::size_t left = co_await session::sumOverWorkers(
        &rt, [](session::WorkerContext& w) { return w.closeAllSessions(); });
    spdlog::debug("drain: {} session{} winding down", left, left == 1 ? "" : "s");
    if (left == 0 || std::chrono::steady_clock::now() >= windDown) break;
    timer.expires_after(std::chrono::milliseconds(20));
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  self->drainSignal_ = nullptr;
  spdlog::info("drain complete; exiting");
  self->io_.stop();
}

}  // namespace pgsplit::net
