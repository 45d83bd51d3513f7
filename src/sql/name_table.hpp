#pragma once
// Sorted static tables of lower-case names, searched without lowering the probe into a buffer.
#include <cstddef>
#include <string_view>

namespace pgsplit::sql::detail {

constexpr unsigned char foldAscii(unsigned char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<unsigned char>(c + ('a' - 'A')) : c;
}

// Three-way comparison of a probe against a lower-case table key; the probe is folded to
// lower case first when caseInsensitive (unquoted identifiers), compared exactly otherwise
// (the body of a quoted identifier).
constexpr int compareName(std::string_view probe, std::string_view key, bool caseInsensitive) {
  const std::size_t n = probe.size() < key.size() ? probe.size() : key.size();
  for (std::size_t i = 0; i < n; ++i) {
    unsigned char a = static_cast<unsigned char>(probe[i]);
    if (caseInsensitive) a = foldAscii(a);
    const unsigned char b = static_cast<unsigned char>(key[i]);
    if (a != b) return a < b ? -1 : 1;
  }
  if (probe.size() == key.size()) return 0;
  return probe.size() < key.size() ? -1 : 1;
}

template <std::size_t N>
constexpr bool isStrictlySorted(const std::string_view (&names)[N]) {
  for (std::size_t i = 1; i < N; ++i) {
    if (compareName(names[i - 1], names[i], false) >= 0) return false;
  }
  return true;
}

// Binary search; returns the index of the match or N.
template <std::size_t N>
constexpr std::size_t findName(const std::string_view (&names)[N], std::string_view probe,
                               bool caseInsensitive) {
  std::size_t lo = 0;
  std::size_t hi = N;
  while (lo < hi) {
    const std::size_t mid = lo + (hi - lo) / 2;
    const int cmp = compareName(probe, names[mid], caseInsensitive);
    if (cmp == 0) return mid;
    if (cmp < 0) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  return N;
}

template <std::size_t N>
constexpr bool containsName(const std::string_view (&names)[N], std::string_view probe,
                            bool caseInsensitive) {
  return findName(names, probe, caseInsensitive) != N;
}

}  // namespace pgsplit::sql::detail
