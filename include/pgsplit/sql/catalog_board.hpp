#pragma once
// Where workers and the catalog lookup thread meet. Workers read immutable CatalogSnapshots
// (one per database and user), refreshed only when generation() moves, and post the names they
// miss; the lookup thread (catalog::Fetcher) takes them, asks the primary, and publishes new
// snapshots. DDL a worker classifies drops the affected facts at once. No I/O here.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "pgsplit/sql/analysis.hpp"

namespace pgsplit::sql {

using ScopeId = std::uint32_t;
constexpr ScopeId kNoScope = ~ScopeId{0};

// A batch of names to look up for one scope, as the lookup thread receives it.
struct CatalogWork {
  ScopeId scope = kNoScope;
  std::string database;
  std::string user;
  std::vector<std::string> functions;  // objectKey()s
  std::vector<std::string> relations;
  // A refresh re-looks up every name the scope's snapshot holds: its results replace the
  // snapshot's facts instead of adding to them.
  bool refresh = false;
  // Invalidations counted when the work was taken: results from before a later DDL are stale.
  std::uint64_t functionEpoch = 0;
  std::uint64_t relationEpoch = 0;
};

// What the lookup thread learned for a CatalogWork.
struct CatalogFacts {
  std::vector<std::pair<std::string, FunctionFacts>> functions;
  std::vector<std::pair<std::string, RelationFacts>> relations;
};

class CatalogBoard {
 public:
  using Clock = std::chrono::steady_clock;

  struct Options {
    bool lookups = true;  // false: no catalog (user functions are writes, relations readable)
    std::size_t maxScopes = 1024;
    // Facts kept per scope and kind; past it a publication starts afresh (names an application
    // makes up by the thousand must not grow the board for ever).
    std::size_t maxFacts = 50000;
    // After DDL, wait this long before looking names up again (let the DDL commit first), and
    // look everything up once more a little later (a DDL in a longer transaction).
    std::chrono::milliseconds settle{500};
    std::chrono::milliseconds recheck{5000};
  };

  CatalogBoard();
  explicit CatalogBoard(Options options);

  bool lookupsEnabled() const { return options_.lookups; }

  // ---- workers ----
  // Moves whenever any snapshot, the overrides, or an invalidation changes.
  std::uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
  // The scope of (database, user), registered on first use; kNoScope when lookups are off or
  // too many scopes exist.
  ScopeId scope(std::string_view database, std::string_view user);
  std::shared_ptr<const CatalogSnapshot> snapshot(ScopeId scope) const;
  std::shared_ptr<const FunctionOverrides> overrides() const;
  void setOverrides(std::shared_ptr<const FunctionOverrides> overrides);
  // Names a worker missed, to be looked up.
  void request(ScopeId scope, const Misses& misses);
  // A classified statement changes what `changes` says: the facts it may have made stale are
  // dropped now (their objects are looked up again once the DDL has had time to commit).
  void invalidate(const CatalogChanges& changes);
  // Drops every fact of these kinds (CatalogChange bits).
  void invalidate(std::uint8_t kinds);
  // Looks every known name up again (configuration reload, periodic refresh).
  void refreshAll();

  // ---- the lookup thread ----
  // Waits until work is due, `until` passes or stop() is called; returns the due work.
  std::vector<CatalogWork> waitForWork(Clock::time_point until);
  // Publishes what a lookup found (stale results are dropped and their names asked again).
  void publish(const CatalogWork& work, CatalogFacts facts);
  // The primary could not be asked: relations not looked up yet become readable on replicas
  // until it can; the names are asked again after `retryAfter`.
  void failed(const CatalogWork& work, Clock::duration retryAfter);
  void stop();
  bool stopping() const;

 private:
  struct Scope {
    std::string database;
    std::string user;
    std::shared_ptr<const CatalogSnapshot> snapshot;
    std::unordered_set<std::string> pendingFunctions;
    std::unordered_set<std::string> pendingRelations;
    Clock::time_point retryAt{};
  };
  void bump();
  void schedule(Clock::time_point at);

  Options options_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<Scope> scopes_;
  std::shared_ptr<const FunctionOverrides> overrides_;
  std::atomic<std::uint64_t> generation_{1};
  std::uint64_t functionEpoch_ = 0;
  std::uint64_t relationEpoch_ = 0;
  Clock::time_point functionsSettleAt_{};
  Clock::time_point relationsSettleAt_{};
  Clock::time_point refreshAt_ = Clock::time_point::max();
  bool stopping_ = false;
};

}  // namespace pgsplit::sql
