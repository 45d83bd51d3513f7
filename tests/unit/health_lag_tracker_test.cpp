// LagTracker: a replica's lag from the primary's positions over time, on pgsplit's clock.
#include <gtest/gtest.h>

#include "pgsplit/health/lag_tracker.hpp"

namespace pgsplit::health {
namespace {

using std::chrono::milliseconds;
using Clock = LagTracker::Clock;
const Clock::time_point kT0 = Clock::time_point{} + std::chrono::hours(1);

TEST(LagTracker, NothingKnownIsNoLag) {
  LagTracker t;
  auto lag = t.replicaLag(kT0, 100);
  EXPECT_EQ(lag.bytes, 0u);
  EXPECT_EQ(lag.ms, 0u);
}

TEST(LagTracker, IdlePrimaryNeverMakesACaughtUpReplicaLate) {
  LagTracker t;
  for (int i = 0; i < 100; ++i)
    t.primarySample(kT0 + milliseconds(500 * i), 1000);  // nothing written for 50 s
  EXPECT_EQ(t.size(), 1u);
  auto lag = t.replicaLag(kT0 + milliseconds(50000), 1000);
  EXPECT_EQ(lag.bytes, 0u);
  EXPECT_EQ(lag.ms, 0u);
}

TEST(LagTracker, BehindReplicaLagsByBytesAndBySinceThePrimaryPassedIt) {
  LagTracker t;
  t.primarySample(kT0, 100);
  t.primarySample(kT0 + milliseconds(1000), 200);
  t.primarySample(kT0 + milliseconds(2000), 300);
  // At 2.5 s the replica has 150: the primary had 300 by then; it first had more than 150 at 1 s.
  auto lag = t.replicaLag(kT0 + milliseconds(2500), 150);
  EXPECT_EQ(lag.bytes, 150u);
  EXPECT_EQ(lag.ms, 1500u);
}

TEST(LagTracker, PrimarySamplesAfterTheReplicasDoNotCount) {
  LagTracker t;
  t.primarySample(kT0, 100);
  t.primarySample(kT0 + milliseconds(1000), 500);
  // The replica was asked at 0.5 s: the primary was only known to have 100 then.
  auto lag = t.replicaLag(kT0 + milliseconds(500), 100);
  EXPECT_EQ(lag.bytes, 0u);
  EXPECT_EQ(lag.ms, 0u);
  lag = t.replicaLag(kT0 + milliseconds(500), 60);
  EXPECT_EQ(lag.bytes, 40u);
  EXPECT_EQ(lag.ms, 500u);
}

TEST(LagTracker, ReplicaAheadOfTheLastSampleIsNotBehind) {
  LagTracker t;
  t.primarySample(kT0, 100);
  auto lag = t.replicaLag(kT0 + milliseconds(300), 120);
  EXPECT_EQ(lag.bytes, 0u);
  EXPECT_EQ(lag.ms, 0u);
}

TEST(LagTracker, OlderOrEqualPositionsAreIgnored) {
  LagTracker t;
  t.primarySample(kT0, 100);
  t.primarySample(kT0 + milliseconds(10), 90);
  t.primarySample(kT0 + milliseconds(20), 0);
  EXPECT_EQ(t.size(), 1u);
}

TEST(LagTracker, ResetForgetsTheOldPrimary) {
  LagTracker t;
  t.primarySample(kT0, 5000);
  t.reset();
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.replicaLag(kT0 + milliseconds(100), 10).bytes, 0u);
}

TEST(LagTracker, HistoryIsBoundedAndAStuckReplicaStaysLate) {
  LagTracker t;
  for (std::uint64_t i = 1; i <= 2 * LagTracker::kMaxEntries; ++i)
    t.primarySample(kT0 + milliseconds(100 * static_cast<long>(i)), 1000 * i);
  EXPECT_LE(t.size(), LagTracker::kMaxEntries);
  // A replica stuck at the very start: still at least as late as the oldest entry kept.
  const auto at = kT0 + milliseconds(100 * static_cast<long>(2 * LagTracker::kMaxEntries));
  auto lag = t.replicaLag(at, 500);
  EXPECT_GT(lag.ms, 0u);
  EXPECT_EQ(lag.bytes, 1000 * 2 * LagTracker::kMaxEntries - 500);
}

TEST(LagTracker, EntriesPastTheHorizonGoButTheLastStays) {
  LagTracker t;
  t.primarySample(kT0, 100);
  t.primarySample(kT0 + std::chrono::minutes(11), 200);
  EXPECT_EQ(t.size(), 1u);
  auto lag = t.replicaLag(kT0 + std::chrono::minutes(12), 100);
  EXPECT_EQ(lag.bytes, 100u);
  EXPECT_EQ(lag.ms, 60000u);
}

}  // namespace
}  // namespace pgsplit::health
