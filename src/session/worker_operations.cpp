// WorkerContext: the operations side (inspection, drain, reload) and gathering reports from every
// worker. Each worker's part runs on its own thread; nothing here is on the query path.
#include <algorithm>

#include <spdlog/spdlog.h>

#include "pgsplit/session/client_session.hpp"
#include "pgsplit/session/runtime.hpp"

namespace pgsplit::session {

void WorkerContext::track(const std::shared_ptr<ClientSession>& session) {
  if (sessions_.size() >= pruneAt_) {
    pruneTracked();
    pruneAt_ = std::max<std::size_t>(64, sessions_.size() * 2);
  }
  sessions_.push_back({session, std::chrono::system_clock::now()});
}

void WorkerContext::trackAdmin(std::weak_ptr<AdminConnection> connection) {
  std::erase_if(admins_, [](const auto& a) { return a.expired(); });
  admins_.push_back(std::move(connection));
}

void WorkerContext::pruneTracked() {
  std::erase_if(sessions_, [](const TrackedSession& t) { return t.session.expired(); });
}

WorkerReport WorkerContext::report() {
  pruneTracked();
  WorkerReport r;
  r.worker = index_;
  r.clients.reserve(sessions_.size());
  for (const auto& t : sessions_) {
    auto s = t.session.lock();
    if (!s) continue;
    ClientInfo info = s->describe();
    info.connectedAt = t.since;
    r.clients.push_back(std::move(info));
  }
  const auto now = std::chrono::steady_clock::now();
  for (const auto& [key, pool] : pools_) {
    PoolInfo p;
    p.worker = index_;
    p.node = std::get<0>(key);
    p.database = std::get<1>(key);
    p.user = std::get<2>(key);
    p.open = pool->openConnections();
    p.idle = static_cast<std::uint32_t>(pool->idleConnections());
    p.waiting = static_cast<std::uint32_t>(pool->waiting());
    p.max = pool->maxConnections();  // the key's limit, for the whole process
    const auto& st = pool->stats();
    p.waits = st.waits;
    p.waitMicros = st.waitMicros;
    p.timeouts = st.timeouts;
    p.connects = st.connects;
    p.connectFailures = st.connectFailures;
    p.resets = st.resets;
    p.resetFailures = st.resetFailures;
    p.idleTimeouts = st.idleTimeouts;
    p.lifetimeCloses = st.lifetimeCloses;
    p.handedOver = st.handedOver;
    for (const auto& conn : pool->idle())
      p.idleServers.push_back({conn->pid(), now - conn->lastUsed()});
    r.pools.push_back(std::move(p));
  }
  std::erase_if(admins_, [](const auto& a) { return a.expired(); });
  r.adminConnections = admins_.size();
  return r;
}

std::size_t WorkerContext::closeIdleSessions() {
  pruneTracked();
  std::size_t remaining = 0;
  for (const auto& t : sessions_) {
    auto s = t.session.lock();
    if (!s) continue;
    if (s->idleForShutdown())
      s->closeForShutdown();
    else
      ++remaining;
  }
  return remaining;
}

std::size_t WorkerContext::busyForPause(const std::string& database) {
  pruneTracked();
  std::size_t busy = 0;
  for (const auto& t : sessions_)
    if (auto s = t.session.lock(); s && s->busyForPause(database)) ++busy;
  return busy;
}

std::size_t WorkerContext::closeAllSessions() {
  pruneTracked();
  for (const auto& t : sessions_)
    if (auto s = t.session.lock()) s->closeForShutdown();
  for (const auto& a : admins_)
    if (auto c = a.lock()) c->closeForShutdown();
  closeIdle();
  pruneTracked();
  return sessions_.size();
}

void WorkerContext::reconfigure() {
  const auto& cfg = *runtime_.config;
  router_ = routing::Router(routing::RouterOptions::from(cfg));  // lag limits, read-your-writes
  for (auto& [key, pool] : pools_) {
    const auto& [node, database, user] = key;
    if (node >= cfg.nodes.size() || cfg.nodes[node].retired) {
      // Connections in use close when they come back (over the limit of 0).
      pool->reconfigure(pool->login(), timingsFor(cfg, node), 0);
      continue;
    }
    backend::LoginParams login = loginFor(cfg, node, database, user);
    // A user removed from the file keeps its connected clients; their new server connections
    // still log in with the password they had.
    if (cfg.findUser(user) == nullptr) login.password = pool->login().password;
    // (Every worker sets the same shared limit; the first one to do so serves waiting clients.)
    pool->reconfigure(std::move(login), timingsFor(cfg, node), cfg.maxServerConnectionsFor(user));
  }
}

namespace {

template <class T>
struct Gathering {
  std::vector<std::optional<T>> parts;
  std::size_t remaining = 0;
  asio::steady_timer* signal = nullptr;  // valid while !abandoned
  bool abandoned = false;
};

// Posts fn to every worker, and each result back to the caller's executor: only the caller's
// thread touches the gathering. Results missing at the deadline are left out.
template <class T>
Task<std::vector<T>> onEveryWorker(Runtime* runtime, std::function<T(WorkerContext&)> fn,
                                   std::chrono::milliseconds deadline) {
  auto ex = co_await asio::this_coro::executor;
  auto g = std::make_shared<Gathering<T>>();
  const std::size_t n = runtime->workers.size();
  g->parts.resize(n);
  g->remaining = n;
  asio::steady_timer timer(ex);
  timer.expires_after(deadline);
  g->signal = &timer;
  for (std::size_t i = 0; i < n; ++i) {
    WorkerContext* w = runtime->workers[i];
    asio::post(w->io(), [g, w, i, ex, fn] {
      T r = fn(*w);
      asio::post(ex, [g, i, r = std::move(r)]() mutable {
        if (g->abandoned) return;
        g->parts[i] = std::move(r);
        if (--g->remaining == 0) g->signal->cancel();
      });
    });
  }
  if (n > 0) {
    error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  g->abandoned = true;
  std::vector<T> out;
  for (auto& p : g->parts)
    if (p) out.push_back(std::move(*p));
  co_return out;
}

}  // namespace

Task<std::vector<WorkerReport>> gatherReports(Runtime* runtime,
                                              std::chrono::milliseconds deadline) {
  co_return co_await onEveryWorker<WorkerReport>(
      runtime, [](WorkerContext& w) { return w.report(); }, deadline);
}

Task<std::vector<std::vector<QueryStatsRow>>> gatherQueryStats(Runtime* runtime,
                                                               std::chrono::milliseconds deadline) {
  co_return co_await onEveryWorker<std::vector<QueryStatsRow>>(
      runtime, [](WorkerContext& w) { return w.queryStats().rows(); }, deadline);
}

Task<std::size_t> sumOverWorkers(Runtime* runtime, std::function<std::size_t(WorkerContext&)> fn,
                                 std::chrono::milliseconds deadline) {
  auto parts = co_await onEveryWorker<std::size_t>(runtime, std::move(fn), deadline);
  std::size_t sum = 0;
  for (std::size_t p : parts)
    sum += p;
  co_return sum;
}

}  // namespace pgsplit::session
