// Splits statement text at ';', decides each statement (statement_classifier.cpp) and folds the
// verdicts into the text's classification. Anything not recognised is a write.
#include "pgsplit/sql/classifier.hpp"

#include "name_table.hpp"
#include "pgsplit/sql/analysis.hpp"
#include "references.hpp"
#include "statement_classifier.hpp"
#include "token_stream.hpp"

namespace pgsplit::sql {

namespace {

using detail::TokenStream;
using detail::Verdict;

bool isSpaceChar(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool isDigit(char c) {
  return c >= '0' && c <= '9';
}

void skipSpaces(std::string_view s, std::size_t& i) {
  while (i < s.size() && isSpaceChar(s[i]))
    ++i;
}

bool consumeFolded(std::string_view s, std::size_t& i, std::string_view lowerWord) {
  if (s.size() - i < lowerWord.size()) return false;
  if (detail::compareName(s.substr(i, lowerWord.size()), lowerWord, true) != 0) return false;
  i += lowerWord.size();
  return true;
}

// The body of a block comment: "pgsplit:primary" or "pgsplit:replica", case-insensitive,
// with optional spaces around the words and the colon.
Hint hintOf(std::string_view body) {
  std::size_t i = 0;
  skipSpaces(body, i);
  if (!consumeFolded(body, i, "pgsplit")) return Hint::None;
  skipSpaces(body, i);
  if (i >= body.size() || body[i] != ':') return Hint::None;
  ++i;
  skipSpaces(body, i);
  Hint hint = Hint::None;
  if (consumeFolded(body, i, "primary")) {
    hint = Hint::Primary;
  } else if (consumeFolded(body, i, "replica")) {
    hint = Hint::Replica;
  }
  skipSpaces(body, i);
  return i == body.size() ? hint : Hint::None;
}

// The first hint among the comments before the first token.
Hint leadingHint(std::string_view text) {
  std::size_t i = 0;
  skipSpaces(text, i);
  if (i + 1 >= text.size() || text[i] != '/' || text[i + 1] != '*') {
    if (i + 1 >= text.size() || text[i] != '-' || text[i + 1] != '-') return Hint::None;
  }
  Lexer lexer(text, /*reportComments=*/true);
  for (Token t = lexer.next(); t.kind == TokenKind::Comment; t = lexer.next()) {
    if (t.text.size() >= 4 && t.text[0] == '/') {
      const Hint hint = hintOf(t.text.substr(2, t.text.size() - 4));
      if (hint != Hint::None) return hint;
    }
  }
  return Hint::None;
}

const char* lexErrorReason(std::string_view bad) {
  if (bad.starts_with("/*")) return "write: unterminated comment";
  if (!bad.empty() &&
      (isDigit(bad[0]) || bad[0] == '.' || (bad[0] == '$' && bad.size() > 1 && isDigit(bad[1])))) {
    return "write: junk after number";
  }
  if (bad.starts_with("$")) return "write: unterminated dollar quote";
  std::size_t quote = std::string_view::npos;
  if (bad.starts_with("\"")) quote = 0;
  if (bad.size() >= 3 && (bad[0] == 'u' || bad[0] == 'U') && bad[1] == '&' && bad[2] == '"') {
    quote = 2;
  }
  if (quote != std::string_view::npos) {
    const bool empty = bad.size() >= quote + 2 && bad[quote + 1] == '"' &&
                       (bad.size() == quote + 2 || bad[quote + 2] != '"');
    return empty ? "write: zero-length quoted identifier" : "write: unterminated quoted identifier";
  }
  return "write: unterminated string";
}

// One reading of the text: a verdict per statement folded into the text's classification.
struct Reading {
  Classification classification;
  bool lexFailed = false;
  CatalogChanges catalogChanges;
};

// Where an explicit transaction started by BEGIN in the text stands.
struct OpenTransaction {
  bool open = false;
  TxnStart mode = TxnStart::None;
  bool plain = false;  // BEGIN without modes: SET TRANSACTION READ ONLY may make it read-only
};

Reading read(std::string_view text, detail::References* refs, bool standardStrings) {
  Reading r;
  Classification& out = r.classification;
  out.hint = leadingHint(text);

  TokenStream ts(text, standardStrings);
  bool allRead = true;
  bool standbyTransaction = true;  // every statement is one a standby runs in a RO transaction
  const char* firstRead = nullptr;
  const char* firstWrite = nullptr;
  const char* firstPin = nullptr;
  unsigned statements = 0;
  OpenTransaction txn;
  auto closeTransaction = [&] {
    if (!txn.open) return;
    if (txn.mode == TxnStart::ReadWrite || out.txnStart == TxnStart::None) out.txnStart = txn.mode;
    txn = {};
  };
  while (true) {
    while (ts.peek().kind == TokenKind::Semicolon)
      ts.takeSemicolon();
    if (ts.peek().kind == TokenKind::End) break;
    const Verdict v = detail::classifyStatement(ts, refs);
    ts.skipStatement();
    if (statements < 0xFFFF) ++statements;

    allRead = allRead && v.read;
    standbyTransaction = standbyTransaction && (v.read || v.standbyRunsInTransaction);
    if (firstRead == nullptr) firstRead = v.finalReason();
    if (!v.read && firstWrite == nullptr) firstWrite = v.finalReason();
    if (v.pinReason != nullptr && firstPin == nullptr) firstPin = v.pinReason;
    out.setsSessionState = out.setsSessionState || v.setsSessionState;
    out.kinds |= v.kind;
    r.catalogChanges.merge(v.catalogChanges);
    if (v.txnStart != TxnStart::None) {
      closeTransaction();
      txn = {true, v.txnStart, v.plainBegin};
    } else if (v.declaresReadOnly && txn.open && txn.plain) {
      txn.mode = TxnStart::ReadOnly;  // BEGIN; SET TRANSACTION READ ONLY
    } else if (v.endsTransaction) {
      closeTransaction();
    }
  }
  closeTransaction();
  out.statements = static_cast<std::uint16_t>(statements);

  if (ts.failed()) {
    // PostgreSQL parses the whole text before running any of it: nothing runs.
    Classification bad;
    bad.hint = out.hint;
    bad.statements = out.statements;
    bad.reason = lexErrorReason(ts.errorText());
    r.classification = bad;
    r.lexFailed = true;
    r.catalogChanges = {};
    return r;
  }
  if (statements == 0) return r;  // empty: a write
  // BEGIN READ ONLY followed, in the same text, by what a standby refuses (a write, LISTEN,
  // a temporary table, nextval(), ...) must run on the primary.
  if (out.txnStart == TxnStart::ReadOnly && !standbyTransaction) {
    out.txnStart = TxnStart::ReadWrite;
  }
  out.pins = firstPin != nullptr;
  out.readOnly = allRead;
  out.reason = firstPin != nullptr ? firstPin : (allRead ? firstRead : firstWrite);
  return r;
}

// A session may turn standard_conforming_strings off, and then a backslash in '...' escapes
// the next character: the statement boundaries PostgreSQL sees can differ. When the text has
// a backslash, it is read both ways and the worse verdict wins (a reading that fails to lex is
// one where PostgreSQL would run nothing).
bool worse(const Classification& a, const Classification& b) {
  if (a.pins != b.pins) return a.pins;
  if (a.readOnly != b.readOnly) return !a.readOnly;
  return a.txnStart == TxnStart::ReadWrite && b.txnStart != TxnStart::ReadWrite;
}

Reading readBothWays(std::string_view text, detail::References* refs) {
  Reading on = read(text, refs, true);
  if (text.find('\\') == std::string_view::npos) return on;
  Reading off = read(text, refs, false);
  if (off.lexFailed) return on;
  if (on.lexFailed) return off;
  Reading& worst = worse(off.classification, on.classification) ? off : on;
  const Reading& other = &worst == &on ? off : on;
  worst.classification.setsSessionState |= other.classification.setsSessionState;
  worst.classification.kinds |= other.classification.kinds;
  worst.catalogChanges.merge(other.catalogChanges);
  return worst;
}

}  // namespace

Classification classify(std::string_view text) {
  return readBothWays(text, nullptr).classification;
}

Analysis analyze(std::string_view text, const FunctionOverrides* overrides) {
  detail::References refs;
  refs.overrides = overrides;
  Reading r = readBothWays(text, &refs);
  Analysis a;
  a.classification = r.classification;
  a.catalogChanges = r.catalogChanges;
  a.tables = std::move(refs.tables);
  a.calls = std::move(refs.calls);
  a.readsConstants = refs.readsConstants;
  // Only what may run on a replica needs the catalog.
  const Classification& c = a.classification;
  if (!c.pins && (c.readOnly || c.txnStart == TxnStart::ReadOnly)) {
    a.functions = std::move(refs.functions);
    a.relations = std::move(refs.relations);
  }
  return a;
}

}  // namespace pgsplit::sql
