// The per-worker classifier: its cache, and the catalog board it shares with the lookup thread
// (played here by the test: it takes the board's work and publishes facts).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "pgsplit/sql/caching_classifier.hpp"
#include "pgsplit/sql/catalog_board.hpp"
#include "pgsplit/sql/lexer.hpp"
#include "pgsplit/sql/normalizer.hpp"
#include "sql_classifier_cases.hpp"

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

// ---- the shape cache: texts that differ only in their literals ------------------------------

// Everything a caller reads of a classification and of lastAnalysis().
void expectSameVerdict(const Classification& got, const Classification& want,
                       std::string_view sql) {
  expectSame(got, want, sql);
  EXPECT_EQ(got.kinds, want.kinds) << sql;
  EXPECT_EQ(got.provisional, want.provisional) << sql;
  EXPECT_EQ(got.primaryRead, want.primaryRead) << sql;
}

void expectSameAnalysis(const Analysis& got, const Analysis& want, std::string_view sql) {
  EXPECT_EQ(got.functions, want.functions) << sql;
  EXPECT_EQ(got.relations, want.relations) << sql;
  EXPECT_EQ(got.tables, want.tables) << sql;
  EXPECT_EQ(got.calls, want.calls) << sql;
  EXPECT_EQ(got.catalogChanges.kinds, want.catalogChanges.kinds) << sql;
  EXPECT_EQ(got.readsConstants, want.readsConstants) << sql;
}

// What a fresh analysis says of sql, as a classifier without a board resolves it.
Classification fresh(std::string_view sql) {
  return resolve(analyze(sql), nullptr);
}

// Classifies seed twice (the second sighting caches its shape, when it may be), then probe, whose
// answer must be what a fresh analysis says. Returns whether the probe was answered from a shape.
bool probeAfter(CachingClassifier& c, std::string_view seed, std::string_view probe) {
  c.classify(seed);
  c.classify(seed);
  const std::uint64_t before = c.stats().shapeHits.load();
  const Classification got = c.classify(probe);
  expectSameVerdict(got, fresh(probe), probe);
  expectSameAnalysis(c.lastAnalysis(), analyze(probe), probe);
  EXPECT_EQ(got.fingerprint, statementFingerprint(probe)) << probe;
  return c.stats().shapeHits.load() > before;
}

TEST(ShapeCache, TextsDifferingOnlyInLiteralsShareOneAnalysis) {
  CachingClassifier c(nullptr, nullptr, 64);
  for (int aid = 1; aid <= 100; ++aid) {
    const std::string sql =
        "SELECT abalance FROM pgbench_accounts WHERE aid = " + std::to_string(aid) + ";";
    const Classification got = c.classify(sql);
    expectSameVerdict(got, fresh(sql), sql);
    expectSameAnalysis(c.lastAnalysis(), analyze(sql), sql);
    EXPECT_EQ(got.fingerprint, statementFingerprint(sql));
    EXPECT_TRUE(got.readOnly);
  }
  // The first two are analysed (the second sighting of a shape caches it), the rest are not.
  EXPECT_EQ(c.stats().misses.load(), 2U);
  EXPECT_EQ(c.stats().shapeHits.load(), 98U);
  EXPECT_EQ(c.stats().hits.load(), 0U);
  EXPECT_EQ(c.shapes(), 1U);
  EXPECT_EQ(c.size(), 0U);  // no text came twice

  // Plain writes share too.
  for (int aid = 1; aid <= 10; ++aid) {
    const std::string sql = "UPDATE pgbench_accounts SET abalance = abalance + -" +
                            std::to_string(aid * 7) + " WHERE aid = " + std::to_string(aid);
    const Classification got = c.classify(sql);
    expectSameVerdict(got, fresh(sql), sql);
    expectSameAnalysis(c.lastAnalysis(), analyze(sql), sql);
    EXPECT_FALSE(got.readOnly);
  }
  EXPECT_EQ(c.stats().shapeHits.load(), 98U + 8U);
  EXPECT_EQ(c.shapes(), 2U);
}

