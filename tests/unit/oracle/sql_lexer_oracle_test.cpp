// Our lexer against PostgreSQL's own scanner (libpg_query's pg_query_scan, PostgreSQL 15's
// scan.l): on hand-picked and generated text full of the hard cases (nested comments, every
// string form, dollar quotes, continuations, operators next to comments, parameters), both must
// agree on whether the text lexes at all and on where every token, comments included, starts.
// Token kinds are not compared (PostgreSQL's are grammar tokens), and neither are ends (the
// scanner reports some strings' ends oddly); equal starts mean equal boundaries.
//
// Left out: what PostgreSQL 16 lexes differently from 15 (our lexer follows 16): underscores in
// numbers, 0x / 0o / 0b literals, \v as white space; and a string continued after a "--"
// comment ('x' -- c<newline>'y'), which the server continues (checked on PostgreSQL 15) but
// libpg_query's scanner, patched to return comments as tokens, does not.
#include <gtest/gtest.h>
#include <pg_query.h>

#include <cstdint>
#include <random>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "pgsplit/sql/lexer.hpp"

namespace pgsplit::sql {
namespace {

struct Tokens {
  bool error = false;
  std::vector<std::int64_t> starts;
};

bool varint(const unsigned char*& p, const unsigned char* end, std::uint64_t& v) {
  v = 0;
  for (int shift = 0; p < end && shift < 64; shift += 7) {
    const unsigned char b = *p++;
    v |= std::uint64_t{b & 0x7FU} << shift;
    if ((b & 0x80U) == 0) return true;
  }
  return false;
}

// ScanResult { int32 version = 1; repeated ScanToken tokens = 2; }
// ScanToken { int32 start = 1; int32 end = 2; Token token = 4; KeywordKind keyword_kind = 5; }
Tokens postgres(const std::string& text) {
  Tokens out;
  const PgQueryScanResult r = pg_query_scan(text.c_str());
  if (r.error != nullptr) {
    out.error = true;
  } else {
    const auto* p = reinterpret_cast<const unsigned char*>(r.pbuf.data);
    const unsigned char* end = p + r.pbuf.len;
    std::uint64_t key = 0;
    while (p < end && varint(p, end, key)) {
      if ((key & 7U) == 2) {
        std::uint64_t len = 0;
        varint(p, end, len);
        const unsigned char* q = p;
        p += len;
        if ((key >> 3) != 2) continue;
        std::int64_t start = 0;
        std::uint64_t k = 0;
        while (q < p && varint(q, p, k)) {
          std::uint64_t v = 0;
          varint(q, p, v);
          if ((k >> 3) == 1) start = static_cast<std::int64_t>(v);
        }
        out.starts.push_back(start);
      } else {
        std::uint64_t ignored = 0;
        varint(p, end, ignored);
      }
    }
  }
  pg_query_free_scan_result(r);
  return out;
}

Tokens ours(const std::string& text) {
  Tokens out;
  Lexer lexer(text, /*reportComments=*/true);
  for (Token t = lexer.next(); t.kind != TokenKind::End; t = lexer.next()) {
    if (t.kind == TokenKind::Error) {
      out.error = true;
      out.starts.clear();
      break;
    }
    out.starts.push_back(static_cast<std::int64_t>(t.offset));
  }
  return out;
}

// The text with control characters and non-ASCII bytes spelled out, for failure messages.
std::string visible(const std::string& text) {
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7F) {
      out += c;
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", u);
      out += buf;
    }
  }
  return out;
}

void expectAgreement(const std::string& text) {
  const Tokens want = postgres(text);
  const Tokens got = ours(text);
  EXPECT_EQ(got.error, want.error) << "lexes differently: [" << visible(text) << "]";
  if (!got.error && !want.error) {
    EXPECT_EQ(got.starts, want.starts) << "token boundaries differ: [" << visible(text) << "]";
  }
}

