#include "pgsplit/routing/consistency.hpp"

#include "pgsplit/routing/router.hpp"

namespace pgsplit::routing {

ConsistencyPolicy ConsistencyPolicy::from(const config::ConsistencyConfig& c) {
  ConsistencyPolicy p;
  p.mode = c.readYourWrites;
  p.window = std::chrono::milliseconds(c.windowMs);
  return p;
}

void applyReadYourWrites(const ConsistencyPolicy& policy, WriteRecord& record,
                         Clock::time_point now, const NodeSnapshot& snap, SessionView& view,
                         std::size_t cluster) {
  if (!record.wrote) return;
  using config::ReadYourWrites;
  if (policy.mode == ReadYourWrites::Off) return;
  if (policy.mode == ReadYourWrites::Session) {
    view.readsOnPrimary = true;
    view.readsOnPrimaryReason = "read-your-writes (session): the session has written";
    return;
  }
  if (policy.mode == ReadYourWrites::Window) {
    if (now - record.lastAckAt < policy.window) {
      view.readsOnPrimary = true;
      view.readsOnPrimaryReason = "read-your-writes (window): a recent write";
    }
    return;
  }
  // lsn: the first primary position sampled after the write was acknowledged covers it.
  if (record.requiredLsn == 0) {
    int p = Router::primaryOf(snap, cluster);
    if (p >= 0) {
      const auto& primary = snap.nodes[static_cast<std::size_t>(p)];
      if (primary.lsn != 0 && primary.lsnSampledAt > record.lastAckAt)
        record.requiredLsn = primary.lsn;
    }
  }
  if (record.requiredLsn != 0) {
    view.minReplayLsn = record.requiredLsn;
  } else {
    view.readsOnPrimary = true;
    view.readsOnPrimaryReason = "read-your-writes (lsn): own write not yet confirmed";
  }
}

}  // namespace pgsplit::routing