TEST(ShapeCache, ATextThatRepeatsStillGetsItsOwnEntry) {
  CachingClassifier c(nullptr, nullptr, 64);
  c.classify("SELECT * FROM t WHERE id = 1");
  c.classify("SELECT * FROM t WHERE id = 2");  // caches the shape
  const std::string sql = "SELECT * FROM t WHERE id = 3";
  c.classify(sql);  // from the shape
  const Analysis* fromShape = &c.lastAnalysis();
  EXPECT_EQ(c.stats().shapeHits.load(), 1U);
  c.classify(sql);  // from the shape, and now cached as text
  EXPECT_EQ(c.stats().shapeHits.load(), 2U);
  EXPECT_EQ(c.size(), 1U);
  EXPECT_NE(&c.lastAnalysis(), fromShape);  // the text's own copy
  const Classification hit = c.classify(sql);
  EXPECT_EQ(c.stats().hits.load(), 1U);
  expectSameVerdict(hit, fresh(sql), sql);
  expectSameAnalysis(c.lastAnalysis(), analyze(sql), sql);
  EXPECT_EQ(c.stats().misses.load(), 2U);
}

TEST(ShapeCache, BoundedAndOffWhenAsked) {
  CachingClassifier c(nullptr, nullptr, 64, 8);
  for (int i = 0; i < 200; ++i) {
    const std::string sql = "SELECT c" + std::to_string(i % 50) + " FROM t WHERE id = ";
    const Classification got = c.classify(sql + std::to_string(i));
    ASSERT_TRUE(got.readOnly);
    ASSERT_LE(c.shapes(), 8U);
  }
  EXPECT_GT(c.stats().shapeEvictions.load(), 0U);
  EXPECT_EQ(c.stats().evictions.load(), 0U);  // texts: none came twice

  CachingClassifier noShapes(nullptr, nullptr, 64, 0);
  CachingClassifier noCache(nullptr, nullptr, 0);
  for (int aid = 1; aid <= 10; ++aid) {
    const std::string sql = "SELECT 1 FROM t WHERE id = " + std::to_string(aid);
    EXPECT_TRUE(noShapes.classify(sql).readOnly);
    EXPECT_TRUE(noCache.classify(sql).readOnly);
  }
  EXPECT_EQ(noShapes.stats().shapeHits.load(), 0U);
  EXPECT_EQ(noShapes.shapes(), 0U);
  EXPECT_EQ(noCache.stats().shapeHits.load(), 0U);
  EXPECT_EQ(noCache.stats().misses.load(), 10U);
}

// Random churn over both caches (shapes and texts pushed out, texts copied from shapes): every
// answer, and what lastAnalysis() names, must still be the ones for that text.
TEST(ShapeCache, ChurnNeverMixesUpShapes) {
  CachingClassifier c(nullptr, nullptr, 16, 8);
  std::mt19937 rng(7);
  for (int i = 0; i < 20000; ++i) {
    const unsigned table = rng() % 40;
    const unsigned value = rng() % 30;
    const std::string t = "t" + std::to_string(table);
    const std::string sql = (table % 2 == 0)
                                ? "SELECT * FROM " + t + " WHERE id = " + std::to_string(value)
                                : "DELETE FROM " + t + " WHERE id = " + std::to_string(value);
    const Classification got = c.classify(sql);
    ASSERT_EQ(got.readOnly, table % 2 == 0) << sql;
    ASSERT_EQ(got.fingerprint, statementFingerprint(sql)) << sql;
    ASSERT_EQ(c.lastAnalysis().tables, std::vector<std::string>{objectKey("", t)}) << sql;
  }
  EXPECT_GT(c.stats().shapeHits.load(), 1000U);
  EXPECT_GT(c.stats().hits.load(), 100U);
  EXPECT_GT(c.stats().shapeEvictions.load(), 100U);
  EXPECT_GT(c.stats().evictions.load(), 100U);
}

