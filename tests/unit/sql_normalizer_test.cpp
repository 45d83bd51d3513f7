// The normaliser behind SHOW QUERIES and the slow-statement log: constants out, shape kept.
#include <gtest/gtest.h>

#include "pgsplit/sql/normalizer.hpp"

namespace pgsplit::sql {
namespace {

struct Case {
  const char* text;
  const char* normalized;
};

TEST(Normalizer, ReplacesConstantsWithPlaceholders) {
  const Case cases[] = {
      {"SELECT abalance FROM pgbench_accounts WHERE aid = 12345;",
       "SELECT abalance FROM pgbench_accounts WHERE aid = $1"},
      {"select * from t where name = 'O''Brien' and n > 1.5e3",
       "select * from t where name = $1 "
       "and n > $2"},
      {"SELECT E'a\\'b', U&'d\\0061t', B'1010', X'ff', $$dollar 'quoted'$$, $tag$x$tag$",
       "SELECT $1, $2, $3, $4, $5, $6"},
      {"SELECT -42, +7, .5", "SELECT -$1, +$2, $3"},
      {"SELECT '2024-01-01'::date + interval '1 day'", "SELECT $1::date + interval $2"},
      {"UPDATE t SET a = $1 WHERE id = $2 AND flag = 'x'",
       "UPDATE t SET a = $1 WHERE id = $2 AND flag = $3"},  // numbered after the text's own
      {"SELECT true, false, null", "SELECT true, false, null"},
      {"  SELECT\n\t1  --  comment 'secret'\n", "SELECT $1"},
      {"/* pgsplit:replica */ SELECT /* 'x' */ 2", "SELECT $1"},
      {"SELECT 1; SELECT 'two';", "SELECT $1; SELECT $2"},
      {"BEGIN;;COMMIT", "BEGIN; COMMIT"},
      {"SELECT f(1)", "SELECT f($1)"},
      {"", ""},
  };
  for (const Case& c : cases)
    EXPECT_EQ(normalizeStatement(c.text), c.normalized) << c.text;
}

TEST(Normalizer, CollapsesListsOfConstants) {
  EXPECT_EQ(normalizeStatement("SELECT * FROM t WHERE id IN (1, 2, 3)"),
            "SELECT * FROM t WHERE id IN ($1, ...)");
  EXPECT_EQ(normalizeStatement("SELECT * FROM t WHERE id IN ($1,$2,-3)"),
            "SELECT * FROM t WHERE id IN ($3, ...)");
  EXPECT_EQ(normalizeStatement("INSERT INTO t VALUES (1, 'a'), (2, 'b')"),
            "INSERT INTO t VALUES ($1, ...), ($2, ...)");
  // One constant, or expressions, are not lists of constants.
  EXPECT_EQ(normalizeStatement("SELECT (1)"), "SELECT ($1)");
  EXPECT_EQ(normalizeStatement("SELECT f(1, x)"), "SELECT f($1, x)");
  EXPECT_EQ(normalizeStatement("SELECT (1 + 2, 3)"), "SELECT ($1 + $2, $3)");
  EXPECT_EQ(statementFingerprint("SELECT * FROM t WHERE id IN (1, 2)"),
            statementFingerprint("select * from t where id in (7, 8, 9, 10, 11)"));
}

TEST(Normalizer, FingerprintIgnoresConstantsCaseSpacingAndComments) {
  const std::uint64_t f =
      statementFingerprint("SELECT abalance FROM pgbench_accounts WHERE aid = 1");
  EXPECT_EQ(f, statementFingerprint("select  abalance\nfrom pgbench_accounts where aid = 99999;"));
  EXPECT_EQ(
      f, statementFingerprint("/* hint */ SELECT abalance FROM pgbench_accounts WHERE aid = $1"));
  EXPECT_EQ(f, statementFingerprint("SELECT abalance FROM pgbench_accounts WHERE aid = 'x'"));
  EXPECT_NE(f, statementFingerprint("SELECT bbalance FROM pgbench_accounts WHERE aid = 1"));
  EXPECT_NE(f, statementFingerprint("SELECT abalance FROM pgbench_accounts WHERE aid > 1"));
  // Quoted identifiers keep their case.
  EXPECT_NE(statementFingerprint("SELECT \"A\" FROM t"),
            statementFingerprint("SELECT \"a\" FROM t"));
  EXPECT_EQ(statementFingerprint("SELECT A FROM t"), statementFingerprint("SELECT a FROM t"));
  // Token boundaries matter: "a b" is not "ab".
  EXPECT_NE(statementFingerprint("SELECT a b"), statementFingerprint("SELECT ab"));
  EXPECT_NE(statementFingerprint(""), 0u);
  EXPECT_NE(statementFingerprint("SELECT 1"), statementFingerprint("SELECT 1; SELECT 2"));
}

TEST(Normalizer, NeverShowsAnyPartOfALiteral) {
  // Unterminated: cut where the lexer gives up.
  EXPECT_EQ(normalizeStatement("SELECT 1, 'secret value"), "SELECT $1, ...");
  EXPECT_EQ(normalizeStatement("SELECT $$secret"), "SELECT ...");
  EXPECT_EQ(normalizeStatement("SELECT 1 /* unterminated 'secret'"), "SELECT $1 ...");
  // Only lexes with standard_conforming_strings off: read that way.
  EXPECT_EQ(normalizeStatement("SELECT 'it\\'s secret' AS x"), "SELECT $1 AS x");
  // Truncation at the limit never splits a placeholder into a literal.
  const std::string longText = "SELECT '" + std::string(5000, 'x') + "', col FROM t";
  EXPECT_EQ(normalizeStatement(longText), "SELECT $1, col FROM t");
  std::string manyColumns = "SELECT ";
  for (int i = 0; i < 400; ++i)
    manyColumns += "column_" + std::to_string(i) + ", ";
  manyColumns += "'secret'";
  const std::string cut = normalizeStatement(manyColumns, 100);
  EXPECT_LE(cut.size(), 103u);
  EXPECT_TRUE(cut.ends_with("...")) << cut;
  EXPECT_EQ(cut.find("secret"), std::string::npos);
}

TEST(Normalizer, CutsAtAUtf8Boundary) {
  const std::string text = "SELECT \xc3\xa9t\xc3\xa9, \xc3\xa9t\xc3\xa9";  // "SELECT été, été"
  const std::string cut = normalizeStatement(text, 9);                     // mid-character
  EXPECT_EQ(cut, "SELECT \xc3\xa9...");
}

}  // namespace
}  // namespace pgsplit::sql
