#pragma once
// A replica's lag behind the primary from the positions the health checks read, on pgsplit's own
// clock. The primary's WAL position is recorded each time it is seen to move; a replica that has
// replayed up to L at time t lags by the bytes the primary had past L by t, and by the time since
// the primary was first seen past L. Both are lower bounds (resolution: one check interval), never
// skewed by the servers' clocks, and zero for a caught-up replica of an idle primary — unlike
// now() - pg_last_xact_replay_timestamp(), which grows while nothing is written.
#include <cstdint>
#include <deque>

#include "pgsplit/routing/node_snapshot.hpp"

namespace pgsplit::health {

class LagTracker {
 public:
  using Clock = routing::Clock;
  struct Lag {
    std::uint64_t bytes = 0;
    std::uint64_t ms = 0;
  };

  // The primary had WAL up to `lsn` at `at` (when the check's answer arrived).
  void primarySample(Clock::time_point at, std::uint64_t lsn);
  // A replica had replayed up to `replayLsn` at `at` (when its check was sent).
  Lag replicaLag(Clock::time_point at, std::uint64_t replayLsn) const;
  // A different primary: positions of the old one say nothing about the new one.
  void reset() { history_.clear(); }
  std::size_t size() const { return history_.size(); }

  static constexpr std::size_t kMaxEntries = 4096;
  static constexpr Clock::duration kHorizon = std::chrono::minutes(10);

 private:
  struct Entry {
    Clock::time_point at;
    std::uint64_t lsn;
  };
  std::deque<Entry> history_;  // lsn strictly increasing, at non-decreasing
};

}  // namespace pgsplit::health
