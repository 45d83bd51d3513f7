// Splits statement text at ';' and decides each statement from its leading words; queries are
// then scanned token by token (statement_scanner.cpp). Anything not recognised is a write.
#include "pgsplit/sql/classifier.hpp"

#include "name_table.hpp"
#include "statement_scanner.hpp"
#include "token_stream.hpp"

namespace pgsplit::sql {

namespace {

using detail::isPunct;
using detail::ScanOptions;
using detail::Tok;
using detail::TokenStream;
using detail::Verdict;
using detail::Word;

// EXPLAIN ANALYZE DECLARE ... FOR EXPLAIN ...: deeper nesting is not valid SQL.
constexpr int kMaxNesting = 4;

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

bool isQueryHead(const Tok& t) {
  switch (t.word) {
    case Word::Select:
    case Word::Values:
    case Word::Table:
    case Word::With:
    case Word::Insert:
    case Word::Update:
    case Word::Delete:
    case Word::Merge:
      return true;
    default:
      return isPunct(t, '(');
  }
}

struct StatementWrite {
  Word head;
  const char* reason;
};

// Statements that are writes whatever follows their first word.
constexpr StatementWrite kPlainWrites[] = {
    {Word::Alter, "write: ALTER"},
    {Word::Drop, "write: DROP"},
    {Word::Comment, "write: COMMENT"},
    {Word::Grant, "write: GRANT"},
    {Word::Revoke, "write: REVOKE"},
    {Word::Truncate, "write: TRUNCATE"},
    {Word::Vacuum, "write: VACUUM"},
    {Word::Analyze, "write: ANALYZE"},
    {Word::Analyse, "write: ANALYZE"},
    {Word::Cluster, "write: CLUSTER"},
    {Word::Reindex, "write: REINDEX"},
    {Word::Refresh, "write: REFRESH"},
    {Word::Lock, "write: LOCK"},
    {Word::Call, "write: CALL"},
    {Word::Do, "write: DO"},
    {Word::Notify, "write: NOTIFY"},
    {Word::Unlisten, "write: UNLISTEN"},
    {Word::Discard, "write: DISCARD"},
    {Word::Deallocate, "write: DEALLOCATE"},
    {Word::Checkpoint, "write: CHECKPOINT"},
    {Word::Execute, "write: EXECUTE"},
    {Word::Close, "write: CLOSE"},
    {Word::Security, "write: SECURITY LABEL"},
    {Word::Import, "write: IMPORT FOREIGN SCHEMA"},
    {Word::Reassign, "write: REASSIGN OWNED"},
};

const char* plainWriteReason(const Tok& head) {
  for (const StatementWrite& w : kPlainWrites) {
    if (head.word == w.head) return w.reason;
  }
  return "write: unknown statement";
}

class StatementClassifier {
 public:
  explicit StatementClassifier(TokenStream& ts) : ts_(ts) {}

  // Classifies the statement at the stream's position; may stop before its end.
  Verdict statement(int nesting = 0) {
    const Tok& head = ts_.peek();
    if (nesting > kMaxNesting) return Verdict::writeAs("write: unknown statement");
    if (isPunct(head, '(')) return query("read: SELECT");
    switch (head.word) {
      case Word::Select:
      case Word::Insert:
      case Word::Update:
      case Word::Delete:
      case Word::Merge:
        return query("read: SELECT");
      case Word::Values:
        return query("read: VALUES");
      case Word::Table:
        return query("read: TABLE");
      case Word::With:
        return query("read: WITH");
      case Word::Show:
        return Verdict::readAs("read: SHOW");
      case Word::Fetch:
        return Verdict::readAs("read: FETCH");
      case Word::Move:
        return Verdict::readAs("read: MOVE");
      case Word::Explain:
        return explain(nesting);
      case Word::Copy:
        return copy();
      case Word::Declare:
        return declare(nesting);
      case Word::Begin:
        ts_.take();
        if (ts_.peek().word == Word::Work || ts_.peek().word == Word::Transaction) ts_.take();
        return transactionStart();
      case Word::Start:
        ts_.take();
        if (ts_.peek().word != Word::Transaction)
          return Verdict::writeAs("write: unknown statement");
        ts_.take();
        return transactionStart();
      case Word::Commit:
      case Word::End:
      case Word::Rollback:
      case Word::Abort:
      case Word::Savepoint:
      case Word::Release:
        return transactionControl();
      case Word::Prepare:
        return prepare();
      case Word::Set:
        return set();
      case Word::Reset: {
        Verdict v = Verdict::writeAs("session state: RESET");
        v.setsSessionState = true;
        v.standbyRunsInTransaction = true;
        return v;
      }
      case Word::Listen:
        return pinAs("pin: LISTEN");
      case Word::Load:
        return pinAs("pin: LOAD");
      case Word::Create:
        return create();
      default: {
        // Writes whatever they say; scanned only for what would also pin the session
        // (a session advisory lock taken inside them).
        Verdict v = Verdict::writeAs(plainWriteReason(head));
        detail::scanTokens(ts_, v);
        return v;
      }
    }
  }

