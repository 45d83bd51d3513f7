#pragma once
// Read-your-writes as a pure policy: from what a session remembers about its own writes, the
// nodes' positions and the time, what its next read requires. No sockets, no threads; the caller
// passes the clock.
#include <chrono>
#include <cstdint>

#include "pgsplit/config/config.hpp"
#include "pgsplit/routing/node_snapshot.hpp"

namespace pgsplit::routing {

struct SessionView;

struct ConsistencyPolicy {
  config::ReadYourWrites mode = config::ReadYourWrites::Lsn;
  Clock::duration window = std::chrono::milliseconds(1000);  // `window` mode

  static ConsistencyPolicy from(const config::ConsistencyConfig& c);
};

// What a session remembers about its own writes.
struct WriteRecord {
  bool wrote = false;             // the primary acknowledged a write of this session
  Clock::time_point lastAckAt{};  // when it acknowledged the last one (its ReadyForQuery)
  std::uint64_t requiredLsn = 0;  // `lsn` mode: the primary position that covers it
};

// Sets what the session's next read requires (view.minReplayLsn, view.readsOnPrimary and its
// reason). In `lsn` mode it settles record.requiredLsn from the first primary position sampled
// after the acknowledgement; until one exists, reads go to the primary.
// `cluster`: the cluster the write went to (and the read is for; another cluster's replicas
// never hold the session's writes, so a read for another cluster has no requirement).
void applyReadYourWrites(const ConsistencyPolicy& policy, WriteRecord& record,
                         Clock::time_point now, const NodeSnapshot& snap, SessionView& view,
                         std::size_t cluster = 0);

}  // namespace pgsplit::routing
