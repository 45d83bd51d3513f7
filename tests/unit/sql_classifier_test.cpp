// The classifier as a specification: may this text run on a replica? Anything not provably a
// pure read is a write (readOnly = false).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "pgsplit/sql/classifier.hpp"
#include "sql_classifier_cases.hpp"

namespace pgsplit::sql {
namespace {

using spec::Case;
using spec::kAllCases;

class ClassifierCases : public ::testing::TestWithParam<Case> {};

TEST_P(ClassifierCases, Classifies) {
  const Case& c = GetParam();
  const Classification got = classify(c.sql);
  EXPECT_EQ(got.readOnly, c.readOnly) << c.sql << "\n  reason: " << got.reason;
  EXPECT_EQ(got.txnStart, c.txnStart) << c.sql;
  EXPECT_EQ(got.pins, c.pins) << c.sql << "\n  reason: " << got.reason;
  EXPECT_EQ(got.setsSessionState, c.setsSessionState) << c.sql;
  EXPECT_EQ(got.hint, c.hint) << c.sql;
  ASSERT_NE(got.reason, nullptr) << c.sql;
  if (!c.reason.empty()) {
    EXPECT_EQ(std::string_view(got.reason), c.reason) << c.sql;
  }
  // Invariants: a read's reason says so and a read never starts, pins or sets anything.
  EXPECT_EQ(std::string_view(got.reason).starts_with("read:"), got.readOnly) << c.sql;
  if (got.readOnly) {
    EXPECT_EQ(got.txnStart, TxnStart::None) << c.sql;
    EXPECT_FALSE(got.pins || got.setsSessionState) << c.sql;
    EXPECT_GT(got.statements, 0) << c.sql;
  }
  if (got.pins) {
    EXPECT_TRUE(std::string_view(got.reason).starts_with("pin:")) << c.sql;
  }
}

INSTANTIATE_TEST_SUITE_P(Table, ClassifierCases, ::testing::ValuesIn(kAllCases),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return "case_" + std::to_string(info.index);
                         });

TEST(Classifier, CaseCount) {
  std::printf("[ classifier ] %zu table cases\n", kAllCases.size());
  EXPECT_GE(kAllCases.size(), 400U);
}

// Any read followed by a write is a write, and a read after a read stays a read.
TEST(Classifier, AppendingStatements) {
  for (const Case& c : kAllCases) {
    if (!c.readOnly) continue;
    const std::string text(c.sql);
    EXPECT_FALSE(classify(text + "\n;DELETE FROM t").readOnly) << c.sql;
    EXPECT_FALSE(classify(text + "\n;SELECT nextval('s')").readOnly) << c.sql;
    EXPECT_TRUE(classify(text + "\n;SELECT 1").readOnly) << c.sql;
    EXPECT_TRUE(classify("SELECT 1;\n" + text).readOnly) << c.sql;
  }
}

TEST(Classifier, StatementCount) {
  EXPECT_EQ(classify("").statements, 0);
  EXPECT_EQ(classify(";;").statements, 0);
  EXPECT_EQ(classify("SELECT 1").statements, 1);
  EXPECT_EQ(classify("SELECT 1;").statements, 1);
  EXPECT_EQ(classify("SELECT 1;; SELECT 2;").statements, 2);
  EXPECT_EQ(classify("SELECT ';'; SELECT $$;$$").statements, 2);
  EXPECT_EQ(classify("BEGIN; UPDATE t SET a = 1; COMMIT;").statements, 3);
  // A SQL-standard function body keeps its semicolons.
  EXPECT_EQ(classify("CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; "
                     "SELECT CASE WHEN true THEN 1 END; END; SELECT 2")
                .statements,
            2);
  std::string many;
  for (int i = 0; i < 70000; ++i)
    many += "SELECT 1;";
  const Classification c = classify(many);
  EXPECT_EQ(c.statements, 0xFFFF);  // saturates
  EXPECT_TRUE(c.readOnly);
}

TEST(Classifier, DeepNestingIsBounded) {
  std::string deep;
  for (int i = 0; i < 100000; ++i)
    deep += "(";
  deep += "SELECT 1";
  for (int i = 0; i < 100000; ++i)
    deep += ")";
  EXPECT_TRUE(classify(deep).readOnly);
  std::string explain;
  for (int i = 0; i < 10000; ++i)
    explain += "EXPLAIN ANALYZE ";
  explain += "SELECT 1";
  EXPECT_FALSE(classify(explain).readOnly);
  std::string cte = "WITH ";
  for (int i = 0; i < 2000; ++i)
    cte += "a" + std::to_string(i) + "(x) AS (SELECT 1), ";
  cte += "z AS (SELECT 1) SELECT 1";
  EXPECT_TRUE(classify(cte).readOnly);
}

std::string randomText(std::mt19937& rng, bool tokens) {
  static const std::vector<std::string> vocabulary = {
      "SELECT", "INSERT",  "UPDATE",  "DELETE",  "WITH",    "AS",      "(",      ")",
      ",",      ";",       "FOR",     "SHARE",   "KEY",     "NO",      "INTO",   "TEMP",
      "FROM",   "t",       "nextval", "lower",   "'s'",     "$$x$$",   "$1",     "1",
      "\"q\"",  "/* c */", "-- c\n",  "EXPLAIN", "ANALYZE", "COPY",    "TO",     "STDOUT",
      "BEGIN",  "READ",    "ONLY",    "SET",     "LOCAL",   "DECLARE", "CURSOR", "HOLD",
      "CREATE", "TABLE",   "pg_temp", ".",       "::",      "numeric", "x",      "'",
      "\"",     "$$",      "/*",      "E'\\'",   "LISTEN",  "PREPARE", "VALUES"};
  std::string text;
  const int len = static_cast<int>(rng() % 24);
  for (int i = 0; i < len; ++i) {
    if (tokens) {
      text += vocabulary[rng() % vocabulary.size()];
      text += (rng() % 4 == 0) ? "" : " ";
    } else {
      text += static_cast<char>(rng() & 0xFF);
    }
  }
  return text;
}

TEST(Classifier, RandomInputNeverCrashes) {
  std::mt19937 rng(20240607);
  for (int i = 0; i < 6000; ++i) {
    const std::string text = randomText(rng, i % 2 == 0);
    const Classification c = classify(text);
    ASSERT_NE(c.reason, nullptr);
    if (c.readOnly) {
      ASSERT_GT(c.statements, 0) << text;
      ASSERT_FALSE(c.pins || c.setsSessionState) << text;
      ASSERT_EQ(c.txnStart, TxnStart::None) << text;
    }
  }
}

// Not an assertion: a rough cost figure for the hot path.
TEST(Classifier, HotPathCost) {
  const std::string_view queries[] = {
      "SELECT abalance FROM pgbench_accounts WHERE aid = 1234;",
      "UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid = 5;",
      "BEGIN;",
  };
  for (const std::string_view q : queries) {
    constexpr int kIterations = 200000;
    int reads = 0;
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < kIterations; ++i)
      reads += classify(q).readOnly ? 1 : 0;
    const auto elapsed = std::chrono::steady_clock::now() - start;
    const double ns = std::chrono::duration<double, std::nano>(elapsed).count() /
                      static_cast<double>(kIterations);
    std::printf("[ classifier ] %6.0f ns  %.*s (%d)\n", ns, static_cast<int>(q.size()), q.data(),
                reads > 0);
  }
}

}  // namespace
}  // namespace pgsplit::sql
