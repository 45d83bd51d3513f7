// The per-worker classifier: its cache, and the catalog board it shares with the lookup thread
// (played here by the test: it takes the board's work and publishes facts).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "pgsplit/sql/caching_classifier.hpp"
#include "pgsplit/sql/catalog_board.hpp"

namespace pgsplit::sql {
namespace {

using namespace std::chrono_literals;

void expectSame(const Classification& got, const Classification& want, std::string_view sql) {
  EXPECT_EQ(got.readOnly, want.readOnly) << sql;
  EXPECT_EQ(got.txnStart, want.txnStart) << sql;
  EXPECT_EQ(got.pins, want.pins) << sql;
  EXPECT_EQ(got.setsSessionState, want.setsSessionState) << sql;
  EXPECT_EQ(got.hint, want.hint) << sql;
  EXPECT_EQ(got.statements, want.statements) << sql;
  EXPECT_STREQ(got.reason, want.reason) << sql;
}

const std::vector<std::string> kSample = {
    "SELECT abalance FROM pgbench_accounts WHERE aid = $1",
    "UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2",
    "BEGIN",
    "BEGIN READ ONLY",
    "SELECT nextval('s')",
    "SELECT myfunc(1)",
    "LISTEN x",
    "SET search_path = app",
    "/* pgsplit:replica */ SELECT 1",
    "WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d",
    "SELECT * FROM t FOR UPDATE",
    "SELECT 'unterminated",
    "",
};

TEST(CachingClassifier, SameAnswersAsClassifyAndCachesOnTheSecondSighting) {
  CachingClassifier c(nullptr, nullptr, 64);
  for (int round = 0; round < 3; ++round) {
    for (const std::string& sql : kSample)
      expectSame(c.classify(sql), classify(sql), sql);
  }
  // Round 1 sees each text once (not cached), round 2 caches it, round 3 hits.
  EXPECT_EQ(c.stats().misses.load(), 2 * kSample.size());
  EXPECT_EQ(c.stats().hits.load(), kSample.size());
  EXPECT_EQ(c.size(), kSample.size());
}

TEST(CachingClassifier, BoundedWithHotEntriesKept) {
  CachingClassifier c(nullptr, nullptr, 32);
  const std::string hot = "SELECT * FROM hot WHERE id = $1";
  c.classify(hot);
  c.classify(hot);
  for (int i = 0; i < 2000; ++i) {
    const std::string sql = "SELECT " + std::to_string(i);
    c.classify(sql);
    c.classify(sql);
    c.classify(hot);
    ASSERT_LE(c.size(), 32U);
  }
  EXPECT_GT(c.stats().evictions.load(), 1000U);
  const auto hitsBefore = c.stats().hits.load();
  c.classify(hot);
  EXPECT_EQ(c.stats().hits.load(), hitsBefore + 1) << "a statement in constant use was evicted";
}

// Random churn over the index (insertions, evictions, backward-shift deletions): every answer
// must still be the one for that text.
TEST(CachingClassifier, ChurnNeverMixesUpEntries) {
  CachingClassifier c(nullptr, nullptr, 50);
  std::mt19937 rng(4);
  for (int i = 0; i < 40000; ++i) {
    const unsigned n = rng() % 300;
    const std::string sql = (n % 3 == 0)   ? "DELETE FROM t WHERE id = " + std::to_string(n)
                            : (n % 3 == 1) ? "SELECT " + std::to_string(n)
                                           : "LISTEN c" + std::to_string(n);
    const Classification got = c.classify(sql);
    ASSERT_EQ(got.readOnly, n % 3 == 1) << sql;
    ASSERT_EQ(got.pins, n % 3 == 2) << sql;
  }
  EXPECT_GT(c.stats().hits.load(), 0U);
  EXPECT_GT(c.stats().evictions.load(), 0U);
}

TEST(CachingClassifier, DisabledOrHugeTextsAreClassifiedEveryTime) {
  CachingClassifier off(nullptr, nullptr, 0);
  for (int i = 0; i < 3; ++i)
    EXPECT_TRUE(off.classify("SELECT 1").readOnly);
  EXPECT_EQ(off.stats().hits.load(), 0U);
  EXPECT_EQ(off.size(), 0U);

  CachingClassifier c(nullptr, nullptr, 8);
  const std::string huge = "SELECT '" + std::string(CachingClassifier::kMaxCachedText, 'x') + "'";
  for (int i = 0; i < 3; ++i)
    EXPECT_TRUE(c.classify(huge).readOnly);
  EXPECT_EQ(c.size(), 0U);
}

TEST(CachingClassifier, HashSpreadsSimilarTexts) {
  std::vector<std::uint64_t> hashes;
  for (int i = 0; i < 5000; ++i)
    hashes.push_back(hashText("SELECT * FROM t WHERE id = " + std::to_string(i)));
  std::sort(hashes.begin(), hashes.end());
  EXPECT_EQ(std::unique(hashes.begin(), hashes.end()), hashes.end());
  EXPECT_NE(hashText(""), hashText(std::string(1, '\0')));
  EXPECT_NE(hashText(std::string(40, 'a')), hashText(std::string(41, 'a')));
}

TEST(CachingClassifier, IgnoredReplicaHintsAreCounted) {
  ClassifierCounters counters;
  CachingClassifier c(nullptr, &counters, 16);
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(c.classify("/* pgsplit:replica */ INSERT INTO t VALUES (1)").readOnly);
  }
  EXPECT_EQ(counters.ignoredReplicaHints.load(), 3U);
  EXPECT_TRUE(c.classify("/* pgsplit:replica */ SELECT 1").readOnly);
  c.classify("/* pgsplit:replica */ BEGIN READ ONLY");
  c.classify("/* pgsplit:primary */ INSERT INTO t VALUES (1)");
  EXPECT_EQ(counters.ignoredReplicaHints.load(), 3U);
}

// ---- with the catalog ---------------------------------------------------------------------

CatalogBoard::Options quickBoard() {
  CatalogBoard::Options o;
  o.settle = 0ms;
  o.recheck = 1h;
  return o;
}

// Plays the lookup thread: answers every due work item from `functions` / `relations`.
void lookUp(CatalogBoard& board, const std::map<std::string, char>& functions,
            const std::map<std::string, bool>& relations = {}) {
  for (const CatalogWork& w : board.waitForWork(CatalogBoard::Clock::now())) {
    CatalogFacts facts;
    for (const std::string& key : w.functions) {
      auto it = functions.find(key);
      const char v = it == functions.end() ? 0 : it->second;
      facts.functions.push_back({key, {v, v == 'v' ? "write: function is VOLATILE" : nullptr}});
    }
    for (const std::string& key : w.relations) {
      auto it = relations.find(key);
      const bool safe = it == relations.end() || it->second;
      facts.relations.push_back({key, {safe, safe ? nullptr : "write: relation is UNLOGGED"}});
    }
    board.publish(w, std::move(facts));
  }
}

TEST(CachingClassifier, CatalogMissGoesToPrimaryThenTheLookupDecides) {
  CatalogBoard board(quickBoard());
  CachingClassifier c(&board, nullptr, 16);
  const std::map<std::string, char> catalog = {{objectKey("", "stable_f"), 's'},
                                               {objectKey("", "audit"), 'v'}};
  for (int i = 0; i < 3; ++i) {
    const Classification first = c.classify("SELECT stable_f()", "app", "app");
    EXPECT_FALSE(first.readOnly);
    EXPECT_TRUE(first.provisional);
  }
  const auto work = board.waitForWork(CatalogBoard::Clock::now());
  ASSERT_EQ(work.size(), 1U);
  EXPECT_EQ(work[0].database, "app");
  EXPECT_EQ(work[0].user, "app");
  EXPECT_EQ(work[0].functions, std::vector<std::string>{objectKey("", "stable_f")});
  board.publish(work[0], {{{objectKey("", "stable_f"), {'s', nullptr}}}, {}});

  const Classification after = c.classify("SELECT stable_f()", "app", "app");
  EXPECT_TRUE(after.readOnly);
  EXPECT_FALSE(after.provisional);

  EXPECT_FALSE(c.classify("SELECT audit()", "app", "app").readOnly);
  lookUp(board, catalog);
  const Classification audit = c.classify("SELECT audit()", "app", "app");
  EXPECT_FALSE(audit.readOnly);
  EXPECT_FALSE(audit.provisional);
  EXPECT_STREQ(audit.reason, "write: function is VOLATILE");

  // Another database or user is another catalog.
  EXPECT_FALSE(c.classify("SELECT stable_f()", "other", "app").readOnly);
  EXPECT_FALSE(c.classify("SELECT stable_f()", "app", "reporting").readOnly);
  // Without a scope, user functions are writes.
  EXPECT_FALSE(c.classify("SELECT stable_f()").readOnly);
}

TEST(CachingClassifier, RelationsAUnloggedTableStaysOnThePrimary) {
  CatalogBoard board(quickBoard());
  CachingClassifier c(&board, nullptr, 16);
  EXPECT_FALSE(c.classify("SELECT * FROM sessions", "app", "app").readOnly);
  EXPECT_FALSE(c.classify("SELECT * FROM accounts", "app", "app").readOnly);
  lookUp(board, {}, {{objectKey("", "sessions"), false}});
  EXPECT_TRUE(c.classify("SELECT * FROM accounts", "app", "app").readOnly);
  const Classification s = c.classify("SELECT * FROM sessions", "app", "app");
  EXPECT_FALSE(s.readOnly);
  EXPECT_STREQ(s.reason, "write: relation is UNLOGGED");
}

TEST(CachingClassifier, DdlDropsWhatItMayChange) {
  CatalogBoard board(quickBoard());
  CachingClassifier c(&board, nullptr, 16);
  c.classify("SELECT f() FROM t", "app", "app");
  lookUp(board, {{objectKey("", "f"), 's'}});
  ASSERT_TRUE(c.classify("SELECT f() FROM t", "app", "app").readOnly);

  // Relation DDL leaves function facts alone, and the reverse.
  c.classify("CREATE INDEX i ON t (a)", "app", "app");
  EXPECT_TRUE(c.classify("SELECT f() FROM t", "app", "app").readOnly);
  c.classify("ALTER TABLE t SET UNLOGGED", "app", "app");
  EXPECT_FALSE(c.classify("SELECT f() FROM t", "app", "app").readOnly);
  EXPECT_TRUE(c.classify("SELECT f()", "app", "app").readOnly);
  lookUp(board, {{objectKey("", "f"), 's'}}, {{objectKey("", "t"), false}});
  EXPECT_FALSE(c.classify("SELECT f() FROM t", "app", "app").readOnly);

  c.classify("CREATE OR REPLACE FUNCTION f() RETURNS int VOLATILE LANGUAGE sql AS 'SELECT 1'",
             "app", "app");
  const Classification now = c.classify("SELECT f()", "app", "app");
  EXPECT_FALSE(now.readOnly);
  EXPECT_TRUE(now.provisional);
  lookUp(board, {{objectKey("", "f"), 'v'}});
  const Classification then = c.classify("SELECT f()", "app", "app");
  EXPECT_FALSE(then.readOnly);
  EXPECT_FALSE(then.provisional);
}

TEST(CatalogBoard, DdlDropsOnlyTheNamedObjectsAndWhatDependsOnOthers) {
  CatalogBoard board(quickBoard());
  const ScopeId s = board.scope("app", "app");
  CatalogWork w;
  w.scope = s;
  w.functions = {objectKey("", "f"), objectKey("", "g")};
  w.relations = {objectKey("", "t"), objectKey("s", "t"), objectKey("", "u"), objectKey("", "v")};
  board.publish(w, {{{objectKey("", "f"), {'s', nullptr}}, {objectKey("", "g"), {'s', nullptr}}},
                    {{objectKey("", "t"), {true, nullptr, false}},
                     {objectKey("s", "t"), {true, nullptr, false}},
                     {objectKey("", "u"), {true, nullptr, false}},
                     {objectKey("", "v"), {true, nullptr, true}}}});
  const auto has = [&](const auto& map, std::string_view schema, std::string_view name) {
    return map->count(objectKey(schema, name)) == 1;
  };
  board.invalidate(analyze("ALTER TABLE t SET UNLOGGED").catalogChanges);
  auto snap = board.snapshot(s);
  EXPECT_FALSE(has(snap->relations, "", "t"));
  EXPECT_FALSE(has(snap->relations, "s", "t"));  // t in any schema
  EXPECT_TRUE(has(snap->relations, "", "u"));
  EXPECT_FALSE(has(snap->relations, "", "v"));  // a view may read t
  EXPECT_EQ(snap->functions->size(), 2U);

  board.invalidate(analyze("CREATE OR REPLACE FUNCTION g() RETURNS int LANGUAGE sql AS "
                           "'SELECT 1'")
                       .catalogChanges);
  snap = board.snapshot(s);
  EXPECT_TRUE(has(snap->functions, "", "f"));
  EXPECT_FALSE(has(snap->functions, "", "g"));
  EXPECT_TRUE(has(snap->relations, "", "u"));

  board.invalidate(analyze("ALTER ROLE app SET search_path = x").catalogChanges);
  snap = board.snapshot(s);
  EXPECT_TRUE(snap->functions->empty());
  EXPECT_TRUE(snap->relations->empty());
}

TEST(CatalogBoard, LookupsWaitForDdlToSettleAndStaleResultsAreDropped) {
  CatalogBoard::Options o;
  o.settle = 1h;  // never settles during the test
  CatalogBoard board(o);
  const ScopeId s = board.scope("app", "app");
  ASSERT_NE(s, kNoScope);
  EXPECT_EQ(board.scope("app", "app"), s);

  board.request(s, Misses{{objectKey("", "f")}, {}});
  auto work = board.waitForWork(CatalogBoard::Clock::now());
  ASSERT_EQ(work.size(), 1U);
  // A DDL arrives while the lookup is in flight: its answer may predate the DDL.
  board.invalidate(kFunctionsChange);
  board.publish(work[0], {{{objectKey("", "f"), {'s', nullptr}}}, {}});
  EXPECT_TRUE(board.snapshot(s)->functions->empty());
  // Asked again, but only once the DDL had time to commit.
  EXPECT_TRUE(board.waitForWork(CatalogBoard::Clock::now()).empty());
  // Relations wait too after function DDL (a view may call the function) ...
  board.request(s, Misses{{}, {objectKey("", "t")}});
  EXPECT_TRUE(board.waitForWork(CatalogBoard::Clock::now()).empty());
  // ... but relation DDL leaves function lookups alone.
  CatalogBoard other(o);
  const ScopeId s2 = other.scope("app", "app");
  other.invalidate(kRelationsChange);
  other.request(s2, Misses{{objectKey("", "f")}, {objectKey("", "t")}});
  work = other.waitForWork(CatalogBoard::Clock::now());
  ASSERT_EQ(work.size(), 1U);
  EXPECT_EQ(work[0].functions, std::vector<std::string>{objectKey("", "f")});
  EXPECT_TRUE(work[0].relations.empty());
}

TEST(CatalogBoard, UnreachablePrimaryKeepsReadsWorking) {
  CatalogBoard board(quickBoard());
  CachingClassifier c(&board, nullptr, 16);
  EXPECT_FALSE(c.classify("SELECT * FROM t", "app", "app").readOnly);
  for (const CatalogWork& w : board.waitForWork(CatalogBoard::Clock::now()))
    board.failed(w, 1h);
  EXPECT_FALSE(board.snapshot(0)->reachable);
  EXPECT_TRUE(c.classify("SELECT * FROM t", "app", "app").readOnly);
  EXPECT_FALSE(c.classify("SELECT f() FROM t", "app", "app").readOnly);
  // Retried after the back-off, not before.
  EXPECT_TRUE(board.waitForWork(CatalogBoard::Clock::now()).empty());
}

TEST(CatalogBoard, RefreshReplacesTheFacts) {
  CatalogBoard board(quickBoard());
  CachingClassifier c(&board, nullptr, 16);
  c.classify("SELECT f(), g()", "app", "app");
  lookUp(board, {{objectKey("", "f"), 's'}, {objectKey("", "g"), 'i'}});
  EXPECT_TRUE(c.classify("SELECT f(), g()", "app", "app").readOnly);
  board.refreshAll();
  auto work = board.waitForWork(CatalogBoard::Clock::now());
  ASSERT_EQ(work.size(), 1U);
  EXPECT_TRUE(work[0].refresh);
  EXPECT_EQ(work[0].functions.size(), 2U);
  board.publish(work[0], {{{objectKey("", "f"), {'v', "write: f is VOLATILE now"}},
                           {objectKey("", "g"), {'i', nullptr}}},
                          {}});
  EXPECT_STREQ(c.classify("SELECT f(), g()", "app", "app").reason, "write: f is VOLATILE now");
}

TEST(CatalogBoard, FactsPerScopeAreBounded) {
  CatalogBoard::Options o = quickBoard();
  o.maxFacts = 10;
  CatalogBoard board(o);
  const ScopeId s = board.scope("app", "app");
  for (int i = 0; i < 35; ++i) {
    CatalogWork w;
    w.scope = s;
    const std::string key = objectKey("", "f" + std::to_string(i));
    w.functions = {key};
    board.publish(w, {{{key, {'s', nullptr}}}, {}});
    ASSERT_LE(board.snapshot(s)->functions->size(), 10U);
  }
  EXPECT_EQ(board.snapshot(s)->functions->count(objectKey("", "f34")), 1U);
}

TEST(CatalogBoard, OverridesReplaceTheCache) {
  CatalogBoard board(quickBoard());
  CachingClassifier c(&board, nullptr, 16);
  for (int i = 0; i < 3; ++i)
    EXPECT_TRUE(c.classify("SELECT pg_sleep(1)", "app", "app").readOnly);
  board.setOverrides(std::make_shared<FunctionOverrides>(
      std::vector<std::string>{objectKey("", "pg_sleep")}, std::vector<std::string>{}));
  EXPECT_FALSE(c.classify("SELECT pg_sleep(1)", "app", "app").readOnly);
  board.setOverrides(std::make_shared<FunctionOverrides>(
      std::vector<std::string>{}, std::vector<std::string>{objectKey("", "audit")}));
  EXPECT_TRUE(c.classify("SELECT audit()", "app", "app").readOnly);
  EXPECT_TRUE(c.classify("SELECT pg_sleep(1)", "app", "app").readOnly);
}

TEST(CatalogBoard, LookupsOffMeansNoCatalog) {
  CatalogBoard::Options o;
  o.lookups = false;
  CatalogBoard board(o);
  CachingClassifier c(&board, nullptr, 16);
  EXPECT_EQ(board.scope("app", "app"), kNoScope);
  EXPECT_FALSE(c.classify("SELECT f()", "app", "app").readOnly);
  EXPECT_TRUE(c.classify("SELECT * FROM t", "app", "app").readOnly);
  EXPECT_TRUE(board.waitForWork(CatalogBoard::Clock::now()).empty());
}

}  // namespace
}  // namespace pgsplit::sql