// The eligibility rules, one hazard each: the probe has the seed's shape key (or would have,
// but for what the rule is about) and a fresh analysis classifies it otherwise. Used, the shape
// would give the seed's verdict; these fail if a rule is dropped.
TEST(ShapeCache, EligibilityIsWhatKeepsTheseApart) {
  struct Hazard {
    const char* seed;
    const char* probe;
  };
  const Hazard hazards[] = {
      // A backslash: read with standard_conforming_strings on, two strings in a SELECT; read
      // with it off, a DELETE between two SELECTs.
      {"SELECT 'a', 'b', E'c'", "SELECT 'x\\', ';DELETE FROM t;SELECT ', E'\\''"},
      // Comments: the fingerprint drops them; hints live in them.
      {"/* note */ SELECT * FROM t WHERE id = 1",
       "/* pgsplit:primary */ SELECT * FROM t WHERE id = 2"},
      {"SELECT * FROM t WHERE id = 1 -- a note",
       "/* pgsplit:replica */ SELECT * FROM t WHERE id = 2"},
      // A value that decides: SET pins for serializable.
      {"SET default_transaction_isolation = 'read committed'",
       "SET default_transaction_isolation = 'serializable'"},
      // ... and keeps a standby's transaction off.
      {"BEGIN READ ONLY; SET LOCAL transaction_isolation = 'read committed'; SELECT 1; COMMIT",
       "BEGIN READ ONLY; SET LOCAL transaction_isolation = 'serializable'; SELECT 1; COMMIT"},
      // EXPLAIN (ANALYZE 'off') does not run the statement: another reason.
      {"EXPLAIN (ANALYZE 'off') SELECT 1", "EXPLAIN (ANALYZE 'on') SELECT 2"},
      {"EXPLAIN (ANALYZE 0) SELECT 1", "EXPLAIN (ANALYZE 1) SELECT 1"},
  };
  for (const Hazard& h : hazards) {
    const StatementShape seed = statementShape(h.seed);
    const StatementShape probe = statementShape(h.probe);
    ASSERT_EQ(seed.fingerprint, probe.fingerprint) << h.probe;
    ASSERT_EQ(seed.check, probe.check) << h.probe;
    const Classification a = fresh(h.seed);
    const Classification b = fresh(h.probe);
    const bool differ = a.readOnly != b.readOnly || a.pins != b.pins || a.hint != b.hint ||
                        a.txnStart != b.txnStart || std::string_view(a.reason) != b.reason;
    ASSERT_TRUE(differ) << h.probe;

    CachingClassifier c(nullptr, nullptr, 64);
    EXPECT_FALSE(probeAfter(c, h.seed, h.probe)) << h.probe;
    EXPECT_FALSE(probeAfter(c, h.probe, h.seed)) << h.seed;
  }
  // The first one, spelled out: a write, never a read.
  CachingClassifier c(nullptr, nullptr, 64);
  probeAfter(c, hazards[0].seed, hazards[0].probe);
  EXPECT_FALSE(c.classify(hazards[0].probe).readOnly);
}

