#pragma once
// The classifier a session calls: one per worker thread (never locked), with a bounded cache
// keyed by statement text and the primary's catalog (CatalogBoard) to judge user functions
// and relations. A hit costs a hash of the text, one comparison and one atomic load.
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "pgsplit/sql/analysis.hpp"
#include "pgsplit/sql/catalog_board.hpp"
#include "pgsplit/sql/classifier.hpp"

namespace pgsplit::sql {

// Shared by every worker; for the metrics to read.
struct ClassifierCounters {
  // /* pgsplit:replica */ on a statement classified as a write (the hint was ignored).
  std::atomic<std::uint64_t> ignoredReplicaHints{0};
};

class CachingClassifier {
 public:
  static constexpr std::size_t kDefaultCapacity = 4096;
  // Longer texts are classified every time: caching them would cost more memory than time.
  static constexpr std::size_t kMaxCachedText = 16 * 1024;

  // Single writer (the worker), any reader (metrics): plain loads and stores, no lock prefix.
  struct Stats {
    std::atomic<std::uint64_t> hits{0};
    std::atomic<std::uint64_t> misses{0};
    std::atomic<std::uint64_t> evictions{0};
  };

  // board may be null (no catalog: user functions are writes, relations readable);
  // capacity 0 disables the cache.
  CachingClassifier(CatalogBoard* board, ClassifierCounters* counters,
                    std::size_t capacity = kDefaultCapacity);
  ~CachingClassifier();
  CachingClassifier(const CachingClassifier&) = delete;
  CachingClassifier& operator=(const CachingClassifier&) = delete;

  // Classifies text a client sent to `database` as `user` (whose catalog judges its user
  // functions and relations).
  Classification classify(std::string_view text, std::string_view database, std::string_view user);
  // Without a catalog scope: user functions are writes.
  Classification classify(std::string_view text);
  // What the text of the last classify() call named (tables, calls; see Analysis): valid until
  // the next call.
  const Analysis& lastAnalysis() const { return *last_; }

  const Stats& stats() const { return stats_; }
  std::size_t size() const { return used_; }  // statements cached
  std::size_t capacity() const { return capacity_; }

 private:
  struct Entry;
  Classification classifyIn(std::string_view text, ScopeId scope);
  Classification finish(const Analysis& analysis, Entry* entry, ScopeId scope);
  ScopeId scopeOf(std::string_view database, std::string_view user);
  void syncWithBoard();
  const CatalogSnapshot* snapshotOf(ScopeId scope);
  void requestMisses(ScopeId scope, const Misses& misses);
  std::size_t find(std::uint64_t hash, std::string_view text) const;
  Entry* insert(std::uint64_t hash, std::string_view text, Analysis analysis);
  void evictOne();
  void eraseFromIndex(std::size_t entry);
  bool admit(std::uint64_t hash);
  void clear();
  static void bump(std::atomic<std::uint64_t>& counter) {
    counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }

  CatalogBoard* board_;
  ClassifierCounters* counters_;
  Analysis uncached_;  // the last text analysed but not cached
  const Analysis* last_ = &uncached_;
  std::size_t capacity_;
  Stats stats_;

  // The board's state as this worker last saw it.
  std::uint64_t generation_ = 0;
  std::shared_ptr<const FunctionOverrides> overrides_;
  std::vector<std::shared_ptr<const CatalogSnapshot>> snapshots_;  // by ScopeId
  std::unordered_set<std::string> requested_;  // asked for since generation_ moved

  // Scopes this worker has seen, and the last one used.
  struct KnownScope {
    std::string database;
    std::string user;
    ScopeId id;
  };
  std::vector<KnownScope> scopes_;
  std::size_t lastScope_ = 0;

  // The cache: entries, an open-addressing index of entry positions + 1, and a CLOCK hand.
  std::vector<Entry> entries_;
  std::vector<std::uint32_t> index_;
  std::vector<std::size_t> free_;
  std::size_t hand_ = 0;
  std::size_t used_ = 0;
  std::vector<std::uint64_t> seen_;  // texts seen once: the second sighting is cached
};

// 64-bit hash of statement text (four lanes, 8 bytes at a time).
std::uint64_t hashText(std::string_view text);

}  // namespace pgsplit::sql
