// Read-your-writes as a table (issue #6): (mode, what the session wrote, the time, the nodes) ->
// what its next read requires.
#include <gtest/gtest.h>

#include <chrono>
#include <vector>

#include "pgsplit/routing/consistency.hpp"
#include "pgsplit/routing/router.hpp"

namespace pgsplit::routing {
namespace {

using config::ReadYourWrites;
using std::chrono::milliseconds;

const Clock::time_point kT0 = Clock::time_point{} + std::chrono::hours(1);

struct P {
  Role role;
  bool up;
  std::uint64_t lsn;
  Clock::time_point sampledAt;
};

NodeSnapshot nodes(std::vector<P> list) {
  NodeSnapshot s;
  int i = 0;
  for (const auto& p : list) {
    NodeState n;
    n.name = "pg" + std::to_string(i++);
    n.role = p.role;
    n.up = p.up;
    n.lsn = p.lsn;
    n.lsnSampledAt = p.sampledAt;
    s.nodes.push_back(n);
  }
  return s;
}

// A write acknowledged at kT0; a primary sampled before (lsn 100) or after it (lsn 200).
const auto kSampledBefore =
    nodes({{Role::Primary, true, 100, kT0 - milliseconds(5)}, {Role::Replica, true, 150, kT0}});
const auto kSampledAfter =
    nodes({{Role::Primary, true, 200, kT0 + milliseconds(5)}, {Role::Replica, true, 150, kT0}});
const auto kPrimaryDown =
    nodes({{Role::Primary, false, 200, kT0 + milliseconds(5)}, {Role::Replica, true, 150, kT0}});
const auto kTwoPrimaries = nodes({{Role::Primary, true, 200, kT0 + milliseconds(5)},
                                  {Role::Primary, true, 300, kT0 + milliseconds(5)}});
const auto kPrimaryLsnUnknown =
    nodes({{Role::Primary, true, 0, kT0 + milliseconds(5)}, {Role::Replica, true, 150, kT0}});

struct Case {
  const char* name;
  ReadYourWrites mode;
  WriteRecord record;
  Clock::duration sinceAck;  // now - kT0
  NodeSnapshot snap;
  bool readsOnPrimary;
  std::uint64_t minReplayLsn;
  std::uint64_t requiredLsnAfter;
};

WriteRecord wrote(std::uint64_t requiredLsn = 0) {
  return {true, kT0, requiredLsn};
}
const WriteRecord kNoWrite{};

class ConsistencyTable : public ::testing::TestWithParam<Case> {};

TEST_P(ConsistencyTable, Requires) {
  const Case& c = GetParam();
  ConsistencyPolicy policy;
  policy.mode = c.mode;
  policy.window = milliseconds(1000);
  WriteRecord record = c.record;
  SessionView view;
  applyReadYourWrites(policy, record, kT0 + c.sinceAck, c.snap, view);
  EXPECT_EQ(view.readsOnPrimary, c.readsOnPrimary) << c.name;
  EXPECT_EQ(view.minReplayLsn, c.minReplayLsn) << c.name;
  EXPECT_EQ(record.requiredLsn, c.requiredLsnAfter) << c.name;
  if (view.readsOnPrimary) {
    EXPECT_NE(std::string(view.readsOnPrimaryReason), "") << c.name;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Modes, ConsistencyTable,
    ::testing::Values(
        // No write yet: nothing is required, whatever the mode.
        Case{"off, no write", ReadYourWrites::Off, kNoWrite, {}, kSampledAfter, false, 0, 0},
        Case{
            "session, no write", ReadYourWrites::Session, kNoWrite, {}, kSampledAfter, false, 0, 0},
        Case{"window, no write", ReadYourWrites::Window, kNoWrite, {}, kSampledAfter, false, 0, 0},
        Case{"lsn, no write", ReadYourWrites::Lsn, kNoWrite, {}, kSampledAfter, false, 0, 0},
        // off: replicas at once.
        Case{"off, right after a write",
             ReadYourWrites::Off,
             wrote(),
             {},
             kSampledBefore,
             false,
             0,
             0},
        // session: the primary from the first write on, for good.
        Case{"session, right after a write",
             ReadYourWrites::Session,
             wrote(),
             {},
             kSampledBefore,
             true,
             0,
             0},
        Case{"session, an hour after a write", ReadYourWrites::Session, wrote(),
             std::chrono::hours(1), kSampledAfter, true, 0, 0},
        // window: the primary for window_ms after each write.
        Case{"window, inside it", ReadYourWrites::Window, wrote(), milliseconds(999), kSampledAfter,
             true, 0, 0},
        Case{"window, at its end", ReadYourWrites::Window, wrote(), milliseconds(1000),
             kSampledAfter, false, 0, 0},
        Case{"window, long after", ReadYourWrites::Window, wrote(), std::chrono::minutes(5),
             kSampledBefore, false, 0, 0},
        // lsn: the first primary sample taken after the acknowledgement is the bar.
        Case{"lsn, no sample after the write yet: the primary", ReadYourWrites::Lsn, wrote(),
             milliseconds(1), kSampledBefore, true, 0, 0},
        Case{"lsn, a sample after the write: replicas past it", ReadYourWrites::Lsn, wrote(),
             milliseconds(10), kSampledAfter, false, 200, 200},
        Case{"lsn, the bar once set stays (the primary moved on)", ReadYourWrites::Lsn, wrote(180),
             milliseconds(10), nodes({{Role::Primary, true, 900, kT0 + milliseconds(9)}}), false,
             180, 180},
        Case{"lsn, primary down and no bar yet: wants the primary", ReadYourWrites::Lsn, wrote(),
             milliseconds(10), kPrimaryDown, true, 0, 0},
        Case{"lsn, two primaries: no sample is trusted", ReadYourWrites::Lsn, wrote(),
             milliseconds(10), kTwoPrimaries, true, 0, 0},
        Case{"lsn, the primary's position unknown", ReadYourWrites::Lsn, wrote(), milliseconds(10),
             kPrimaryLsnUnknown, true, 0, 0},
        Case{"lsn, sampled at the very instant of the ack does not count", ReadYourWrites::Lsn,
             wrote(), milliseconds(10), nodes({{Role::Primary, true, 200, kT0}}), true, 0, 0}));

TEST(Consistency, PolicyFromConfig) {
  config::ConsistencyConfig c;
  c.readYourWrites = ReadYourWrites::Session;
  c.windowMs = 42;
  ConsistencyPolicy p = ConsistencyPolicy::from(c);
  EXPECT_EQ(p.mode, ReadYourWrites::Session);
  EXPECT_EQ(p.window, milliseconds(42));
}

// End to end through the router: in lsn mode, a replica that has replayed the bar serves the
// read; one that has not, does not.
TEST(Consistency, LsnBarSteersTheRouter) {
  ConsistencyPolicy policy;
  WriteRecord record = wrote();
  auto snap = nodes({{Role::Primary, true, 200, kT0 + milliseconds(5)},
                     {Role::Replica, true, 150, kT0},
                     {Role::Replica, true, 250, kT0}});
  SessionView view;
  applyReadYourWrites(policy, record, kT0 + milliseconds(10), snap, view);
  Router router;
  ReplicaBalancer balancer;
  sql::Classification read;
  read.readOnly = true;
  read.statements = 1;
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(router.route(read, view, snap, balancer).node, 2);
  snap.nodes[2].lsn = 199;  // (not possible in life; shows the bar is what decides)
  EXPECT_EQ(router.route(read, view, snap, balancer).node, 0);
}

}  // namespace
}  // namespace pgsplit::routing