 private:
  // COMMIT, ROLLBACK [TO SAVEPOINT], SAVEPOINT, ...; not COMMIT/ROLLBACK PREPARED.
  Verdict transactionControl() {
    ts_.take();
    Verdict v = Verdict::writeAs("transaction control");
    v.standbyRunsInTransaction =
        ts_.peek().kind != TokenKind::Identifier || !keywordEquals(ts_.peek().text, "prepared");
    return v;
  }

  static Verdict pinAs(const char* why) {
    Verdict v;
    v.pin(why);
    return v;
  }

  Verdict query(const char* readReason, ScanOptions options = {}) {
    Verdict v = Verdict::readAs(readReason);
    detail::scanTokens(ts_, v, options);
    return v;
  }

  // After BEGIN [WORK | TRANSACTION] or START TRANSACTION: the transaction modes. Read-only
  // only when the modes say READ ONLY, nothing contradicts it, and the isolation level is one a
  // standby can run (not SERIALIZABLE).
  Verdict transactionStart() {
    bool readOnly = false;
    bool readWrite = false;
    bool unusable = false;  // SERIALIZABLE, or anything not understood
    while (!ts_.atStatementEnd()) {
      const Tok t = ts_.take();
      if (isPunct(t, ',') || t.word == Word::Deferrable) continue;
      if (t.word == Word::Not && ts_.peek().word == Word::Deferrable) {
        ts_.take();
      } else if (t.word == Word::Isolation && ts_.peek().word == Word::Level) {
        ts_.take();
        const Word level = ts_.take().word;
        if (level == Word::Repeatable) {
          unusable = unusable || ts_.take().word != Word::Read;
        } else if (level == Word::Read) {
          const Word which = ts_.take().word;
          unusable = unusable || (which != Word::Committed && which != Word::Uncommitted);
        } else {
          unusable = true;  // SERIALIZABLE: a standby refuses it
        }
      } else if (t.word == Word::Read && ts_.peek().word == Word::Only) {
        ts_.take();
        readOnly = true;
      } else if (t.word == Word::Read && ts_.peek().word == Word::Write) {
        ts_.take();
        readWrite = true;
      } else {
        unusable = true;
      }
    }
    const bool ro = readOnly && !readWrite && !unusable;
    Verdict v = Verdict::writeAs(ro ? "transaction control: BEGIN READ ONLY"
                                    : "transaction control: BEGIN");
    v.txnStart = ro ? TxnStart::ReadOnly : TxnStart::ReadWrite;
    v.standbyRunsInTransaction = true;
    return v;
  }

  Verdict set() {
    ts_.take();  // SET
    switch (ts_.peek().word) {
      case Word::Local: {
        Verdict v = Verdict::writeAs("write: SET LOCAL");
        v.standbyRunsInTransaction = true;
        return v;
      }
      case Word::Transaction:
        return Verdict::writeAs("transaction control: SET TRANSACTION");
      case Word::Constraints:
        return Verdict::writeAs("transaction control: SET CONSTRAINTS");
      default: {
        Verdict v = Verdict::writeAs("session state: SET");
        v.setsSessionState = true;
        v.standbyRunsInTransaction = ts_.peek().word != Word::Session;  // not CHARACTERISTICS
        return v;
      }
    }
  }

