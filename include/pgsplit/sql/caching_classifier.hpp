#pragma once
// The classifier a session calls: one per worker thread (never locked), with a bounded cache
// keyed by statement text and the primary's catalog (CatalogBoard) to judge user functions
// and relations. A hit costs a hash of the text, one comparison and one atomic load.
//
// Behind it, a second bounded cache keyed by the statement's shape (sql::statementShape: its
// constants stripped), for simple-protocol clients that send each statement with new literals
// inline (pgbench -S): a text of a known shape costs one lexer pass instead of an analysis. A
// shape stands only for texts whose classification cannot depend on their literals: no
// backslash (literals may end elsewhere with standard_conforming_strings off), no comment
// (hints), lexed whole; and an analysis that is a plain read or a plain write (see
// holdsForShape in the .cpp: no pin, hint, session state, transaction control, DDL, nor a
// verdict that read a constant's value).
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
  static constexpr std::size_t kDefaultShapeCapacity = 1024;
  // Longer texts are classified every time: caching them would cost more memory than time.
  static constexpr std::size_t kMaxCachedText = 16 * 1024;

  // Single writer (the worker), any reader (metrics): plain loads and stores, no lock prefix.
  // hits + shapeHits + misses = statements classified.
  struct Stats {
    std::atomic<std::uint64_t> hits{0};       // the text was cached
    std::atomic<std::uint64_t> shapeHits{0};  // a text of its shape was: not analysed
    std::atomic<std::uint64_t> misses{0};     // analysed
    std::atomic<std::uint64_t> evictions{0};  // texts pushed out
    std::atomic<std::uint64_t> shapeEvictions{0};
  };

  // board may be null (no catalog: user functions are writes, relations readable);
  // capacity 0 disables both caches, shapeCapacity 0 the shape cache.
  CachingClassifier(CatalogBoard* board, ClassifierCounters* counters,
                    std::size_t capacity = kDefaultCapacity,
                    std::size_t shapeCapacity = kDefaultShapeCapacity);
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
  std::size_t size() const { return texts_.size(); }  // statements cached
  std::size_t capacity() const { return texts_.capacity(); }
  std::size_t shapes() const { return shapes_.size(); }  // shapes cached

 private:
  struct Entry;

  // Entries under a 64-bit hash: an open-addressing index of entry positions + 1 (linear
  // probing, backward-shift deletion), CLOCK eviction, and a lossy "seen once" filter.
  class Table {
   public:
    Table(std::size_t capacity, std::atomic<std::uint64_t>& evictions);
    ~Table();
    Table(const Table&) = delete;
    Table& operator=(const Table&) = delete;

    std::size_t capacity() const { return capacity_; }
    std::size_t size() const { return used_; }
    // The entry under hash for which same(entry) holds, or null.
    template <class Same>
    Entry* find(std::uint64_t hash, Same same);
    // Whether hash was offered before (and is then forgotten): the second sighting is cached.
    bool admit(std::uint64_t hash);
    // A new entry under hash with an empty memo (the rest is the caller's to fill), another one
    // evicted when the table is full.
    Entry& insert(std::uint64_t hash);
    void clear();

   private:
    void evictOne();
    void eraseFromIndex(std::size_t entry);

    std::size_t capacity_;
    std::atomic<std::uint64_t>* evictions_;
    std::vector<Entry> entries_;
    std::vector<std::uint32_t> index_;
    std::vector<std::size_t> free_;
    std::size_t hand_ = 0;  // CLOCK
    std::size_t used_ = 0;
    std::vector<std::uint64_t> seen_;  // hashes offered once
  };

  Classification classifyIn(std::string_view text, ScopeId scope);
  Classification finish(const Analysis& analysis, Entry* entry, ScopeId scope);
  ScopeId scopeOf(std::string_view database, std::string_view user);
  void syncWithBoard();
  const CatalogSnapshot* snapshotOf(ScopeId scope);
  void requestMisses(ScopeId scope, const Misses& misses);
  void clear();
  static void bump(std::atomic<std::uint64_t>& counter) {
    counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }

  CatalogBoard* board_;
  ClassifierCounters* counters_;
  Analysis uncached_;  // the last text analysed but not cached
  const Analysis* last_ = &uncached_;
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

  Table texts_;   // by hashText(text)
  Table shapes_;  // by StatementShape::check
};

// 64-bit hash of statement text (four lanes, 8 bytes at a time).
std::uint64_t hashText(std::string_view text);

}  // namespace pgsplit::sql
