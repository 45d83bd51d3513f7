#include "pgsplit/pool/server_budget.hpp"

#include "pgsplit/backend/backend_connection.hpp"

#include "pgsplit/pool/node_pool.hpp"

namespace pgsplit::pool {

// Memory order: everything is sequentially consistent. The two races that matter are of the
// "store one, load the other" kind (a release that frees a slot against an enqueue that finds none
// free; a connection going idle on one worker against a waiter enqueued on another), and with
// seq_cst at least one side of each sees the other.

ServerBudget::ServerBudget(unsigned workers, std::uint32_t limit)
    : limit_(limit),
      idle_(std::make_unique<std::atomic<std::uint32_t>[]>(workers == 0 ? 1 : workers)),
      workers_(workers == 0 ? 1 : workers),
      members_(workers == 0 ? 1 : workers),
      byWorker_(workers == 0 ? 1 : workers) {
  for (unsigned i = 0; i < workers_; ++i)
    idle_[i].store(0);
}

void ServerBudget::attach(unsigned worker, Member member) {
  std::lock_guard lock(mutex_);
  if (worker < members_.size()) members_[worker] = std::move(member);
}

void ServerBudget::detach(unsigned worker) {
  std::lock_guard lock(mutex_);
  if (worker < members_.size()) members_[worker] = Member{};
  if (worker < workers_) idle_[worker].store(0);
}

bool ServerBudget::tryAcquire() {
  if (waiting_.load() != 0) return false;  // arrival order: they were here first
  std::uint32_t open = open_.load();
  while (open < limit_.load()) {
    if (open_.compare_exchange_weak(open, open + 1)) return true;
  }
  return false;
}

void ServerBudget::release() {
  open_.fetch_sub(1);
  if (waiting_.load() == 0) return;
  std::lock_guard lock(mutex_);
  grantFreeSlotsLocked();
}

void ServerBudget::grantFreeSlotsLocked() {
  while (!queue_.empty()) {
    std::uint32_t open = open_.load();
    if (open >= limit_.load()) return;
    if (!open_.compare_exchange_weak(open, open + 1)) continue;
    auto head = queue_.begin();
    const std::uint64_t ticket = head->first;
    const unsigned worker = head->second.worker;
    queue_.erase(head);
    if (worker < workers_) byWorker_[worker].erase(ticket);
    waiting_.store(static_cast<std::uint32_t>(queue_.size()));
    if (worker >= members_.size() || members_[worker].pool == nullptr) {
      open_.fetch_sub(1);  // that worker's pool is gone (shutdown): nobody to connect
      continue;
    }
    asio::post(members_[worker].executor,
               [pool = members_[worker].pool, ticket] { pool->slotGranted(ticket); });
  }
}

std::uint64_t ServerBudget::enqueue(unsigned worker, Clock::time_point since) {
  std::lock_guard lock(mutex_);
  if (queue_.empty()) {
    // A slot freed between the caller's tryAcquire and now.
    std::uint32_t open = open_.load();
    while (open < limit_.load()) {
      if (open_.compare_exchange_weak(open, open + 1)) return 0;
    }
  }
  const std::uint64_t ticket = nextTicket_++;
  queue_.emplace(ticket, Waiter{worker, since});
  if (worker < workers_) byWorker_[worker].emplace(ticket, since);
  waiting_.store(static_cast<std::uint32_t>(queue_.size()));
  // A release that saw nobody waiting may have freed a slot just now.
  grantFreeSlotsLocked();
  if (queue_.count(ticket) != 0) askForIdleLocked(worker);
  return ticket;
}

void ServerBudget::askForIdleLocked(unsigned except) {
  // The worker with the most idle connections gives one up (its slot then comes to the queue).
  unsigned best = workers_;
  std::uint32_t most = 0;
  for (unsigned w = 0; w < workers_; ++w) {
    if (w == except) continue;
    const std::uint32_t n = idle_[w].load();
    if (n > most) {
      most = n;
      best = w;
    }
  }
  if (best == workers_ || members_[best].pool == nullptr) return;
  asio::post(members_[best].executor, [pool = members_[best].pool] { pool->surrenderIdle(); });
}

bool ServerBudget::withdraw(std::uint64_t ticket) {
  std::lock_guard lock(mutex_);
  auto it = queue_.find(ticket);
  const bool found = it != queue_.end();
  if (found) {
    if (it->second.worker < workers_) byWorker_[it->second.worker].erase(ticket);
    queue_.erase(it);
  }
  waiting_.store(static_cast<std::uint32_t>(queue_.size()));
  return found;
}

ServerBudget::RemoteWaiter ServerBudget::oldestRemoteLocked(unsigned worker, bool withPool) const {
  // The lowest ticket among the other workers' oldest.
  RemoteWaiter r;
  for (unsigned w = 0; w < workers_; ++w) {
    if (w == worker || byWorker_[w].empty()) continue;
    if (withPool && (w >= members_.size() || members_[w].pool == nullptr)) continue;
    const auto& [ticket, since] = *byWorker_[w].begin();
    if (r.ticket == 0 || ticket < r.ticket) r = {ticket, w, since};
  }
  return r;
}

bool ServerBudget::handOver(unsigned worker, std::shared_ptr<backend::BackendConnection>& conn,
                            Clock::time_point waitingSince) {
  if (waiting_.load() == 0) return false;  // nobody waits: no lock
  std::lock_guard lock(mutex_);
  const RemoteWaiter to = oldestRemoteLocked(worker, true);
  if (to.ticket == 0 || !(to.since < waitingSince)) return false;
  byWorker_[to.worker].erase(to.ticket);
  queue_.erase(to.ticket);
  waiting_.store(static_cast<std::uint32_t>(queue_.size()));
  const int fd = conn->detachSocket();
  asio::post(members_[to.worker].executor, [pool = members_[to.worker].pool, ticket = to.ticket, fd,
                                            conn = std::move(conn)]() mutable {
    conn->attachSocket(pool->executor(), fd);
    pool->adopt(ticket, std::move(conn));
  });
  conn = nullptr;
  return true;
}

bool ServerBudget::remoteWaiterFirst(unsigned worker, Clock::time_point localSince,
                                     Clock::duration margin) {
  std::lock_guard lock(mutex_);
  const RemoteWaiter r = oldestRemoteLocked(worker, false);
  return r.ticket != 0 && r.since + margin < localSince;
}

bool ServerBudget::tryAcquireWarm(std::uint32_t minIdle) {
  std::lock_guard lock(mutex_);
  if (!queue_.empty() || idleTotal() + warming_ >= minIdle) return false;
  std::uint32_t open = open_.load();
  while (open < limit_.load()) {
    if (open_.compare_exchange_weak(open, open + 1)) {
      ++warming_;
      return true;
    }
  }
  return false;
}

void ServerBudget::warmDone() {
  std::lock_guard lock(mutex_);
  if (warming_ > 0) --warming_;
}

void ServerBudget::setIdle(unsigned worker, std::uint32_t idle) {
  if (worker < workers_) idle_[worker].store(idle);
}

std::uint32_t ServerBudget::idleTotal() const {
  std::uint32_t sum = 0;
  for (unsigned w = 0; w < workers_; ++w)
    sum += idle_[w].load();
  return sum;
}

void ServerBudget::setLimit(std::uint32_t limit) {
  if (limit_.exchange(limit) >= limit) return;
  std::lock_guard lock(mutex_);
  grantFreeSlotsLocked();
}

void ServerBudget::setServerParameters(std::shared_ptr<const Parameters> parameters) {
  std::lock_guard lock(mutex_);
  serverParameters_ = std::move(parameters);
}

std::shared_ptr<const ServerBudget::Parameters> ServerBudget::serverParameters() const {
  std::lock_guard lock(mutex_);
  return serverParameters_;
}

std::shared_ptr<ServerBudget> BudgetRegistry::get(const Key& key, unsigned workers,
                                                  std::uint32_t limit, bool& created) {
  std::lock_guard lock(mutex_);
  auto& slot = budgets_[key];
  created = slot == nullptr;
  if (created) slot = std::make_shared<ServerBudget>(workers, limit);
  return slot;
}

}  // namespace pgsplit::pool