  // PREPARE TRANSACTION 'gid' (two-phase commit) or PREPARE name [(types)] AS statement.
  Verdict prepare() {
    ts_.take();  // PREPARE
    if (ts_.peek().word == Word::Transaction) {
      TokenStream probe = ts_;
      probe.take();
      if (probe.peek().kind == TokenKind::String) return Verdict::writeAs("transaction control");
    }
    return pinAs("pin: PREPARE");
  }

  Verdict create() {
    ts_.take();  // CREATE
    Verdict v = Verdict::writeAs("write: CREATE");
    if (ts_.peek().word == Word::Or) {
      ts_.take();
      if (ts_.peek().word == Word::Replace) ts_.take();
    }
    Word w = ts_.peek().word;
    if (w == Word::Global || w == Word::Local) {
      ts_.take();
      w = ts_.peek().word;
    }
    ScanOptions options;
    options.createStatement = true;
    if (w == Word::Temp || w == Word::Temporary) {
      ts_.take();
      if (ts_.peek().word == Word::Recursive) ts_.take();
      switch (ts_.peek().word) {
        case Word::Table:
          v.pin("pin: temporary table");
          break;
        case Word::View:
          v.pin("pin: temporary view");
          break;
        case Word::Sequence:
          v.pin("pin: temporary sequence");
          break;
        default:
          v.pin("pin: temporary object");
          break;
      }
    } else if (w == Word::Function || w == Word::Procedure) {
      options.routineBody = true;
    }
    detail::scanTokens(ts_, v, options);
    return v;
  }

  static bool isFalseOption(const Tok& t) {
    std::string_view s = t.text;
    if (t.kind == TokenKind::String && s.size() >= 2 && s.front() == '\'' && s.back() == '\'') {
      s = s.substr(1, s.size() - 2);
    } else if (t.kind != TokenKind::Identifier && t.kind != TokenKind::Number) {
      return false;
    }
    return keywordEquals(s, "false") || keywordEquals(s, "off") || keywordEquals(s, "no") ||
           s == "0";
  }

  // EXPLAIN [ANALYZE] statement: a read when the statement is one.
  Verdict explain(int nesting) {
    ts_.take();  // EXPLAIN
    bool analyze = false;
    if (isPunct(ts_.peek(), '(')) {
      ts_.take();
      while (true) {
        const Tok option = ts_.take();
        if (isPunct(option, ')')) break;
        int values = 0;
        bool falseValue = false;
        while (!ts_.atStatementEnd() && !isPunct(ts_.peek(), ',') && !isPunct(ts_.peek(), ')')) {
          falseValue = values++ == 0 && isFalseOption(ts_.peek());
          ts_.take();
        }
        // A quoted option name is matched exactly by PostgreSQL: ("analyze") runs the
        // statement too. Any quoted name counts as ANALYZE.
        const bool analyzeOption = option.word == Word::Analyze || option.word == Word::Analyse ||
                                   option.kind == TokenKind::QuotedIdentifier;
        if (analyzeOption) {
          analyze = analyze || !(values == 1 && falseValue);
        }
        if (ts_.atStatementEnd()) return Verdict::writeAs("write: unknown statement");
        if (isPunct(ts_.take(), ')')) break;
      }
    } else {
      while (ts_.peek().word == Word::Analyze || ts_.peek().word == Word::Analyse ||
             ts_.peek().word == Word::Verbose) {
        if (ts_.take().word != Word::Verbose) analyze = true;
      }
    }
    // Even without ANALYZE the planner runs code: it folds immutable functions
    // (pg_walfile_name() fails on a standby) and SELECT ... INTO TEMP needs a temporary
    // schema. So the explained statement decides in both forms.
    Verdict inner = statement(nesting + 1);
    if (inner.read) inner.reason = analyze ? "read: EXPLAIN ANALYZE" : "read: EXPLAIN";
    return inner;
  }

