#include "pgsplit/health/lag_tracker.hpp"

#include <algorithm>

namespace pgsplit::health {

void LagTracker::primarySample(Clock::time_point at, std::uint64_t lsn) {
  if (lsn == 0) return;
  if (!history_.empty()) {
    if (lsn <= history_.back().lsn) return;  // not moved (idle), or an older answer
    if (at < history_.back().at) at = history_.back().at;
  }
  history_.push_back({at, lsn});
  // Keep the last entry always: it is the primary's current position.
  while (history_.size() > kMaxEntries ||
         (history_.size() > 1 && at - history_.front().at > kHorizon))
    history_.pop_front();
}

LagTracker::Lag LagTracker::replicaLag(Clock::time_point at, std::uint64_t replayLsn) const {
  Lag lag;
  if (history_.empty()) return lag;
  // Bytes: the primary's position as last seen by `at`, past what the replica has replayed.
  auto after = std::upper_bound(history_.begin(), history_.end(), at,
                                [](Clock::time_point t, const Entry& e) { return t < e.at; });
  if (after != history_.begin()) {
    const std::uint64_t primaryLsn = std::prev(after)->lsn;
    if (primaryLsn > replayLsn) lag.bytes = primaryLsn - replayLsn;
  }
  // Time: since the primary was first seen past the replica's position.
  auto ahead = std::upper_bound(history_.begin(), history_.end(), replayLsn,
                                [](std::uint64_t l, const Entry& e) { return l < e.lsn; });
  if (ahead != history_.end() && ahead->at < at)
    lag.ms = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(at - ahead->at).count());
  return lag;
}

}  // namespace pgsplit::health