TEST(ShapeCache, WhatNeverGetsAShape) {
  // Pins, session state, hints, transaction control, DDL, unlexable text: each seen over and
  // over with other literals, never cached as a shape.
  const std::vector<std::vector<std::string>> families = {
      {"SELECT set_config('search_path', 'a', false)", "SELECT set_config('x', 'y', true)",
       "SELECT set_config('x', $1, false)"},
      {"SELECT pg_advisory_lock(1)", "SELECT pg_advisory_lock(2)"},
      {"SET search_path = 'a'", "SET search_path = 'b'"},
      {"SET statement_timeout = 5", "SET statement_timeout = 6000"},
      {"/* pgsplit:replica */ SELECT 1", "/* pgsplit:replica */ SELECT 2"},
      {"BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY",
       "BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY"},
      {"PREPARE TRANSACTION 'a'", "PREPARE TRANSACTION 'b'"},
      {"CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$SELECT 1$$",
       "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$DELETE FROM t RETURNING 1$$"},
      {"COMMENT ON TABLE t IS 'a'", "COMMENT ON TABLE t IS 'b'"},
      {"SELECT 1 INTO TEMP t2", "SELECT 2 INTO TEMP t2"},
      {"SELECT 1 INTO UNLOGGED t2", "SELECT 2 INTO UNLOGGED t2"},  // a write, but DDL too
      {"LISTEN a; SELECT 1", "LISTEN a; SELECT 2"},
      {"SELECT 'unterminated", "SELECT 'unterminated too"},
      {"SELECT E'a\\'b'", "SELECT E'c\\'d'"},
  };
  for (const auto& family : families) {
    CachingClassifier c(nullptr, nullptr, 64);
    for (int round = 0; round < 3; ++round) {
      for (const std::string& sql : family) {
        const Classification got = c.classify(sql + std::string(round, ' '));
        expectSameVerdict(got, fresh(sql), sql);
      }
    }
    EXPECT_EQ(c.shapes(), 0U) << family[0];
    EXPECT_EQ(c.stats().shapeHits.load(), 0U) << family[0];
  }
}

TEST(ShapeCache, WritesStayWrites) {
  struct Pair {
    const char* seed;
    const char* probe;
    bool shared;
  };
  const Pair pairs[] = {
      {"SELECT nextval('a')", "SELECT nextval('b')", true},
      {"SELECT nextval('a'::regclass)", "SELECT nextval('b'::regclass)", true},
      {"SELECT currval('a')", "SELECT currval('b')", true},
      {"SELECT pg_advisory_xact_lock(1)", "SELECT pg_advisory_xact_lock(2)", true},
      {"SELECT * FROM t WHERE id = 1 FOR UPDATE", "SELECT * FROM t WHERE id = 2 FOR UPDATE", true},
      {"DELETE FROM t WHERE id IN (1, 2)", "DELETE FROM t WHERE id IN (3, 4, 5)", true},
      {"INSERT INTO t VALUES (1, 'a')", "INSERT INTO t VALUES (2, 'b', 3)", true},
      // A DO body is one constant: any body is a write, and never the shape of a read.
      {"DO $$BEGIN PERFORM 1; END$$", "DO $$BEGIN DELETE FROM t; END$$", true},
      {"DO 'BEGIN PERFORM 1; END'", "DO 'BEGIN DELETE FROM t; END'", true},
      {"SELECT $$BEGIN DELETE FROM t; END$$", "DO $$BEGIN DELETE FROM t; END$$", false},
      {"SELECT 'DO', $$x$$", "DO $$x$$", false},
      {"SELECT $$x$$", "DO $$x$$", false},
  };
  for (const Pair& p : pairs) {
    CachingClassifier c(nullptr, nullptr, 64);
    EXPECT_EQ(probeAfter(c, p.seed, p.probe), p.shared) << p.probe;
    EXPECT_FALSE(c.classify(p.probe).readOnly) << p.probe;
  }
}

