#pragma once
// Fixed-bucket latency histograms. One worker writes a histogram (an observation is a bucket
// search and two plain adds: no allocation, no lock, no locked instruction); scrapes read it from
// any thread and add the workers' histograms up into a LatencySummary, which answers the count,
// the mean and quantiles estimated from the buckets.
//
// The buckets: 10 per decade (1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 8) from 10 µs to 100 s, plus one
// for everything longer. Prometheus gets a 1-2.5-5 subset of them (kExportedLatencyBounds), so
// its cumulative counts are exact.
#include <array>
#include <cstddef>
#include <cstdint>

#include "pgsplit/session/counter.hpp"

namespace pgsplit::session {

// Upper bounds (inclusive, "le") in nanoseconds, ascending.
inline constexpr auto kLatencyBounds = [] {
  constexpr std::uint64_t kMantissas[] = {100, 125, 150, 200, 250, 300, 400, 500, 600, 800};
  std::array<std::uint64_t, 71> bounds{};
  std::size_t i = 0;
  for (std::uint64_t decade = 100; decade <= 100'000'000; decade *= 10)  // 10 µs .. 80 s
    for (std::uint64_t m : kMantissas)
      bounds[i++] = m * decade;
  bounds[i] = 100'000'000'000;  // 100 s
  return bounds;
}();
// The last bucket holds what is longer than the last bound.
inline constexpr std::size_t kLatencyBuckets = kLatencyBounds.size() + 1;

// Indices into kLatencyBounds of the bounds /metrics exports: 10 µs, 25 µs, 50 µs, 100 µs, ...,
// 50 s, 100 s.
inline constexpr auto kExportedLatencyBounds = [] {
  std::array<std::size_t, 22> out{};
  std::size_t n = 0;
  for (std::size_t i = 0; i < kLatencyBounds.size(); ++i) {
    std::uint64_t b = kLatencyBounds[i];
    while (b % 10 == 0)
      b /= 10;
    if (b == 1 || b == 25 || b == 5) out[n++] = i;
  }
  return out;
}();

// The bucket of a duration: the first whose bound is >= nanos.
std::size_t latencyBucket(std::uint64_t nanos);

class LatencyHistogram {
 public:
  void observe(std::uint64_t nanos) {
    buckets_[latencyBucket(nanos)].add();
    sumNanos_.add(nanos);
  }
  std::uint64_t bucket(std::size_t i) const { return buckets_[i].get(); }
  std::uint64_t sumNanos() const { return sumNanos_.get(); }

 private:
  std::array<Counter, kLatencyBuckets> buckets_;
  Counter sumNanos_;
};

// Histograms added up (over workers, nodes or routes): plain numbers.
struct LatencySummary {
  std::array<std::uint64_t, kLatencyBuckets> buckets{};
  std::uint64_t sumNanos = 0;

  void add(const LatencyHistogram& h);
  void add(const LatencySummary& s);
  std::uint64_t count() const;
  // Observations <= kLatencyBounds[boundIndex].
  std::uint64_t cumulative(std::size_t boundIndex) const;
  double sumSeconds() const { return static_cast<double>(sumNanos) / 1e9; }
  // 0 without observations.
  double meanSeconds() const;
  // The q-quantile (0 < q <= 1) estimated from the buckets, as Prometheus' histogram_quantile
  // does: linear interpolation inside the bucket the rank falls in. Its error is at most the
  // width of that bucket (25% of the value at worst). A rank in the overflow bucket gives the
  // last bound (100 s), a lower bound. 0 without observations.
  double quantileSeconds(double q) const;
};

}  // namespace pgsplit::session
