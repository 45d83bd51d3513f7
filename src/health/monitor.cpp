#include "pgsplit/health/monitor.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace pgsplit::health {

namespace {
// While two nodes claim to be the primary, say so again this often.
constexpr auto kSplitBrainRepeat = std::chrono::seconds(10);

routing::Role configuredRole(config::NodeRole r) {
  if (r == config::NodeRole::Primary) return routing::Role::Primary;
  if (r == config::NodeRole::Replica) return routing::Role::Replica;
  return routing::Role::Unknown;
}

std::string names(const routing::NodeSnapshot& s, std::size_t cluster) {
  std::string out;
  for (const auto& n : s.nodes) {
    if (n.cluster != cluster || !n.up || n.role != routing::Role::Primary) continue;
    if (!out.empty()) out += " and ";
    out += n.name;
  }
  return out;
}
}  // namespace

routing::NodeSnapshot initialSnapshot(const config::Config& config) {
  routing::NodeSnapshot snap;
  for (const auto& n : config.nodes) {
    routing::NodeState s;
    s.name = n.name;
    s.cluster = n.cluster;
    s.weight = n.weight;
    s.up = true;
    s.role = configuredRole(n.role);
    snap.nodes.push_back(std::move(s));
  }
  return snap;
}

Monitor::Monitor(std::shared_ptr<const config::Config> config, routing::NodeStateBoard& board)
    : config_(std::move(config)),
      board_(board),
      interval_(config_->health.intervalMs),
      timeout_(config_->health.timeoutMs),
      limits_(routing::RouterOptions::from(*config_).lag) {
  const std::string user = config_->healthUser();
  const std::string password = config_->healthPassword();
  for (const auto& n : config_->nodes) {
    probes_.push_back(std::make_unique<PgProbe>(
        io_.get_executor(), ProbeTarget{n.host, n.port, user, password, config_->health.database}));
    timers_.push_back(std::make_unique<asio::steady_timer>(io_));
  }
  roleMismatch_.assign(config_->nodes.size(), false);
  const std::size_t clusters = std::max<std::size_t>(1, config_->clusters.size());
  lag_.resize(clusters);
  trackedPrimary_.assign(clusters, -1);
  splitBrainLoggedAt_.assign(clusters, routing::Clock::time_point{});
}

Monitor::~Monitor() {
  stop();
}

void Monitor::probeAll() {
  // (A node removed by a reload keeps its slot, down: it is not checked.)
  for (std::size_t i = 0; i < probes_.size(); ++i)
    if (!config_->nodes[i].retired)
      asio::co_spawn(io_, checkOnce(i), [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);  // a bug: let it end the process loudly at start
      });
  io_.run();
  io_.restart();
}

void Monitor::start() {
  for (std::size_t i = 0; i < probes_.size(); ++i) {
    if (config_->nodes[i].retired) continue;
    asio::co_spawn(io_, nodeLoop(i), [i](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        spdlog::error("bug: the health check loop of node #{} ended: {}", i, ex.what());
      } catch (...) {
        spdlog::error("bug: the health check loop of node #{} ended", i);
      }
    });
  }
  thread_ = std::thread([this] { io_.run(); });
}

void Monitor::stop() {
  if (!thread_.joinable()) return;
  // Every wait is cancellable, so the loops end and run() returns.
  asio::post(io_, [this] {
    stopping_ = true;
    for (auto& t : timers_)
      t->cancel();
    for (auto& p : probes_)
      p->cancel();
  });
  thread_.join();
}

Task<void> Monitor::nodeLoop(std::size_t node) {
  asio::steady_timer& timer = *timers_[node];
  auto started = routing::Clock::now();
  while (!stopping_) {
    // From the start of one check to the start of the next; a slow check starts the next at once.
    timer.expires_at(started + interval_);
    error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (stopping_) break;
    started = routing::Clock::now();
    co_await checkOnce(node);
  }
}

Task<void> Monitor::checkOnce(std::size_t node) {
  ProbeResult result = co_await probes_[node]->check(timeout_);
  if (stopping_) co_return;  // a cancelled check says nothing about the node
  publish(node, std::move(result));
}

