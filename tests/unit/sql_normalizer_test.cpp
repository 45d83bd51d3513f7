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

// ---- statementShape: the classifier's shape cache keys on it --------------------------------

bool sameShape(std::string_view a, std::string_view b) {
  const StatementShape x = statementShape(a);
  const StatementShape y = statementShape(b);
  return x.fingerprint == y.fingerprint && x.check == y.check;
}

TEST(StatementShape, FingerprintIsStatementFingerprint) {
  const char* texts[] = {
      "SELECT abalance FROM pgbench_accounts WHERE aid = 12345;",
      "/* pgsplit:replica */ SELECT 1 -- and a comment",
      "SELECT 'it\\'s' AS x",  // lexes only with standard_conforming_strings off
      "SELECT 'unterminated",
      "SELECT * FROM t WHERE id IN (1, 2, 3)",
      "",
  };
  for (const char* text : texts)
    EXPECT_EQ(statementShape(text).fingerprint, statementFingerprint(text)) << text;
}

TEST(StatementShape, ValuesDoNotCountKindsAndFormsDo) {
  EXPECT_TRUE(sameShape("SELECT abalance FROM pgbench_accounts WHERE aid = 1;",
                        "select abalance  from pgbench_accounts where aid = 99999"));
  EXPECT_TRUE(sameShape("SELECT * FROM t WHERE a = 'x' AND b = 1.5e3",
                        "SELECT * FROM t WHERE a = 'another' AND b = 7"));
  EXPECT_TRUE(sameShape("SELECT E'a', $$b$$, $q$c$q$", "SELECT e'x', $$y$$, $r$z$r$"));
  // The fingerprint merges constants of every kind; the check does not: the classifier may look
  // at the kind of a constant (a string before COLUMNS), never at its value.
  const char* kinds[] = {"SELECT 1",    "SELECT 'x'",  "SELECT $1",    "SELECT E'x'",
                         "SELECT B'1'", "SELECT X'f'", "SELECT U&'x'", "SELECT $$x$$"};
  for (const char* a : kinds) {
    for (const char* b : kinds) {
      EXPECT_EQ(statementFingerprint(a), statementFingerprint(b)) << a << " / " << b;
      if (std::string_view(a) != b) {
        EXPECT_FALSE(sameShape(a, b)) << a << " / " << b;
      }
    }
  }
  // A typed literal, a cast, LIMIT: the constant is still a constant, its neighbours stay.
  EXPECT_TRUE(sameShape("SELECT now() - interval '1 day'", "SELECT now() - interval '2 hours'"));
  EXPECT_FALSE(sameShape("SELECT now() - interval '1 day'", "SELECT now() - interval 5"));
  EXPECT_TRUE(sameShape("SELECT 'a'::regclass", "SELECT 'b'::regclass"));
  EXPECT_FALSE(sameShape("SELECT 'a'::regclass", "SELECT 'a'::text"));
  EXPECT_TRUE(sameShape("SELECT * FROM t LIMIT 1", "SELECT * FROM t LIMIT 1000"));
  EXPECT_FALSE(sameShape("SELECT * FROM t LIMIT 1", "SELECT * FROM t LIMIT ALL"));
  EXPECT_FALSE(sameShape("SELECT * FROM t WHERE b = true", "SELECT * FROM t WHERE b = false"));
  EXPECT_FALSE(
      sameShape("SELECT abalance FROM a WHERE aid = 1", "SELECT bbalance FROM a WHERE aid = 1"));
}

TEST(StatementShape, CollapsedListsHoldOnlyConstants) {
  // A list of constants is one token whatever its length and kinds: nothing in a classifier
  // looks inside one (its elements are neither names nor calls).
  EXPECT_TRUE(
      sameShape("SELECT * FROM t WHERE id IN (1, 2, 3)", "SELECT * FROM t WHERE id IN (4, 5)"));
  EXPECT_TRUE(sameShape("INSERT INTO t VALUES (1, 'a')", "INSERT INTO t VALUES ('b', -2, $$c$$)"));
  // Anything else in the parentheses is kept: names, calls, one constant alone.
  EXPECT_FALSE(
      sameShape("SELECT * FROM t WHERE id IN (1, 2)", "SELECT * FROM t WHERE id IN (1, x)"));
  EXPECT_FALSE(sameShape("SELECT * FROM t WHERE id IN (1, 2)",
                         "SELECT * FROM t WHERE id IN (1, nextval('s'))"));
  EXPECT_FALSE(sameShape("SELECT * FROM t WHERE id IN (1)", "SELECT * FROM t WHERE id IN (1, 2)"));
  EXPECT_FALSE(sameShape("SELECT f(1, 2)", "SELECT g(1, 2)"));
}

TEST(StatementShape, SaysWhenItCannotStandForTheText) {
  const StatementShape plain = statementShape("SELECT * FROM t WHERE a = 'x'");
  EXPECT_TRUE(plain.lexed);
  EXPECT_FALSE(plain.hasBackslash);
  EXPECT_FALSE(plain.hasComment);
  EXPECT_TRUE(plain.shareable());

  // A backslash: with standard_conforming_strings off the literals end elsewhere. Read with it
  // on, this is two strings in a SELECT; with it off, a SELECT, a DELETE and a SELECT.
  const char* twoWays = "SELECT 'x\\', ';DELETE FROM t;SELECT ', E'\\''";
  const StatementShape backslash = statementShape(twoWays);
  EXPECT_TRUE(backslash.lexed);
  EXPECT_TRUE(backslash.hasBackslash);
  EXPECT_FALSE(backslash.hasComment);
  EXPECT_FALSE(backslash.shareable());
  EXPECT_TRUE(sameShape(twoWays, "SELECT 'a', 'b', E'c'"));  // what the flag is for

  // Comments: the fingerprint drops them, hints live in them. Any "--" or "/*" counts, in a
  // literal too.
  for (const char* text : {"/* pgsplit:primary */ SELECT 1", "SELECT 1 -- note", "SELECT /* x */ 1",
                           "SELECT '--'", "SELECT 'a/*b'"}) {
    const StatementShape s = statementShape(text);
    EXPECT_TRUE(s.hasComment) << text;
    EXPECT_FALSE(s.shareable()) << text;
  }
  EXPECT_FALSE(statementShape("SELECT 5 - -1, 4 / 2, '*/'").hasComment);

  // Text the lexer gives up on.
  for (const char* text : {"SELECT 'unterminated", "SELECT $$x", "SELECT \"", "SELECT 1abc"}) {
    const StatementShape s = statementShape(text);
    EXPECT_FALSE(s.lexed) << text;
    EXPECT_FALSE(s.shareable()) << text;
  }
}

TEST(Normalizer, CutsAtAUtf8Boundary) {
  const std::string text = "SELECT \xc3\xa9t\xc3\xa9, \xc3\xa9t\xc3\xa9";  // "SELECT été, été"
  const std::string cut = normalizeStatement(text, 9);                     // mid-character
  EXPECT_EQ(cut, "SELECT \xc3\xa9...");
}

}  // namespace
}  // namespace pgsplit::sql
