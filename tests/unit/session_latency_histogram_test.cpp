// Latency histograms: bucket bounds, bucket search, sums over workers, quantile estimates.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "pgsplit/session/latency_histogram.hpp"

namespace pgsplit::session {
namespace {

constexpr std::uint64_t kMicro = 1000;
constexpr std::uint64_t kMilli = 1000 * kMicro;

TEST(LatencyHistogram, BoundsAreTenPerDecadeFromTenMicrosecondsToOneHundredSeconds) {
  EXPECT_EQ(kLatencyBounds.front(), 10 * kMicro);
  EXPECT_EQ(kLatencyBounds[1], 12500u);
  EXPECT_EQ(kLatencyBounds[10], 100 * kMicro);
  EXPECT_EQ(kLatencyBounds.back(), 100'000 * kMilli);
  for (std::size_t i = 1; i < kLatencyBounds.size(); ++i) {
    EXPECT_LT(kLatencyBounds[i - 1], kLatencyBounds[i]);
    // Neighbouring bounds at most a third apart: the quantile error is bounded.
    EXPECT_LE(static_cast<double>(kLatencyBounds[i]) / static_cast<double>(kLatencyBounds[i - 1]),
              4.0 / 3.0 + 1e-9);
  }
  EXPECT_EQ(kLatencyBuckets, kLatencyBounds.size() + 1);
}

TEST(LatencyHistogram, ExportedBoundsAreTheOneTwoAndAHalfFiveSeries) {
  const double expected[] = {1e-5, 2.5e-5, 5e-5,   1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3,
                             5e-3, 1e-2,   2.5e-2, 5e-2, 0.1,    0.25, 0.5,  1,
                             2.5,  5,      10,     25,   50,     100};
  ASSERT_EQ(std::size(expected), kExportedLatencyBounds.size());
  for (std::size_t i = 0; i < kExportedLatencyBounds.size(); ++i)
    EXPECT_DOUBLE_EQ(static_cast<double>(kLatencyBounds[kExportedLatencyBounds[i]]) / 1e9,
                     expected[i]);
}

TEST(LatencyHistogram, ABucketHoldsWhatIsAtMostItsBound) {
  EXPECT_EQ(latencyBucket(0), 0u);
  EXPECT_EQ(latencyBucket(10 * kMicro), 0u);  // le: inclusive
  EXPECT_EQ(latencyBucket(10 * kMicro + 1), 1u);
  EXPECT_EQ(latencyBucket(12500), 1u);
  EXPECT_EQ(latencyBucket(1 * kMilli), 20u);
  EXPECT_EQ(latencyBucket(100'000 * kMilli), kLatencyBounds.size() - 1);
  EXPECT_EQ(latencyBucket(100'000 * kMilli + 1), kLatencyBounds.size());  // overflow
  EXPECT_EQ(latencyBucket(UINT64_MAX), kLatencyBounds.size());
  // Against a linear search, for many values.
  std::mt19937_64 rng(7);
  for (int i = 0; i < 10000; ++i) {
    const std::uint64_t v = rng() % (200'000 * kMilli);
    std::size_t want = 0;
    while (want < kLatencyBounds.size() && kLatencyBounds[want] < v)
      ++want;
    ASSERT_EQ(latencyBucket(v), want) << v;
  }
}

TEST(LatencyHistogram, SummariesAddWorkersUp) {
  LatencyHistogram a, b;
  a.observe(5 * kMicro);
  a.observe(2 * kMilli);
  b.observe(2 * kMilli);
  b.observe(200'000 * kMilli);
  LatencySummary s;
  s.add(a);
  s.add(b);
  EXPECT_EQ(s.count(), 4u);
  EXPECT_EQ(s.sumNanos, 5 * kMicro + 4 * kMilli + 200'000 * kMilli);
  EXPECT_EQ(s.cumulative(0), 1u);
  EXPECT_EQ(s.cumulative(latencyBucket(2 * kMilli)), 3u);
  EXPECT_EQ(s.cumulative(kLatencyBounds.size() - 1), 3u);  // the overflow is only in +Inf
  EXPECT_DOUBLE_EQ(s.meanSeconds(), static_cast<double>(s.sumNanos) / 4 / 1e9);
  LatencySummary twice;
  twice.add(s);
  twice.add(s);
  EXPECT_EQ(twice.count(), 8u);
}

TEST(LatencyHistogram, QuantilesInterpolateInsideTheBucket) {
  LatencySummary empty;
  EXPECT_EQ(empty.quantileSeconds(0.99), 0.0);
  EXPECT_EQ(empty.meanSeconds(), 0.0);

  // 100 observations in the bucket (1 ms, 1.25 ms]: the p99 is 99% of the way through it.
  LatencyHistogram h;
  for (int i = 0; i < 100; ++i)
    h.observe(1100 * kMicro);
  LatencySummary s;
  s.add(h);
  EXPECT_NEAR(s.quantileSeconds(0.99), (1.0 + 0.25 * 0.99) / 1000, 1e-9);
  EXPECT_NEAR(s.quantileSeconds(0.5), (1.0 + 0.25 * 0.5) / 1000, 1e-9);

  // 990 fast and 10 slow: the p99 sits at the top of the fast bucket, the p99.9 among the slow.
  LatencyHistogram mixed;
  for (int i = 0; i < 990; ++i)
    mixed.observe(90 * kMicro);  // (80, 100] µs
  for (int i = 0; i < 10; ++i)
    mixed.observe(300 * kMilli);  // (250, 300] ms
  LatencySummary m;
  m.add(mixed);
  EXPECT_NEAR(m.quantileSeconds(0.99), 100e-6, 1e-12);
  EXPECT_GT(m.quantileSeconds(0.999), 0.25);
  EXPECT_LE(m.quantileSeconds(0.999), 0.3);
  EXPECT_NEAR(m.quantileSeconds(1.0), 0.3, 1e-12);

  // Beyond the last bound: the estimate is that bound (a lower bound).
  LatencyHistogram slow;
  slow.observe(500'000 * kMilli);
  LatencySummary sl;
  sl.add(slow);
  EXPECT_EQ(sl.quantileSeconds(0.99), 100.0);
}

TEST(LatencyHistogram, EstimateIsWithinABucketOfTheTrueQuantile) {
  std::mt19937_64 rng(11);
  std::lognormal_distribution<double> dist(std::log(2e6), 1.0);  // around 2 ms
  std::vector<std::uint64_t> values;
  LatencyHistogram h;
  for (int i = 0; i < 20000; ++i) {
    const auto v = static_cast<std::uint64_t>(dist(rng));
    values.push_back(v);
    h.observe(v);
  }
  std::sort(values.begin(), values.end());
  LatencySummary s;
  s.add(h);
  for (const double q : {0.5, 0.9, 0.99}) {
    const double truth = static_cast<double>(values[static_cast<std::size_t>(q * 20000) - 1]) / 1e9;
    EXPECT_NEAR(s.quantileSeconds(q), truth, truth * 0.25) << q;
  }
}

}  // namespace
}  // namespace pgsplit::session
