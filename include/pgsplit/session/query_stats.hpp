#pragma once
// Statement statistics of one worker (SHOW QUERIES): calls, time and routes per statement shape,
// keyed by the fingerprint of the normalised text (sql/normalizer.hpp). The worker's thread only:
// SHOW QUERIES reads it there (posted), so nothing is locked.
//
// Bounded: at most kCapacity statements, each keeping at most kMaxTextBytes of its text. Once the
// table is full, a new statement gets in the second time it runs (a one-off never costs more
// than a probe of a small filter; its first call is not counted) and takes the place of the
// least-called entry, so the statements that run often stay. The text is kept as the client sent
// it (the first time) and normalised only when shown: recording a unit costs a hash probe, the
// text copy only when a statement is new.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pgsplit::session {

struct QueryStatsRow {
  std::uint64_t key = 0;
  std::string text;  // normalised
  std::uint64_t calls = 0;
  std::uint64_t totalNanos = 0;
  std::uint64_t asPrimary = 0;  // calls that ran on the primary
  std::uint64_t asReplica = 0;
};

class QueryStatsTable {
 public:
  static constexpr std::size_t kCapacity = 512;
  static constexpr std::size_t kMaxTextBytes = 2048;

  // An entry as it was when a unit was sent: still its statement only while the key matches.
  struct Ref {
    std::uint32_t slot = 0;
    std::uint64_t key = 0;  // 0: none
    bool valid() const { return key != 0; }
  };

  QueryStatsTable();

  // The entry of `key` (never 0), or a new one with `text` (at most kMaxTextBytes of it kept).
  Ref enter(std::uint64_t key, std::string_view text);
  // The entry of `key` if there is one (text not needed).
  Ref find(std::uint64_t key) const;
  // One completed call. Ignored if the entry went to another statement meanwhile.
  void record(Ref ref, std::uint64_t nanos, bool replica);
  // The entry's normalised text (computed once, then kept); empty if the entry went to another
  // statement.
  std::string_view normalizedText(Ref ref);

  // Every statement with at least one call, text normalised.
  std::vector<QueryStatsRow> rows();
  std::size_t size() const { return used_; }
  std::uint64_t evictions() const { return evictions_; }

 private:
  struct Entry {
    std::uint64_t key = 0;  // 0: free
    std::uint64_t totalNanos = 0;
    std::uint64_t asReplica = 0;
    std::string text;        // as sent (cut at kMaxTextBytes)
    bool truncated = false;  // ... and it was longer
    std::string normalized;  // filled when first shown
  };
  std::size_t probe(std::uint64_t key) const;  // index_ position holding key, or of the hole
  void unindex(std::size_t slot);
  std::uint32_t victim() const;
  bool admit(std::uint64_t key);

  std::vector<Entry> entries_;
  std::vector<std::uint64_t> calls_;  // entries_[i].calls, packed for the eviction scan
  std::vector<std::uint16_t> index_;  // open addressing: entry slot + 1, 0 = empty
  std::vector<std::uint64_t> seen_;   // statements seen once while the table was full (lossy)
  std::size_t used_ = 0;
  std::uint64_t evictions_ = 0;
};

}  // namespace pgsplit::session
