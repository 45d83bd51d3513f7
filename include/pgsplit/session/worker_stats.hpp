#pragma once
// Counters and latency histograms of one worker. Only the worker's thread writes them (a relaxed
// load + store: a plain add, no locked instruction, no shared cache line with other workers);
// scrapes read them from any thread with relaxed loads and sum over the workers. Nothing here
// locks; the only allocation is a node's histograms, once, the first time the worker uses it.
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "pgsplit/config/reload.hpp"
#include "pgsplit/session/counter.hpp"
#include "pgsplit/session/latency_histogram.hpp"

namespace pgsplit::session {

// SQLSTATE classes are two characters of [0-9A-Z]: an index into a table of 36 * 36.
inline constexpr std::size_t kSqlstateClasses = 36 * 36;
// -1 when the text does not start with a valid class.
int sqlstateClassIndex(std::string_view sqlstate);
// "08" for the index of class 08.
std::array<char, 2> sqlstateClassName(std::size_t index);

struct NodeCounters {
  Counter unitsAsPrimary;   // units of work sent to the node while it was the primary
  Counter unitsAsReplica;   // ... while it was a replica
  Counter errorsAsPrimary;  // ErrorResponses it sent to clients, as the primary
  Counter errorsAsReplica;  // ... as a replica
};

// Latencies of one node on one worker.
struct NodeLatency {
  // Units of work: from writing the unit to the node until its ReadyForQuery was written to the
  // client, by the node's role when the unit was sent.
  LatencyHistogram asPrimary;
  LatencyHistogram asReplica;
  // Checkouts from the node's pools: from asking for a connection until having one (an idle one
  // at once, a new one after its login, or one released while waiting in line).
  LatencyHistogram poolWait;
};

struct WorkerStats {
  WorkerStats() = default;
  ~WorkerStats();
  WorkerStats(const WorkerStats&) = delete;
  WorkerStats& operator=(const WorkerStats&) = delete;

  std::array<NodeCounters, config::kMaxNodeSlots> nodes;
  std::array<Counter, kSqlstateClasses> serverErrorsByClass;  // relayed from PostgreSQL
  std::array<Counter, kSqlstateClasses> proxyErrorsByClass;   // raised by pgsplit itself
  Counter clientsAccepted;
  Counter sessionsPinned;

  // A unit of work (Simple Query, or extended batch up to Sync/Flush) written to `node`.
  void countUnit(std::size_t node, bool replica) {
    if (node >= nodes.size()) return;
    (replica ? nodes[node].unitsAsReplica : nodes[node].unitsAsPrimary).add();
  }
  // An ErrorResponse (its body) from `node`, as a replica or not, relayed to a client.
  void countServerError(std::size_t node, bool replica, std::string_view errorBody);
  // An ErrorResponse pgsplit wrote itself.
  void countProxyError(std::string_view sqlstate);

  // The worker's thread only: the node's histograms, allocated when first used (once per node
  // and worker, so a worker pays memory only for the nodes it talks to); nullptr past the slots.
  NodeLatency* latency(std::size_t node) {
    if (node >= latency_.size()) return nullptr;
    NodeLatency* l = latency_[node].load(std::memory_order_relaxed);
    return l != nullptr ? l : allocateLatency(node);
  }
  // Any thread: nullptr until the worker used the node.
  const NodeLatency* latencyIfAny(std::size_t node) const {
    return node < latency_.size() ? latency_[node].load(std::memory_order_acquire) : nullptr;
  }

 private:
  NodeLatency* allocateLatency(std::size_t node);
  std::array<std::atomic<NodeLatency*>, config::kMaxNodeSlots> latency_{};
};

}  // namespace pgsplit::session
