#pragma once
// Statement text with its constants taken out, for statistics (SHOW QUERIES) and the
// slow-statement log: texts that differ only in their constants normalise alike and share a
// fingerprint. Pure; read with the project's lexer (lexer.hpp), never a regular expression.
//
// - Constants become placeholders: string literals of every form (E'', U&'', B'', X'',
//   dollar-quoted), numbers, and the text's own $n parameters. Shown as $n, numbered after the
//   highest parameter the text has (as pg_stat_statements does); the text's own $n stay as written.
// - A parenthesised list of two or more constants (IN (1, 2, 3), a VALUES row) is collapsed:
//   shown as "($n, ...)", fingerprinted alike whatever its length.
// - Comments go (pgsplit's hints too), runs of whitespace become one space, a trailing ';' goes.
// - The fingerprint folds the case of keywords and unquoted identifiers; the text keeps it.
// The text is read with standard_conforming_strings on; one that only lexes with it off is read
// that way. Unlexable text (an unterminated string, ...) is cut where the lexer gives up, so no
// part of a literal is ever shown.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace pgsplit::sql {

inline constexpr std::size_t kMaxNormalizedBytes = 1024;

// The normalised text, at most maxBytes bytes (then cut at a UTF-8 boundary, and "..." added).
std::string normalizeStatement(std::string_view text, std::size_t maxBytes = kMaxNormalizedBytes);

// A 64-bit fingerprint of the normalised form; never 0 (0 stands for "no statement").
std::uint64_t statementFingerprint(std::string_view text);

// What the classifier's shape cache keys on (caching_classifier.hpp), from one pass of the lexer
// with nothing allocated: the fingerprint, a second hash of the same form, and what keeps the
// form from standing for the text.
struct StatementShape {
  std::uint64_t fingerprint = 0;  // statementFingerprint(text)
  // Built unlike the fingerprint (8 bytes at a time, multiply-rotate, a final avalanche), so
  // that 128 bits tell shapes apart. It also tells the kinds of constants apart (a number, a
  // string of each form: '', E'', B'', X'', U&'', $$; a $n), which the fingerprint does not: a
  // classifier may look at what kind of constant stands somewhere, never at its value.
  std::uint64_t check = 0;
  bool lexed = false;         // the whole text lexed with standard_conforming_strings on
  bool hasBackslash = false;  // then literals may end elsewhere with the setting off
  bool hasComment = false;    // "--" or "/*" anywhere, inside a literal too (hints are comments)

  // Texts whose shapes are shareable and equal (fingerprint and check) have the same tokens but
  // for the values of their constants and the lengths of their collapsed lists.
  bool shareable() const { return lexed && !hasBackslash && !hasComment; }
};

StatementShape statementShape(std::string_view text);

}  // namespace pgsplit::sql
