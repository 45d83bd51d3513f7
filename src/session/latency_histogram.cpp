#include "pgsplit/session/latency_histogram.hpp"

#include <algorithm>

namespace pgsplit::session {

std::size_t latencyBucket(std::uint64_t nanos) {
  // 71 bounds: a branch-light binary search (about 7 steps).
  return static_cast<std::size_t>(
      std::lower_bound(kLatencyBounds.begin(), kLatencyBounds.end(), nanos) -
      kLatencyBounds.begin());
}

void LatencySummary::add(const LatencyHistogram& h) {
  for (std::size_t i = 0; i < kLatencyBuckets; ++i)
    buckets[i] += h.bucket(i);
  sumNanos += h.sumNanos();
}

void LatencySummary::add(const LatencySummary& s) {
  for (std::size_t i = 0; i < kLatencyBuckets; ++i)
    buckets[i] += s.buckets[i];
  sumNanos += s.sumNanos;
}

std::uint64_t LatencySummary::count() const {
  std::uint64_t n = 0;
  for (std::uint64_t b : buckets)
    n += b;
  return n;
}

std::uint64_t LatencySummary::cumulative(std::size_t boundIndex) const {
  std::uint64_t n = 0;
  for (std::size_t i = 0; i <= boundIndex && i < kLatencyBuckets; ++i)
    n += buckets[i];
  return n;
}

double LatencySummary::meanSeconds() const {
  const std::uint64_t n = count();
  return n == 0 ? 0.0 : sumSeconds() / static_cast<double>(n);
}

double LatencySummary::quantileSeconds(double q) const {
  const std::uint64_t n = count();
  if (n == 0) return 0.0;
  q = std::clamp(q, 0.0, 1.0);
  const double rank = q * static_cast<double>(n);
  std::uint64_t below = 0;  // observations in the buckets before i
  for (std::size_t i = 0; i < kLatencyBuckets; ++i) {
    const std::uint64_t here = buckets[i];
    if (here == 0 || static_cast<double>(below + here) < rank) {
      below += here;
      continue;
    }
    if (i == kLatencyBounds.size()) return static_cast<double>(kLatencyBounds.back()) / 1e9;
    const double lower = i == 0 ? 0.0 : static_cast<double>(kLatencyBounds[i - 1]);
    const double upper = static_cast<double>(kLatencyBounds[i]);
    const double fraction = (rank - static_cast<double>(below)) / static_cast<double>(here);
    return (lower + (upper - lower) * fraction) / 1e9;
  }
  return static_cast<double>(kLatencyBounds.back()) / 1e9;
}

}  // namespace pgsplit::session
