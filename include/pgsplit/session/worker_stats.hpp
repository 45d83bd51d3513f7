#pragma once
// Counters of one worker. Only the worker's thread writes them (a relaxed load + store: a plain
// add, no locked instruction, no shared cache line with other workers); scrapes read them from
// any thread with relaxed loads and sum over the workers. Nothing here allocates or locks.
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "pgsplit/config/reload.hpp"

namespace pgsplit::session {

class Counter {
 public:
  void add(std::uint64_t n = 1) {
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  std::uint64_t get() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

// SQLSTATE classes are two characters of [0-9A-Z]: an index into a table of 36 * 36.
inline constexpr std::size_t kSqlstateClasses = 36 * 36;
// -1 when the text does not start with a valid class.
int sqlstateClassIndex(std::string_view sqlstate);
// "08" for the index of class 08.
std::array<char, 2> sqlstateClassName(std::size_t index);

struct NodeCounters {
  Counter unitsAsPrimary;  // units of work sent to the node while it was the primary
  Counter unitsAsReplica;  // ... while it was a replica
  Counter serverErrors;    // ErrorResponses it sent to clients
};

// A routing rule's (by statistics slot, config::RuleConfig::slot).
struct RuleCounters {
  Counter hits;        // units of work it decided
  Counter writesKept;  // ... of which it wanted on a replica but were writes (kept on the primary)
  std::atomic<std::int64_t> lastHitMs{0};  // Unix time in ms; 0 = never
};

struct WorkerStats {
  std::array<NodeCounters, config::kMaxNodeSlots> nodes;
  std::array<RuleCounters, config::kMaxRuleSlots> rules;
  std::array<Counter, kSqlstateClasses> serverErrorsByClass;  // relayed from PostgreSQL
  std::array<Counter, kSqlstateClasses> proxyErrorsByClass;   // raised by pgsplit itself
  Counter clientsAccepted;
  Counter sessionsPinned;

  // A unit of work (Simple Query, or extended batch up to Sync/Flush) written to `node`.
  void countUnit(std::size_t node, bool replica) {
    if (node >= nodes.size()) return;
    (replica ? nodes[node].unitsAsReplica : nodes[node].unitsAsPrimary).add();
  }
  // A unit of work a rule decided.
  void countRule(std::size_t slot, bool writeKept, std::int64_t nowUnixMs) {
    if (slot >= rules.size()) return;
    rules[slot].hits.add();
    if (writeKept) rules[slot].writesKept.add();
    rules[slot].lastHitMs.store(nowUnixMs, std::memory_order_relaxed);
  }
  // An ErrorResponse (its body) from `node` relayed to a client.
  void countServerError(std::size_t node, std::string_view errorBody);
  // An ErrorResponse pgsplit wrote itself.
  void countProxyError(std::string_view sqlstate);
};

}  // namespace pgsplit::session