TEST(ShapeCache, ConstantsInAnyPlaceAreStillConstants) {
  struct Pair {
    const char* seed;
    const char* probe;
    bool shared;
  };
  const Pair pairs[] = {
      {"SELECT * FROM t WHERE id IN (1, 2, 3)", "SELECT * FROM t WHERE id IN (4, 5, 'x', -6)",
       true},
      {"SELECT * FROM t LIMIT 1", "SELECT * FROM t LIMIT 1000 OFFSET 5", false},
      {"SELECT * FROM t LIMIT 1 OFFSET 2", "SELECT * FROM t LIMIT 1000 OFFSET 5", true},
      {"SELECT * FROM t FETCH FIRST 1 ROWS ONLY", "SELECT * FROM t FETCH FIRST 9 ROWS ONLY", true},
      {"SELECT 'a'::regclass", "SELECT 'pg_class'::regclass", true},
      {"SELECT now() - interval '1 day'", "SELECT now() - interval '2 hours'", true},
      {"SELECT now() - interval '1 day'", "SELECT now() - interval 5", false},
      {"EXPLAIN (FORMAT 'json') SELECT 1", "EXPLAIN (FORMAT 'text') SELECT 2", true},
      {"COPY (SELECT 1) TO STDOUT WITH (FORMAT 'csv')",
       "COPY (SELECT 2) TO STDOUT WITH (FORMAT 'text')", true},
      // The kind of a constant can matter: a string before COLUMNS is JSON_TABLE's path, a
      // number there makes COLUMNS (...) a call.
      {"SELECT * FROM JSON_TABLE(doc, '$' COLUMNS (a int)) jt",
       "SELECT * FROM JSON_TABLE(doc, 1 COLUMNS (a int)) jt", false},
      {"SELECT * FROM t WHERE id = $1", "SELECT * FROM t WHERE id = 1", false},
      {"SELECT * FROM t WHERE a = 'x'", "SELECT * FROM t WHERE a = 1", false},
  };
  for (const Pair& p : pairs) {
    CachingClassifier c(nullptr, nullptr, 64);
    EXPECT_EQ(probeAfter(c, p.seed, p.probe), p.shared) << p.probe;
  }
  EXPECT_NE(fresh("SELECT * FROM JSON_TABLE(doc, '$' COLUMNS (a int)) jt").readOnly,
            fresh("SELECT * FROM JSON_TABLE(doc, 1 COLUMNS (a int)) jt").readOnly);
}

// The text with every constant replaced by another of the same kind and form (so, the same
// shape when it has one).
std::string otherLiterals(std::string_view sql) {
  std::string out;
  std::size_t at = 0;
  Lexer lexer(sql);
  for (Token t = lexer.next(); t.kind != TokenKind::End && t.kind != TokenKind::Error;
       t = lexer.next()) {
    std::string other;
    if (t.kind == TokenKind::Number) {
      other = t.text == "7" ? "8" : "7";
    } else if (t.kind == TokenKind::Param) {
      other = t.text == "$9" ? "$8" : "$9";
    } else if (t.kind == TokenKind::String && t.text.front() == '$') {
      const std::string tag(t.text.substr(0, t.text.find('$', 1) + 1));
      other = tag + "zz" + tag;
    } else if (t.kind == TokenKind::String) {
      const std::string prefix(t.text.substr(0, t.text.find('\'') + 1));
      const char form = static_cast<char>(prefix[0] | 0x20);
      other = prefix + (form == 'b' ? "1" : form == 'x' ? "f" : "zz") + "'";
    } else {
      continue;
    }
    out.append(sql.substr(at, t.offset - at));
    out += other;
    at = t.offset + t.text.size();
  }
  out.append(sql.substr(at));
  return out;
}

// The text with the ASCII letters of its unquoted words (keywords and names) in the other case:
// PostgreSQL folds them, the fingerprint folds them, so must the classifier.
std::string otherCase(std::string_view sql) {
  std::string out(sql);
  Lexer lexer(sql);
  for (Token t = lexer.next(); t.kind != TokenKind::End && t.kind != TokenKind::Error;
       t = lexer.next()) {
    if (t.kind != TokenKind::Identifier) continue;
    for (std::size_t i = t.offset; i < t.offset + t.text.size(); ++i) {
      const char c = out[i];
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) out[i] = static_cast<char>(c ^ 0x20);
    }
  }
  return out;
}

