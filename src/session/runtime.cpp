#include "pgsplit/session/runtime.hpp"

#include <openssl/rand.h>

#include <algorithm>

#include <spdlog/spdlog.h>

#include "pgsplit/catalog/fetcher.hpp"
#include "pgsplit/session/client_session.hpp"

namespace pgsplit::session {

std::pair<std::uint32_t, std::uint32_t> CancelRegistry::add(WorkerContext* worker,
                                                            std::weak_ptr<ClientSession> session) {
  std::uint32_t secret = 0;
  RAND_bytes(reinterpret_cast<unsigned char*>(&secret), sizeof secret);
  std::lock_guard lock(mutex_);
  std::uint32_t pid;
  do {
    pid = nextPid_++;
    if (nextPid_ == 0 || nextPid_ > 0x7fffffff) nextPid_ = 1;
  } while (entries_.count(pid) != 0);
  entries_.emplace(pid, std::make_pair(secret, Entry{worker, std::move(session)}));
  return {pid, secret};
}

void CancelRegistry::remove(std::uint32_t pid) {
  std::lock_guard lock(mutex_);
  entries_.erase(pid);
}

std::optional<CancelRegistry::Entry> CancelRegistry::find(std::uint32_t pid,
                                                          std::uint32_t secret) const {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(pid);
  if (it == entries_.end() || it->second.first != secret) return std::nullopt;
  return it->second.second;
}

Runtime::Runtime(std::shared_ptr<const config::Config> cfg, routing::NodeSnapshot initial)
    : config(std::move(cfg)), nodes(std::move(initial)), catalog(catalog::boardOptions(*config)) {
  catalog.setOverrides(catalog::overridesOf(*config));
  unsigned char random[32];
  RAND_bytes(random, sizeof random);
  mockVerifier = protocol::makeScramVerifier(
      std::string_view(reinterpret_cast<const char*>(random), sizeof random));
}

void Runtime::wakePausedSessions() {
  for (WorkerContext* w : workers)
    asio::post(w->io(), [w] { w->releasePaused(); });
}

WorkerContext::WorkerContext(Runtime& runtime, asio::io_context& io, unsigned index)
    : runtime_(runtime),
      io_(io),
      index_(index),
      snapshot_(runtime.nodes),
      router_(routing::RouterOptions::from(*runtime.config)),
      classifier_(&runtime.catalog, &runtime.classifierCounters,
                  runtime.config->routing.classificationCacheEntries),
      pauseGate_(io.get_executor()),
      maintenanceTimer_(io) {}

pool::NodePool& WorkerContext::poolFor(std::size_t node, const std::string& database,
                                       const std::string& user) {
  auto key = std::make_tuple(node, database, user);
  auto it = pools_.find(key);
  if (it != pools_.end()) return *it->second;

  const auto& cfg = *runtime_.config;
  backend::LoginParams login = loginFor(cfg, node, database, user);
  const bool retired = node >= cfg.nodes.size() || cfg.nodes[node].retired;
  bool created = false;
  auto budget = runtime_.budgets.get({node, database, user}, runtime_.workerCount,
                                     retired ? 0 : cfg.maxServerConnectionsFor(user), created);

  Runtime* rt = &runtime_;
  auto observer = [rt](std::size_t idx, const backend::BackendConnection* conn,
                       const backend::LoginFailure* failure) {
    if (rt->config->nodes[idx].retired) return;  // removed by a reload: stays out
    if (conn) {
      // A new connection tells us the node's role for free (in_hot_standby, PostgreSQL 14+).
      routing::Role role = routing::Role::Unknown;
      if (conn->inHotStandby() == 1) role = routing::Role::Replica;
      if (conn->inHotStandby() == 0) role = routing::Role::Primary;
      const auto& cfgNode = rt->config->nodes[idx];
      if (cfgNode.role != config::NodeRole::Auto) role = routing::Role::Unknown;  // configured
      rt->nodes.observe(idx, role, true);
    } else if (failure && failure->errorMessage.empty()) {
      // We could not reach it at all (not a refusal like "no such database"): out until the
      // health checks see it again. (The session that tried logs it, with its id.)
      rt->nodes.observe(idx, routing::Role::Unknown, false);
    }
  };
  auto pool = std::make_unique<pool::NodePool>(io_.get_executor(), index_, std::move(budget),
                                               std::move(login), timingsFor(cfg, node),
                                               std::move(observer));
  auto& ref = *pool;
  pools_.emplace(std::move(key), std::move(pool));
  if (created) {
    // The other workers get their pool for the key now: each keeps its part of min_idle warm
    // and can give up its idle connections to this one's waiting clients.
    for (WorkerContext* w : runtime_.workers) {
      if (w == this) continue;
      asio::post(w->io(), [w, node, database, user] { w->poolFor(node, database, user); });
    }
  }
  return ref;
}

pool::PoolTimings WorkerContext::timingsFor(const config::Config& cfg, std::size_t node) {
  pool::PoolTimings t;
  t.checkoutTimeout = std::chrono::milliseconds(cfg.pool.checkoutTimeoutMs);
  t.idleTimeout = std::chrono::milliseconds(cfg.pool.idleTimeoutMs);
  t.lifetime = std::chrono::milliseconds(cfg.pool.serverLifetimeMs);
  t.minIdle = cfg.minIdleFor(node);
  // A reset is one round trip on a connection that was idle: the login timeout bounds it too.
  t.resetTimeout = std::chrono::milliseconds(cfg.pool.connectTimeoutMs);
  return t;
}

void WorkerContext::startMaintenance() {
  asio::co_spawn(io_, maintain(this), [](std::exception_ptr e) {
    if (e) logSessionBug(0, "pool maintenance", e);
  });
}

Task<void> WorkerContext::maintain(WorkerContext* self) {
  for (;;) {
    // Often enough to close an idle connection within a quarter of its timeout (and to refill
    // min_idle promptly), at most once a second, at least every 10 ms.
    const auto& pool = self->runtime_.config->pool;
    std::uint32_t shortest = 4000;
    for (std::uint32_t ms : {pool.idleTimeoutMs, pool.serverLifetimeMs})
      if (ms > 0) shortest = std::min(shortest, ms);
    const auto tick = std::chrono::milliseconds(std::clamp<std::uint32_t>(shortest / 4, 10, 1000));
    self->maintenanceTimer_.expires_after(tick);
    error_code ec;
    co_await self->maintenanceTimer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted) co_return;
    self->maintainPools();
  }
}

void WorkerContext::maintainPools() {
  const auto& snap = nodes();
  for (auto& [key, pool] : pools_) {
    const std::size_t node = std::get<0>(key);
    const bool up = node < snap.nodes.size() && snap.nodes[node].up;
    pool->maintain(up);
  }
}

backend::LoginParams WorkerContext::loginFor(const config::Config& cfg, std::size_t node,
                                             const std::string& database,
                                             const std::string& user) const {
  const auto& n = cfg.nodes.at(node);
  const auto* u = cfg.findUser(user);
  return backend::LoginParams{n.host,
                              n.port,
                              database,
                              user,
                              u ? u->password : std::string(),
                              std::chrono::milliseconds(cfg.pool.connectTimeoutMs),
                              node,
                              cfg.pool.maxPreparedStatements};
}

void WorkerContext::closeIdle() {
  for (auto& [key, pool] : pools_)
    pool->closeIdle();
}

}  // namespace pgsplit::session
