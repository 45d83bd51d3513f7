#include "pgsplit/session/unit_tracker.hpp"

#include <spdlog/spdlog.h>

#include "pgsplit/session/runtime.hpp"

namespace pgsplit::session {

void UnitTracker::sent(const void* conn, std::size_t node, bool replica, bool flushPart,
                       bool answered, QueryStatsTable::Ref statement) {
  const bool checkedOutForIt = checkoutConn_ != nullptr && checkoutConn_ == conn;
  checkoutConn_ = nullptr;
  if (flushPart) {
    if (!partSent_) {
      partSent_ = true;
      partSentAt_ = checkedOutForIt ? checkoutAt_ : Clock::now();
    }
    return;  // the statements of the next parts join the unit's key
  }
  key_ = last_ = 0;
  if (!answered) {  // the server skips its Sync (an error earlier in the pipeline): no answer
    partSent_ = false;
    return;
  }
  Clock::time_point at;
  if (partSent_)
    at = partSentAt_;
  else
    at = checkedOutForIt ? checkoutAt_ : Clock::now();
  partSent_ = false;
  inFlight_.push({at, statement, static_cast<std::uint32_t>(node), replica});
}

void UnitTracker::delivered(WorkerContext& worker, std::uint64_t sessionId) {
  if (answered_.empty()) return;
  const Clock::time_point now = Clock::now();
  WorkerStats& stats = worker.stats();
  QueryStatsTable& statements = worker.queryStats();
  const config::Config& cfg = *worker.runtime().config;
  const std::uint64_t slowNanos = std::uint64_t{cfg.log.slowStatementMs} * 1'000'000;
  for (const Unit& u : answered_) {
    const auto elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(now - u.sentAt);
    const std::uint64_t nanos =
        elapsed.count() > 0 ? static_cast<std::uint64_t>(elapsed.count()) : 0;
    if (NodeLatency* l = stats.latency(u.node))
      (u.replica ? l->asReplica : l->asPrimary).observe(nanos);
    statements.record(u.statement, nanos, u.replica);
    if (slowNanos == 0 || nanos < slowNanos) continue;
    // The slow-statement log: the normalised text only, never a constant or a parameter value.
    const std::string_view text = statements.normalizedText(u.statement);
    const std::string node =
        u.node < cfg.nodes.size() ? cfg.nodes[u.node].name : "#" + std::to_string(u.node);
    spdlog::warn("[c{}] slow statement: {:.1f} ms on node {} ({}): {}", sessionId,
                 static_cast<double>(nanos) / 1e6, node, u.replica ? "replica" : "primary",
                 text.empty() ? std::string_view("(text not kept)") : text);
  }
  answered_.clear();
}

}  // namespace pgsplit::session
