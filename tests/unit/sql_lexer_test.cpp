// The lexer's token boundaries are PostgreSQL's (scan.l, standard_conforming_strings on).
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "pgsplit/sql/lexer.hpp"

namespace pgsplit::sql {
namespace {

using K = TokenKind;
using Toks = std::vector<std::pair<TokenKind, std::string>>;

Toks lex(std::string_view text, bool comments = false) {
  Toks out;
  Lexer lexer(text, comments);
  for (int i = 0; i < 10000; ++i) {
    const Token t = lexer.next();
    if (t.kind == K::End) return out;
    out.emplace_back(t.kind, std::string(t.text));
  }
  ADD_FAILURE() << "no End token";
  return out;
}

// The kind of the single token `text` lexes to (fails when it is not exactly one token).
TokenKind only(std::string_view text) {
  const Toks t = lex(text);
  EXPECT_EQ(t.size(), 1U) << text;
  if (t.size() != 1) return K::End;
  if (t[0].first != K::Error) {
    EXPECT_EQ(t[0].second, text);
  }
  return t[0].first;
}

int semicolons(std::string_view text) {
  int n = 0;
  for (const auto& [kind, s] : lex(text))
    n += kind == K::Semicolon ? 1 : 0;
  return n;
}

TEST(SqlLexer, TokensAreViews) {
  static_assert(std::is_trivially_copyable_v<Token>);
  const std::string_view text = "SELECT 1";
  Lexer lexer(text);
  const Token t = lexer.next();
  EXPECT_EQ(t.text.data(), text.data());
}

TEST(SqlLexer, EmptyAndWhitespace) {
  EXPECT_TRUE(lex("").empty());
  EXPECT_TRUE(lex(" \t\r\n\f\v").empty());
  Lexer lexer("  ");
  EXPECT_EQ(lexer.next().kind, K::End);
  EXPECT_EQ(lexer.next().kind, K::End);  // End is sticky
}

TEST(SqlLexer, SimpleStatement) {
  const Toks expected = {{K::Identifier, "SELECT"}, {K::Identifier, "abalance"},
                         {K::Identifier, "FROM"},   {K::Identifier, "pgbench_accounts"},
                         {K::Identifier, "WHERE"},  {K::Identifier, "aid"},
                         {K::Operator, "="},        {K::Number, "1234"},
                         {K::Semicolon, ";"}};
  EXPECT_EQ(lex("SELECT abalance FROM pgbench_accounts WHERE aid = 1234;"), expected);
}

TEST(SqlLexer, Offsets) {
  const std::string_view text = "SELECT  a,\n\tb FROM \"T\";";
  Lexer lexer(text);
  const std::vector<std::pair<std::size_t, std::string_view>> expected = {
      {0, "SELECT"}, {8, "a"}, {9, ","}, {12, "b"}, {14, "FROM"}, {19, "\"T\""}, {22, ";"}};
  for (const auto& [offset, s] : expected) {
    const Token t = lexer.next();
    EXPECT_EQ(t.offset, offset) << s;
    EXPECT_EQ(t.text, s);
    EXPECT_EQ(text.substr(t.offset, t.text.size()), t.text);
  }
  const Token end = lexer.next();
  EXPECT_EQ(end.kind, K::End);
  EXPECT_EQ(end.offset, text.size());
}

TEST(SqlLexer, Identifiers) {
  EXPECT_EQ(only("abc"), K::Identifier);
  EXPECT_EQ(only("_x1"), K::Identifier);
  EXPECT_EQ(only("a$b$"), K::Identifier);  // '$' continues an identifier
  EXPECT_EQ(only("MixedCase"), K::Identifier);
  EXPECT_EQ(only("caf\xc3\xa9"), K::Identifier);  // bytes >= 0x80 are identifier characters
  EXPECT_EQ(only("e"), K::Identifier);
  EXPECT_EQ(only("u"), K::Identifier);
  const Toks ue = {{K::Identifier, "u"}, {K::Operator, "&"}, {K::Identifier, "x"}};
  EXPECT_EQ(lex("u&x"), ue);
}

TEST(SqlLexer, QuotedIdentifiers) {
  EXPECT_EQ(only("\"a\"\"b\""), K::QuotedIdentifier);
  EXPECT_EQ(only("\"semi;colon -- /* 'x' $$\""), K::QuotedIdentifier);
  EXPECT_EQ(only("U&\"d\\0061t\\+000061\""), K::QuotedIdentifier);
  EXPECT_EQ(only("u&\"x\""), K::QuotedIdentifier);
  EXPECT_EQ(only("\"unterminated"), K::Error);
  EXPECT_EQ(only("\"ends with escaped quote\"\""), K::Error);
  EXPECT_EQ(only("U&\"open"), K::Error);
  EXPECT_EQ(lex("SELECT \"\" FROM t").back().first, K::Error);  // zero-length: an error
}

TEST(SqlLexer, StandardStrings) {
  EXPECT_EQ(only("'it''s'"), K::String);
  EXPECT_EQ(only("''"), K::String);
  EXPECT_EQ(only("'a;b -- c /* d'"), K::String);
  // standard_conforming_strings: a backslash is an ordinary character.
  const Toks backslash = {{K::String, "'\\'"}, {K::Identifier, "x"}, {K::String, "'y'"}};
  EXPECT_EQ(lex("'\\' x 'y'"), backslash);
  EXPECT_EQ(only("'unterminated"), K::Error);
  EXPECT_EQ(only("'ends with doubled quote''"), K::Error);
  EXPECT_EQ(only("'ends with a quote'''"), K::String);
}

TEST(SqlLexer, ExtendedStrings) {
  EXPECT_EQ(only("E'\\''"), K::String);
  EXPECT_EQ(only("e'a\\'b'"), K::String);
  EXPECT_EQ(only("E'\\\\'"), K::String);
  EXPECT_EQ(only("E'it''s'"), K::String);
  EXPECT_EQ(only("E'\\x41\\n\\101\\u0041'"), K::String);
  EXPECT_EQ(only("E'abc\\'"), K::Error);  // the quote is escaped: unterminated
  EXPECT_EQ(only("E'abc\\"), K::Error);
  // Only a lone E prefix makes an escape string.
  const Toks ne = {{K::Identifier, "ne"}, {K::String, "'\\'"}};
  EXPECT_EQ(lex("ne'\\'"), ne);
}

TEST(SqlLexer, PrefixedStrings) {
  EXPECT_EQ(only("B'0101'"), K::String);
  EXPECT_EQ(only("b'1'"), K::String);
  EXPECT_EQ(only("X'1F'"), K::String);
  EXPECT_EQ(only("x'ab'"), K::String);
  EXPECT_EQ(only("U&'d\\0061t'"), K::String);
  EXPECT_EQ(only("u&'x'"), K::String);
  EXPECT_EQ(only("B'01"), K::Error);
  EXPECT_EQ(only("U&'open"), K::Error);
  // B'' and X'' have no doubled-quote escape: two strings.
  const Toks bits = {{K::String, "B'01'"}, {K::String, "'10'"}};
  EXPECT_EQ(lex("B'01''10'"), bits);
  // N'' is NATIONAL CHARACTER: scan.l returns the N, then the string.
  const Toks national = {{K::Identifier, "N"}, {K::String, "'abc'"}};
  EXPECT_EQ(lex("N'abc'"), national);
  const Toks uescape = {{K::String, "U&'!0061'"}, {K::Identifier, "UESCAPE"}, {K::String, "'!'"}};
  EXPECT_EQ(lex("U&'!0061' UESCAPE '!'"), uescape);
}

TEST(SqlLexer, StringContinuation) {
  // Strings separated by whitespace that contains a newline are one literal.
  EXPECT_EQ(only("'a'\n'b'"), K::String);
  EXPECT_EQ(only("'a'  \r\n  'b'"), K::String);
  EXPECT_EQ(only("'a' -- comment\n'b'"), K::String);
  EXPECT_EQ(only("'a'\n-- comment\n  'b'"), K::String);
  // The continuation keeps the escape rules of the first part.
  EXPECT_EQ(only("E'x'\n'\\';'"), K::String);
  EXPECT_EQ(only("B'01'\n'10'"), K::String);
  // Without a newline, or across a block comment, they are two literals.
  EXPECT_EQ(lex("'a' 'b'").size(), 2U);
  EXPECT_EQ(lex("'a' /* c */\n'b'").size(), 2U);
  EXPECT_EQ(lex("'a'\n/* c */'b'").size(), 2U);
}

TEST(SqlLexer, DollarQuotes) {
  EXPECT_EQ(only("$$a;b$$"), K::String);
  EXPECT_EQ(only("$$$$"), K::String);
  EXPECT_EQ(only("$tag$ $$ ; $other$ $tag$"), K::String);
  EXPECT_EQ(only("$a$ $b$a$"), K::String);
  EXPECT_EQ(only("$_x1$body$_x1$"), K::String);
  EXPECT_EQ(only("$\xc3\xa9$x$\xc3\xa9$"), K::String);
  EXPECT_EQ(only("$$unterminated"), K::Error);
  EXPECT_EQ(only("$q$abc$q"), K::Error);
  EXPECT_EQ(only("$TAG$x$tag$"), K::Error);  // tags are case-sensitive
  const Toks inside = {{K::Identifier, "SELECT"}, {K::String, "$f$ it's \"x\" -- $f$"}};
  EXPECT_EQ(lex("SELECT $f$ it's \"x\" -- $f$"), inside);
}

TEST(SqlLexer, ParametersAndDollars) {
  EXPECT_EQ(only("$1"), K::Param);
  EXPECT_EQ(only("$12"), K::Param);
  const Toks params = {{K::Identifier, "a"},  {K::Operator, "="},   {K::Param, "$1"},
                       {K::Identifier, "or"}, {K::Identifier, "b"}, {K::Operator, "="},
                       {K::Param, "$2"}};
  EXPECT_EQ(lex("a=$1 or b=$2"), params);
  // A tag cannot start with a digit: $1$ is a parameter and a lone '$'.
  const Toks notTag = {{K::Param, "$1"}, {K::Punct, "$"}};
  EXPECT_EQ(lex("$1$"), notTag);
  // "$name" without a closing '$' is '$' followed by the name (scan.l dolqfailed).
  const Toks failed = {{K::Punct, "$"}, {K::Identifier, "abc"}};
  EXPECT_EQ(lex("$abc"), failed);
  EXPECT_EQ(only("$1abc"), K::Error);  // trailing junk after a parameter
}

TEST(SqlLexer, Comments) {
  EXPECT_TRUE(lex("-- just a comment").empty());
  EXPECT_TRUE(lex("/* a /* nested */ comment */").empty());
  EXPECT_TRUE(lex("/**/").empty());
  EXPECT_TRUE(lex("/*/ still inside */").empty());
  const Toks reported = {{K::Comment, "-- one"},
                         {K::Identifier, "SELECT"},
                         {K::Comment, "/* two /* three */ */"},
                         {K::Number, "1"}};
  EXPECT_EQ(lex("-- one\nSELECT /* two /* three */ */ 1", true), reported);
  const Toks hidden = {{K::Identifier, "SELECT"}, {K::Number, "1"}};
  EXPECT_EQ(lex("SELECT 1 -- ; DELETE FROM t"), hidden);
  EXPECT_EQ(lex("SELECT 1 /* ; DELETE FROM t */"), hidden);
  EXPECT_EQ(lex("SELECT --x\r1"), hidden);
}

TEST(SqlLexer, UnterminatedComments) {
  EXPECT_EQ(only("/* open"), K::Error);
  EXPECT_EQ(only("/* outer /* inner */ still open"), K::Error);
  const Toks t = lex("SELECT 1 /* x");
  ASSERT_EQ(t.size(), 3U);
  EXPECT_EQ(t[2].first, K::Error);
  EXPECT_EQ(t[2].second, "/* x");  // from the start of the construct to the end
  Lexer lexer("a /* b");
  lexer.next();
  const Token error = lexer.next();
  EXPECT_EQ(error.kind, K::Error);
  EXPECT_EQ(error.offset, 2U);
  EXPECT_EQ(lexer.next().kind, K::End);  // nothing after an error
}

TEST(SqlLexer, Numbers) {
  for (const char* n : {"42", "3.14", ".5", "5.", "1e10", "1.5e10", "1E-5", "2.5E+3", "1.e5",
                        "0x1F", "0X_ff", "0o17", "0b101", "1_000_000", "0.000_1"}) {
    EXPECT_EQ(only(n), K::Number) << n;
  }
  const Toks range = {{K::Number, "1"}, {K::Punct, ".."}, {K::Number, "10"}};
  EXPECT_EQ(lex("1..10"), range);
  const Toks dots = {{K::Number, "1.5"}, {K::Number, ".3"}};
  EXPECT_EQ(lex("1.5.3"), dots);
  // Trailing junk after a number is an error since PostgreSQL 15.
  for (const char* junk : {"123abc", "1e", "1ex", "0x", "0xZ", "1_", "1.5x", "9_a"}) {
    EXPECT_EQ(only(junk), K::Error) << junk;
  }
}

TEST(SqlLexer, Operators) {
  for (const char* op : {"<>", "!=", ">=", "<=", "||", "->>", "@>", "#>>", "~~*", "!~*", "&&",
                         "<->", "@-", "|/", "=", "*", "-"}) {
    EXPECT_EQ(only(op), K::Operator) << op;
  }
  // A multi-character operator loses a trailing + or - unless it has one of ~!@#^&|`?%.
  const Toks minus = {
      {K::Identifier, "a"}, {K::Operator, "+"}, {K::Operator, "-"}, {K::Identifier, "b"}};
  EXPECT_EQ(lex("a+-b"), minus);
  const Toks keep = {{K::Identifier, "a"}, {K::Operator, "@-"}, {K::Identifier, "b"}};
  EXPECT_EQ(lex("a@-b"), keep);
  const Toks negative = {
      {K::Identifier, "x"}, {K::Operator, "*"}, {K::Operator, "-"}, {K::Number, "1"}};
  EXPECT_EQ(lex("x*-1"), negative);
  // A comment start ends an operator.
  const Toks comment = {{K::Identifier, "a"}, {K::Operator, "+"}, {K::Identifier, "b"}};
  EXPECT_EQ(lex("a+/* c */b"), comment);
  EXPECT_EQ(lex("a+-- c\nb"), comment);
  const Toks lt = {{K::Identifier, "a"}, {K::Operator, "<"}};
  EXPECT_EQ(lex("a<--b"), lt);
}

TEST(SqlLexer, Punctuation) {
  const Toks expected = {{K::Identifier, "x"}, {K::Punct, "::"},   {K::Identifier, "int"},
                         {K::Punct, "["},      {K::Number, "1"},   {K::Punct, ":"},
                         {K::Number, "2"},     {K::Punct, "]"},    {K::Punct, ","},
                         {K::Punct, "("},      {K::Punct, ")"},    {K::Identifier, "a"},
                         {K::Punct, ":="},     {K::Number, "1"},   {K::Identifier, "t"},
                         {K::Punct, "."},      {K::Operator, "*"}, {K::Semicolon, ";"}};
  EXPECT_EQ(lex("x::int[1:2],() a:=1 t.*;"), expected);
}

TEST(SqlLexer, SemicolonsOnlyOutsideLiterals) {
  EXPECT_EQ(semicolons("SELECT 1; SELECT 2;"), 2);
  EXPECT_EQ(semicolons("SELECT ';'"), 0);
  EXPECT_EQ(semicolons("SELECT E'\\';'"), 0);
  EXPECT_EQ(semicolons("SELECT $$;$$"), 0);
  EXPECT_EQ(semicolons("SELECT $x$ $$;$$ $x$"), 0);
  EXPECT_EQ(semicolons("SELECT \";\" FROM t"), 0);
  EXPECT_EQ(semicolons("SELECT 1 -- ;"), 0);
  EXPECT_EQ(semicolons("SELECT 1 /* ; /* ; */ ; */"), 0);
  EXPECT_EQ(semicolons("SELECT '\\'; SELECT 2; --'"), 2);  // the backslash is literal
  EXPECT_EQ(semicolons("SELECT E'\\'; SELECT 2; --'"), 0);
}

TEST(SqlLexer, KeywordEquals) {
  EXPECT_TRUE(keywordEquals("SELECT", "select"));
  EXPECT_TRUE(keywordEquals("SeLeCt", "select"));
  EXPECT_TRUE(keywordEquals("pg_temp_3", "pg_temp_3"));
  EXPECT_FALSE(keywordEquals("SELECTS", "select"));
  EXPECT_FALSE(keywordEquals("SELEC", "select"));
  EXPECT_FALSE(keywordEquals("S\xc3\x89LECT", "select"));
  EXPECT_FALSE(keywordEquals("_", "\x7f"));  // folding touches only A-Z
}

TEST(SqlLexer, RandomBytesTerminate) {
  unsigned state = 12345;
  auto rnd = [&state] {
    state = state * 1103515245U + 12345U;
    return (state >> 16) & 0x7FFF;
  };
  const std::string alphabet = "'\"$eEuUbBxXnN&01._-/*+<>=!\\ \n;:()[],a_t#@~%^|`?9\t";
  for (int i = 0; i < 5000; ++i) {
    std::string text;
    const int len = rnd() % 40;
    for (int j = 0; j < len; ++j) {
      text += (i % 2 == 0) ? alphabet[rnd() % alphabet.size()] : static_cast<char>(rnd() & 0xFF);
    }
    Lexer lexer(text, i % 3 == 0);
    std::size_t last = 0;
    int steps = 0;
    for (Token t = lexer.next(); t.kind != K::End; t = lexer.next(), ++steps) {
      ASSERT_LE(steps, len) << "more tokens than bytes";
      ASSERT_GE(t.offset, last);
      ASSERT_FALSE(t.text.empty());
      ASSERT_LE(t.offset + t.text.size(), text.size());
      last = t.offset + t.text.size();
    }
  }
}

// standard_conforming_strings = off: a backslash in '...' escapes as in E'...'.
TEST(SqlLexer, NonStandardStrings) {
  auto lexOff = [](std::string_view text) {
    Toks out;
    Lexer lexer(text, false, /*standardStrings=*/false);
    for (Token t = lexer.next(); t.kind != K::End; t = lexer.next()) {
      out.emplace_back(t.kind, std::string(t.text));
      if (t.kind == K::Error) break;
    }
    return out;
  };
  using Tok = std::pair<K, std::string>;
  const std::string_view text = "SELECT '\\'' ; DELETE FROM t; --'";
  EXPECT_EQ(semicolons(text), 0);  // on: '\' then one string to the end
  const Toks off = lexOff(text);
  ASSERT_GE(off.size(), 3U);
  EXPECT_EQ(off[1], (Tok{K::String, "'\\''"}));
  EXPECT_EQ(off[2].first, K::Semicolon);
  EXPECT_EQ(lexOff("SELECT 'a\\\\'").back(), (Tok{K::String, "'a\\\\'"}));
  EXPECT_EQ(lexOff("SELECT 'open\\'").back().first, K::Error);  // the quote is escaped
  EXPECT_EQ(lexOff("SELECT U&'x'").back().first, K::Error);     // refused when off
  EXPECT_EQ(lexOff("SELECT E'\\''").back(), (Tok{K::String, "E'\\''"}));
  EXPECT_EQ(lexOff("SELECT $$\\$$").back(), (Tok{K::String, "$$\\$$"}));
}

}  // namespace
}  // namespace pgsplit::sql