// Every case of the classifier's table, classified after a text of its shape with other literals
// was (and the other way round, and with its words in the other case): the same verdict as a
// fresh analysis, field by field.
TEST(ShapeCache, EveryCaseAfterItsShapeWithOtherLiterals) {
  std::size_t shared = 0;
  std::size_t sharedFolded = 0;
  std::size_t withLiterals = 0;
  for (const spec::Case& k : spec::kAllCases) {
    const std::string sql(k.sql);
    const std::string other = otherLiterals(sql);
    if (other == sql) continue;
    ++withLiterals;
    CachingClassifier c(nullptr, nullptr, 64);
    if (probeAfter(c, other, sql)) ++shared;
    CachingClassifier back(nullptr, nullptr, 64);
    probeAfter(back, sql, other);
    CachingClassifier folded(nullptr, nullptr, 64);
    if (probeAfter(folded, otherCase(other), sql)) ++sharedFolded;
    // And the table's own expectation.
    const Classification got = c.classify(sql);
    EXPECT_EQ(got.readOnly, k.readOnly) << sql;
    EXPECT_EQ(got.pins, k.pins) << sql;
  }
  // Most texts with literals share a shape with their variant; the rest are what the rules keep
  // apart (hints, SET, pins, ...).
  EXPECT_GT(withLiterals, 150U);
  EXPECT_GT(shared, withLiterals / 3);
  EXPECT_EQ(sharedFolded, shared);
  std::printf("[ shapes ] %zu of %zu cases with literals answered from a shape\n", shared,
              withLiterals);
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

TEST(ShapeCache, CatalogFactsAndDdlApplyToShapes) {
  CatalogBoard board(quickBoard());
  CachingClassifier c(&board, nullptr, 64);
  EXPECT_TRUE(c.classify("SELECT stable_f(1)", "app", "app").provisional);
  EXPECT_TRUE(c.classify("SELECT stable_f(2)", "app", "app").provisional);
  lookUp(board, {{objectKey("", "stable_f"), 's'}});
  const Classification after = c.classify("SELECT stable_f(3)", "app", "app");
  EXPECT_TRUE(after.readOnly);
  EXPECT_EQ(c.stats().shapeHits.load(), 1U);
  EXPECT_TRUE(c.classify("SELECT stable_f(4)", "app", "app").readOnly);  // from the memo

  c.classify(
      "CREATE OR REPLACE FUNCTION stable_f(int) RETURNS int VOLATILE LANGUAGE sql AS "
      "'SELECT 1'",
      "app", "app");
  const Classification stale = c.classify("SELECT stable_f(5)", "app", "app");
  EXPECT_FALSE(stale.readOnly);
  EXPECT_TRUE(stale.provisional);
  lookUp(board, {{objectKey("", "stable_f"), 'v'}});
  const Classification volatileNow = c.classify("SELECT stable_f(6)", "app", "app");
  EXPECT_FALSE(volatileNow.readOnly);
  EXPECT_FALSE(volatileNow.provisional);
  EXPECT_EQ(c.stats().shapeHits.load(), 4U);
}

TEST(ShapeCache, OverridesClearShapes) {
  CatalogBoard board(quickBoard());
  CachingClassifier c(&board, nullptr, 64);
  for (int i = 1; i <= 3; ++i)
    EXPECT_TRUE(c.classify("SELECT pg_sleep(" + std::to_string(i) + ")", "app", "app").readOnly);
  EXPECT_EQ(c.shapes(), 1U);
  board.setOverrides(std::make_shared<FunctionOverrides>(
      std::vector<std::string>{objectKey("", "pg_sleep")}, std::vector<std::string>{}));
  EXPECT_FALSE(c.classify("SELECT pg_sleep(4)", "app", "app").readOnly);
  EXPECT_FALSE(c.classify("SELECT pg_sleep(5)", "app", "app").readOnly);
  EXPECT_FALSE(c.classify("SELECT pg_sleep(6)", "app", "app").readOnly);
}

}  // namespace
}  // namespace pgsplit::sql