  // COPY (query) TO STDOUT and COPY table [(columns)] TO STDOUT read; COPY ... FROM and
  // COPY ... TO a server file or program write.
  Verdict copy() {
    ts_.take();  // COPY
    if (ts_.peek().word == Word::Binary) ts_.take();
    Verdict v = Verdict::readAs("read: COPY TO STDOUT");
    if (isPunct(ts_.peek(), '(')) {
      ts_.take();
      if (!isQueryHead(ts_.peek())) v.write("write: unknown statement");
      ScanOptions options;
      options.stopAtCloseParen = true;
      detail::scanTokens(ts_, v, options);
    } else {
      if (!detail::isName(ts_.take())) return Verdict::writeAs("write: unknown statement");
      while (isPunct(ts_.peek(), '.')) {
        ts_.take();
        ts_.take();
      }
      if (isPunct(ts_.peek(), '(')) {
        while (!ts_.atStatementEnd() && !isPunct(ts_.take(), ')')) {
        }
      }
    }
    const Word direction = ts_.take().word;
    if (direction == Word::From) {
      v.write("write: COPY FROM");
    } else if (direction != Word::To) {
      v.write("write: unknown statement");
    } else if (ts_.take().word != Word::Stdout) {
      v.write("write: COPY TO file");
    }
    return v;
  }

  // DECLARE name [options] CURSOR [WITH HOLD | WITHOUT HOLD] FOR query
  Verdict declare(int nesting) {
    ts_.take();  // DECLARE
    bool hold = false;
    Tok prev;
    while (true) {
      if (ts_.atStatementEnd()) return Verdict::writeAs("write: unknown statement");
      const Tok t = ts_.take();
      if (t.word == Word::For) break;
      hold = hold || (t.word == Word::Hold && prev.word == Word::With);
      prev = t;
    }
    Verdict inner = statement(nesting + 1);
    if (hold) {
      inner.pinReason = "pin: DECLARE WITH HOLD";
      inner.write(inner.pinReason);
    } else if (inner.read) {
      inner.reason = "read: DECLARE";
    }
    return inner;
  }

  TokenStream& ts_;
};

}  // namespace

Classification classify(std::string_view text) {
  Classification out;
  out.hint = leadingHint(text);

  TokenStream ts(text);
  bool allRead = true;
  bool standbyTransaction = true;  // every statement is one a standby runs in a RO transaction
  const char* firstRead = nullptr;
  const char* firstWrite = nullptr;
  const char* firstPin = nullptr;
  unsigned statements = 0;
  while (true) {
    while (ts.peek().kind == TokenKind::Semicolon)
      ts.takeSemicolon();
    if (ts.peek().kind == TokenKind::End) break;
    const Verdict v = StatementClassifier(ts).statement();
    ts.skipStatement();
    if (statements < 0xFFFF) ++statements;

    allRead = allRead && v.read;
    standbyTransaction = standbyTransaction && (v.read || v.standbyRunsInTransaction);
    if (firstRead == nullptr) firstRead = v.finalReason();
    if (!v.read && firstWrite == nullptr) firstWrite = v.finalReason();
    if (v.pinReason != nullptr && firstPin == nullptr) firstPin = v.pinReason;
    out.setsSessionState = out.setsSessionState || v.setsSessionState;
    if (v.txnStart == TxnStart::ReadWrite || out.txnStart == TxnStart::None) {
      if (v.txnStart != TxnStart::None) out.txnStart = v.txnStart;
    }
  }
  out.statements = static_cast<std::uint16_t>(statements);

  if (ts.failed()) {
    // PostgreSQL parses the whole text before running any of it: nothing runs.
    Classification bad;
    bad.hint = out.hint;
    bad.statements = out.statements;
    bad.reason = lexErrorReason(ts.errorText());
    return bad;
  }
  if (statements == 0) return out;  // empty: a write
  // BEGIN READ ONLY followed, in the same text, by what a standby refuses (a write, LISTEN,
  // a temporary table, nextval(), ...) must run on the primary.
  if (out.txnStart == TxnStart::ReadOnly && !standbyTransaction) {
    out.txnStart = TxnStart::ReadWrite;
  }
  out.pins = firstPin != nullptr;
  out.readOnly = allRead;
  out.reason = firstPin != nullptr ? firstPin : (allRead ? firstRead : firstWrite);
  return out;
}

}  // namespace pgsplit::sql
