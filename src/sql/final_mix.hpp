#pragma once
// MurmurHash3's 64-bit finaliser (fmix64): every input bit reaches every output bit. The last
// step of the text hash (caching_classifier.cpp) and of a shape's check (normalizer.cpp).
#include <cstdint>

namespace pgsplit::sql::detail {

inline std::uint64_t finalMix(std::uint64_t h) {
  h ^= h >> 33;
  h *= 0xFF51AFD7ED558CCDULL;
  h ^= h >> 33;
  h *= 0xC4CEB9FE1A85EC53ULL;
  h ^= h >> 33;
  return h;
}

}  // namespace pgsplit::sql::detail