TEST(SqlLexerOracle, HandPickedCases) {
  for (const char* text : {
           "SELECT 1; SELECT 2",
           "SELECT /* a /* nested */ b */ 1 -- trailing",
           "SELECT 'a''b', E'\\'', E'\\\\', 'x'\n'y', 'x'  'y', 'x' /* c */\n'y'",
           "SELECT $$a;b$$, $t$ $$ $t$, $1, $12, a$b, a$$b, $ $a",
           "SELECT U&'\\0041', U&\"a\" UESCAPE '!', N'x', B'01', X'1F', b'1'",
           "SELECT 1.5, .5, 1., 1e5, 1.5e-3, 1..2, 1e",
           "SELECT a::int, x := 1, f(a => 1), a<=b, a<>b, a!=b, a!b, -1, +-1, *-1",
           "SELECT 1+--x\n2, 1*/*c*/2, 1 /**/ /**/ 2, @-1, |/ 4, ||/8",
           "SELECT \"a\"\"b\", \"\", \"open",
           "SELECT 'open",
           "SELECT $$open",
           "SELECT /* open",
           "SELECT 123abc",
           "SELECT $1a",
           "SELECT 0.5abc",
           "SELECT e'\\x41', E'\\u0041', e'",
           "SELECT E'\\uD800\\uDC00', E'\\U0010FFFF', E'\\uD800\\U0000DC00'",
           "SELECT E'\\uD800x'",
           "SELECT E'\\u0000'",
           "SELECT E'\\U00110000'",
           "SELECT E'\\uDC00'",
           "SELECT E'\\u12'",
           "SELECT E'\\U'",
           "SELECT x'",
           "\t\n\r SELECT\t1",
           "SELECT $a$ $b$ $a$",
           "SELECT $A$x$a$ $A$",
           "SELECT $a1$x$a1$",
           "SELECT $1$",
           "SELECT #-, ?|, @@, ~~*, !~~*, &<|, -|-, <->, ##, ~=, <^, >^, ?-|, ?||",
           "SELECT a+b-c*d/e%f^g<h>i=j~k!l@m#n&o|p`q?r",
           "SELECT \xc3\xa9t\xc3\xa9, \"\xe2\x82\xac\", '\xf0\x9f\x98\x80'",
       }) {
    expectAgreement(text);
  }
}

std::string generate(std::mt19937& rng) {
  static const std::vector<std::string> pieces = {
      "SELECT", " ",       " ",           " ",       "\n",  "\t",     "a",        "b1",
      "_x",     "$",       "$$",          "$a$",     "$b$", "$1",     "'",        "''",
      "\"",     "\"\"",    "E'",          "e'",      "U&'", "U&\"",   "N'",       "B'",
      "X'",     "\\",      "\\'",         "\\\\",    "--",  "/*",     "*/",       "/",
      "*",      "-",       "+",           ";",       ":",   "::",     ":=",       "=",
      "=>",     "<",       ">",           "!",       "@",   "#",      "%",        "^",
      "&",      "|",       "`",           "?",       "~",   ".",      "..",       ",",
      "(",      ")",       "[",           "]",       "0",   "1",      "12",       ".5",
      "1.",     "e",       "E5",          "1e",      "1e+", "1.5e-3", "\xc3\xa9", "\xe2\x82\xac",
      "\n'",    " -- c\n", "/* x */",     "UESCAPE", "'!'", "\\u",    "\\U",      "0041",
      "D800",   "\\uDC00", "\\U0001F600", "\\0",     "\\x", "\\xC3",  "\\xA9",    "\\x80",
      "\\777",  "\\303",   "\\251",       "7"};
  std::string text;
  const int n = 1 + static_cast<int>(rng() % 14);
  for (int i = 0; i < n; ++i)
    text += pieces[rng() % pieces.size()];
  return text;
}

// See the top of the file for why these are left out.
bool comparable(const std::string& text) {
  for (std::size_t i = 0; i + 1 < text.size(); ++i) {
    const char c = text[i];
    const char n = text[i + 1];
    if (c == '0' && std::string_view("xXoObB").find(n) != std::string_view::npos) return false;
    if (c >= '0' && c <= '9' && n == '_') return false;
    if (c == '\'') {
      std::size_t j = i + 1;
      while (j < text.size() &&
             std::string_view(" \t\n\r\f").find(text[j]) != std::string_view::npos)
        ++j;
      if (text.compare(j, 2, "--") == 0) return false;
    }
  }
  return true;
}

TEST(SqlLexerOracle, GeneratedText) {
  std::mt19937 rng(15);
  int compared = 0;
  for (int i = 0; i < 40000 && !HasFailure(); ++i) {
    const std::string text = generate(rng);
    if (!comparable(text)) continue;
    expectAgreement(text);
    ++compared;
  }
  std::printf("[ oracle ] %d generated texts compared with PostgreSQL's scanner\n", compared);
  EXPECT_GT(compared, 20000);
}

}  // namespace
}  // namespace pgsplit::sql