void Monitor::publish(std::size_t i, ProbeResult r) {
  const auto& cfg = config_->nodes[i];
  const routing::Role configured = configuredRole(cfg.role);
  if (r.up && configured != routing::Role::Unknown) {
    // The operator's word wins, but a contradiction is worth a warning (once).
    const bool mismatch = r.role != configured;
    if (mismatch && !roleMismatch_[i])
      spdlog::warn("node {} is configured as {} but answers as {}; keeping the configured role",
                   cfg.name, routing::toString(configured), routing::toString(r.role));
    roleMismatch_[i] = mismatch;
    r.role = configured;
  }
  auto before = board_.current();
  board_.update([&](routing::NodeSnapshot& s) {
    auto& n = s.nodes[i];
    n.up = r.up;
    if (!r.up) {
      n.lastError = r.error;
      return;  // role and position: as last known
    }
    n.lastError.clear();
    n.role = r.role;
    n.lsn = r.lsn;
    n.lsnSampledAt = r.sentAt;
    n.replayDelayMs = r.role == routing::Role::Replica ? r.replayDelayMs : -1;
    const std::size_t c = n.cluster < lag_.size() ? n.cluster : 0;
    const int primary = routing::Router::primaryOf(s, n.cluster);
    if (primary >= 0 && primary != trackedPrimary_[c]) {
      lag_[c].reset();  // positions of another primary say nothing about this one
      trackedPrimary_[c] = primary;
    }
    if (primary == static_cast<int>(i)) {
      lag_[c].primarySample(r.receivedAt, r.lsn);
      n.lagBytes = 0;
      n.lagMs = 0;
    } else if (n.role == routing::Role::Replica) {
      const auto lag = lag_[c].replicaLag(r.sentAt, r.lsn);
      n.lagBytes = lag.bytes;
      n.lagMs = lag.ms;
    }
  });
  logChanges(*before, *board_.current());
}

void Monitor::logChanges(const routing::NodeSnapshot& before, const routing::NodeSnapshot& after) {
  for (std::size_t i = 0; i < after.nodes.size() && i < before.nodes.size(); ++i) {
    const auto& was = before.nodes[i];
    const auto& now = after.nodes[i];
    const auto& cfg = config_->nodes[i];
    if (was.up && !now.up) {
      spdlog::warn("node {} ({}:{}) is down: {}", cfg.name, cfg.host, cfg.port, now.lastError);
    } else if (now.up && (!was.up || was.role != now.role)) {
      spdlog::info("node {} ({}:{}) is up as {}", cfg.name, cfg.host, cfg.port,
                   routing::toString(now.role));
    }
    if (!now.up || now.role != routing::Role::Replica) continue;
    const bool wasOk = was.role != routing::Role::Replica || routing::withinLagLimits(was, limits_);
    const bool ok = routing::withinLagLimits(now, limits_);
    if (wasOk && !ok)
      spdlog::warn(
          "replica {} is over the lag limit ({} bytes, {} ms behind): no reads until it "
          "catches up",
          cfg.name, now.lagBytes, now.lagMs);
    if (!wasOk && ok)
      spdlog::info("replica {} is back within the lag limits ({} bytes, {} ms behind)", cfg.name,
                   now.lagBytes, now.lagMs);
  }

  // Split brain and failover are per cluster: each has its own primary.
  const auto now = routing::Clock::now();
  for (std::size_t c = 0; c < splitBrainLoggedAt_.size(); ++c) {
    const bool named = config_->clusters.size() > 1;
    const std::string where = named ? " in cluster " + config_->clusters[c].name : "";
    const int claimsBefore = routing::Router::primaryClaims(before, c);
    const int claims = routing::Router::primaryClaims(after, c);
    if (claims >= 2 && (claimsBefore < 2 || now - splitBrainLoggedAt_[c] >= kSplitBrainRepeat)) {
      spdlog::error(
          "SPLIT BRAIN{}: nodes {} each answer pg_is_in_recovery() = false; writes are "
          "refused until only one primary remains",
          where, names(after, c));
      splitBrainLoggedAt_[c] = now;
    } else if (claims < 2 && claimsBefore >= 2) {
      spdlog::warn("split brain over{}: {} primary node(s) now", where, claims);
    }
    const int p = routing::Router::primaryOf(after, c);
    const int pBefore = routing::Router::primaryOf(before, c);
    if (p >= 0 && p != pBefore && pBefore >= 0)
      spdlog::warn("the primary{} is now node {} (was {})", where,
                   after.nodes[static_cast<std::size_t>(p)].name,
                   before.nodes[static_cast<std::size_t>(pBefore)].name);
  }
}

}  // namespace pgsplit::health
