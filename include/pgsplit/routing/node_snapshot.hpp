#pragma once
// What the router knows about the nodes: an immutable snapshot, published by the health side and
// read by the workers. Workers keep a private copy and refresh it only when the version moves, so
// the per-query path reads one atomic and takes no lock.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace pgsplit::routing {

enum class Role : std::uint8_t { Unknown, Primary, Replica };

using Clock = std::chrono::steady_clock;

struct NodeState {
  std::string name;
  Role role = Role::Unknown;
  bool up = false;
  std::uint32_t weight = 1;
  // WAL position: a replica's last replayed LSN, a primary's insert LSN; 0 = unknown.
  std::uint64_t lsn = 0;
  // When the check that read `lsn` started.
  Clock::time_point lsnSampledAt{};
  // A replica's lag behind the primary, as the health monitor measured it (0 on a primary, when
  // unknown, or caught up). Both are lower bounds: bytes of WAL the primary had when the replica
  // was checked and the replica had not replayed; how long ago the primary was first seen past the
  // replica's replay position (so an idle primary never makes a replica look late).
  std::uint64_t lagBytes = 0;
  std::uint64_t lagMs = 0;
  // What the replica itself reports: now() - pg_last_xact_replay_timestamp() while it has WAL
  // left to replay, 0 when it has replayed all it received; -1 unknown. For operators only.
  std::int64_t replayDelayMs = -1;
  // Why the last check failed (one line), while the node is down.
  std::string lastError{};
};

struct NodeSnapshot {
  std::uint64_t version = 0;
  std::vector<NodeState> nodes;  // index = position in the config's [[nodes]]
};

// "16/B374D848" -> 0x16B374D848; 0 when the text is not an LSN.
std::uint64_t parseLsn(std::string_view text);
// 0x16B374D848 -> "16/B374D848".
std::string lsnText(std::uint64_t lsn);

class NodeStateBoard {
 public:
  explicit NodeStateBoard(NodeSnapshot initial);

  // The current snapshot (takes the lock; for publishers and for refreshing a worker's copy).
  std::shared_ptr<const NodeSnapshot> current() const;
  std::uint64_t version() const { return version_.load(std::memory_order_acquire); }

  // Applies a change to a copy of the current snapshot and publishes it (bumps the version).
  template <typename F>
  void update(F&& change) {
    std::lock_guard lock(mutex_);
    auto next = std::make_shared<NodeSnapshot>(*snapshot_);
    change(*next);
    next->version = snapshot_->version + 1;
    snapshot_ = std::move(next);
    version_.store(snapshot_->version, std::memory_order_release);
  }
  // Records what a node told us about itself (e.g. a new backend connection's in_hot_standby).
  void observe(std::size_t node, Role role, bool up);

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const NodeSnapshot> snapshot_;
  std::atomic<std::uint64_t> version_{0};
};

// A worker's view: refreshed cheaply before each decision.
class SnapshotCache {
 public:
  explicit SnapshotCache(const NodeStateBoard& board) : board_(board), snap_(board.current()) {}
  const NodeSnapshot& get() {
    if (board_.version() != snap_->version) snap_ = board_.current();
    return *snap_;
  }

 private:
  const NodeStateBoard& board_;
  std::shared_ptr<const NodeSnapshot> snap_;
};

const char* toString(Role r);

}  // namespace pgsplit::routing
