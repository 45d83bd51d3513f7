// One statement's verdict from its leading words: transactions, SET, COPY, EXPLAIN, DECLARE,
// CREATE and the statements that write whatever follows them. Queries are handed to the token
// scanner (statement_scanner.cpp).
#include "statement_classifier.hpp"

#include <optional>
#include <string>

#include "ddl_changes.hpp"
#include "name_table.hpp"
#include "references.hpp"

namespace pgsplit::sql::detail {

namespace {

// EXPLAIN ANALYZE DECLARE ... FOR EXPLAIN ...: deeper nesting is not valid SQL.
constexpr int kMaxNesting = 4;

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

// The transaction modes of BEGIN, START TRANSACTION, SET TRANSACTION and SET SESSION
// CHARACTERISTICS AS TRANSACTION, up to the statement's end.
struct TransactionModes {
  bool readOnly = false;
  bool readWrite = false;
  bool serializable = false;
  bool unusable = false;  // SERIALIZABLE, SNAPSHOT, or anything not understood
  bool any = false;

  // A standby runs a transaction with these modes.
  bool standbyAccepts() const { return !readWrite && !unusable; }
};

TransactionModes transactionModes(TokenStream& ts) {
  TransactionModes m;
  while (!ts.atStatementEnd()) {
    m.any = true;
    const Tok t = ts.take();
    if (isPunct(t, ',') || t.word == Word::Deferrable) continue;
    if (t.word == Word::Not && ts.peek().word == Word::Deferrable) {
      ts.take();
    } else if (t.word == Word::Isolation && ts.peek().word == Word::Level) {
      ts.take();
      const Word level = ts.take().word;
      if (level == Word::Repeatable) {
        m.unusable = m.unusable || ts.take().word != Word::Read;
      } else if (level == Word::Read) {
        const Word which = ts.take().word;
        m.unusable = m.unusable || (which != Word::Committed && which != Word::Uncommitted);
      } else {
        m.serializable = m.serializable || level == Word::Serializable;
        m.unusable = true;  // SERIALIZABLE: a standby refuses it
      }
    } else if (t.word == Word::Read && ts.peek().word == Word::Only) {
      ts.take();
      m.readOnly = true;
    } else if (t.word == Word::Read && ts.peek().word == Word::Write) {
      ts.take();
      m.readWrite = true;
    } else {
      m.unusable = true;  // SNAPSHOT 'id' (exported on the primary), or not understood
    }
  }
  return m;
}

// The value of "{= | TO} value" when it is one word or string and ends the statement; empty
// otherwise.
std::string_view settingValue(TokenStream& ts) {
  const Tok& op = ts.peek();
  if (op.word == Word::To || (op.kind == TokenKind::Operator && op.text == "=")) ts.take();
  const Tok value = ts.take();
  std::string_view text = value.text;
  const bool quoted = (value.kind == TokenKind::String && text.front() == '\'') ||
                      (value.kind == TokenKind::QuotedIdentifier && text.front() == '"');
  if (quoted && text.size() >= 2) {
    text = text.substr(1, text.size() - 2);
  } else if (value.kind != TokenKind::Identifier) {
    return {};
  }
  return ts.atStatementEnd() ? text : std::string_view();
}

class StatementClassifier {
 public:
  StatementClassifier(TokenStream& ts, References* refs) : ts_(ts), refs_(refs) {}

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
        if (head.word == Word::Truncate || head.word == Word::Lock) noteTableList();
        if (head.word == Word::Alter || head.word == Word::Drop) {
          v.catalogChanges = ddlChanges(ts_);
        } else if (head.word == Word::Import) {
          v.catalogChanges.kinds = v.catalogChanges.whole = kRelationsChange;  // FOREIGN SCHEMA
        }
        detail::scanTokens(ts_, v);
        return v;
      }
    }
  }

 private:
  // COMMIT, ROLLBACK [TO SAVEPOINT], SAVEPOINT, ...; not COMMIT/ROLLBACK PREPARED.
  Verdict transactionControl() {
    const Word head = ts_.take().word;
    Verdict v = Verdict::writeAs("transaction control");
    const bool prepared =
        ts_.peek().kind == TokenKind::Identifier && keywordEquals(ts_.peek().text, "prepared");
    v.standbyRunsInTransaction = !prepared;
    if (head == Word::Commit || head == Word::End || head == Word::Abort) {
      v.endsTransaction = !prepared;
    } else if (head == Word::Rollback) {
      // ROLLBACK [WORK | TRANSACTION] [AND [NO] CHAIN], not ROLLBACK ... TO [SAVEPOINT] s.
      TokenStream probe = ts_;
      bool toSavepoint = false;
      while (!probe.atStatementEnd()) {
        if (probe.take().word == Word::To) toSavepoint = true;
      }
      v.endsTransaction = !prepared && !toSavepoint;
    }
    return v;
  }

  static Verdict pinAs(const char* why) {
    Verdict v;
    v.pin(why);
    return v;
  }

  Verdict query(const char* readReason) {
    Verdict v = Verdict::readAs(readReason);
    ScanOptions options;
    options.refs = refs_;
    detail::scanTokens(ts_, v, options);
    return v;
  }

  // After BEGIN [WORK | TRANSACTION] or START TRANSACTION: the transaction modes. Read-only
  // only when the modes say READ ONLY, nothing contradicts it, and the isolation level is one a
  // standby can run (not SERIALIZABLE).
  Verdict transactionStart() {
    const TransactionModes m = transactionModes(ts_);
    const bool ro = m.readOnly && m.standbyAccepts();
    Verdict v = Verdict::writeAs(ro ? "transaction control: BEGIN READ ONLY"
                                    : "transaction control: BEGIN");
    v.txnStart = ro ? TxnStart::ReadOnly : TxnStart::ReadWrite;
    v.plainBegin = !m.any;
    v.standbyRunsInTransaction = true;
    return v;
  }

  Verdict set() {
    ts_.take();  // SET
    const Word w = ts_.peek().word;
    if (w == Word::Local) {
      ts_.take();
      Verdict v = Verdict::writeAs("write: SET LOCAL");
      v.standbyRunsInTransaction = !serializableSetting("transaction_isolation");
      return v;
    }
    if (w == Word::Transaction) {
      ts_.take();
      const TransactionModes m = transactionModes(ts_);
      Verdict v = Verdict::writeAs("transaction control: SET TRANSACTION");
      v.standbyRunsInTransaction = m.standbyAccepts();
      v.declaresReadOnly = m.readOnly && m.standbyAccepts();
      return v;
    }
    if (w == Word::Constraints) return Verdict::writeAs("transaction control: SET CONSTRAINTS");

    Verdict v = Verdict::writeAs("session state: SET");
    v.setsSessionState = true;
    v.standbyRunsInTransaction = true;
    if (w == Word::Session) {
      ts_.take();
      if (ts_.peek().word == Word::Characteristics) {
        // SET SESSION CHARACTERISTICS AS TRANSACTION modes: every later transaction's default.
        ts_.take();
        if (ts_.peek().word == Word::As) ts_.take();
        if (ts_.peek().word == Word::Transaction) ts_.take();
        const TransactionModes m = transactionModes(ts_);
        v.standbyRunsInTransaction = false;
        if (m.serializable) v.pin("pin: SERIALIZABLE by default");
        return v;
      }
    }
    // A session whose transactions are all SERIALIZABLE cannot read on a standby at all.
    if (serializableSetting("default_transaction_isolation")) {
      v.pin("pin: SERIALIZABLE by default");
    } else if (serializableSetting("transaction_isolation")) {
      v.standbyRunsInTransaction = false;
    }
    return v;
  }

  // At "name {= | TO} value": whether it sets `setting` to serializable.
  bool serializableSetting(std::string_view setting) {
    const Tok& name = ts_.peek();
    if (name.kind != TokenKind::Identifier || !keywordEquals(name.text, setting)) return false;
    ts_.take();
    noteConstantRead();  // the value may be a string
    return keywordEquals(settingValue(ts_), "serializable");
  }

  // The verdict depends on a constant's value, not only on the shape of the text.
  void noteConstantRead() {
    if (refs_ != nullptr) refs_->readsConstants = true;
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
    CatalogChanges changes = ddlChanges(ts_);
    ts_.take();  // CREATE
    Verdict v = Verdict::writeAs("write: CREATE");
    v.catalogChanges = std::move(changes);
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
    options.refs = refs_;
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
        // A quoted option name is matched exactly by PostgreSQL: ("analyze") runs the
        // statement too. Any quoted name counts as ANALYZE.
        const bool analyzeOption = option.word == Word::Analyze || option.word == Word::Analyse ||
                                   option.kind == TokenKind::QuotedIdentifier;
        int values = 0;
        bool falseValue = false;
        while (!ts_.atStatementEnd() && !isPunct(ts_.peek(), ',') && !isPunct(ts_.peek(), ')')) {
          const TokenKind kind = ts_.peek().kind;
          if (analyzeOption && values == 0 &&
              (kind == TokenKind::String || kind == TokenKind::Number)) {
            noteConstantRead();  // ANALYZE 'off', ANALYZE 0
          }
          falseValue = values++ == 0 && isFalseOption(ts_.peek());
          ts_.take();
        }
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
      options.refs = refs_;
      detail::scanTokens(ts_, v, options);
    } else {
      Tok name = ts_.take();
      if (!detail::isName(name)) return Verdict::writeAs("write: unknown statement");
      Tok schema;
      while (isPunct(ts_.peek(), '.')) {
        ts_.take();
        schema = name;
        name = ts_.take();
      }
      noteRelation(schema, name);
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

  // TRUNCATE [TABLE] [ONLY] name [*] [, ...] and LOCK [TABLE] [ONLY] name [*] [, ...]: the
  // tables they name, for routing rules (read ahead on a copy of the stream).
  void noteTableList() {
    if (refs_ == nullptr) return;
    TokenStream probe = ts_;
    probe.take();  // TRUNCATE / LOCK
    if (probe.peek().word == Word::Table) probe.take();
    while (true) {
      if (probe.peek().word == Word::Only) probe.take();
      Tok name = probe.take();
      if (!isName(name)) return;
      Tok schema;
      while (isPunct(probe.peek(), '.')) {
        probe.take();
        schema = name;
        name = probe.take();
        if (!isName(name)) return;
      }
      const auto n = identifierName(name);
      const auto sc = isName(schema) ? identifierName(schema) : std::optional<std::string>("");
      if (n && sc) References::add(refs_->tables, objectKey(*sc, *n));
      if (probe.peek().kind == TokenKind::Operator && probe.peek().text == "*") probe.take();
      if (!isPunct(probe.peek(), ',')) return;
      probe.take();
    }
  }

  // COPY table TO STDOUT reads `table` (COPY table FROM writes it).
  void noteRelation(const Tok& schema, const Tok& name) {
    if (refs_ == nullptr) return;
    const auto n = identifierName(name);
    const auto s = isName(schema) ? identifierName(schema) : std::optional<std::string>("");
    if (!n || !s) return;
    References::add(refs_->relations, objectKey(*s, *n));
    References::add(refs_->tables, objectKey(*s, *n));
  }

  TokenStream& ts_;
  References* refs_;
};

}  // namespace

namespace {

// What kind of statement it is, for routing rules: from its verdict and first word.
std::uint8_t kindOf(Word head, const Verdict& v) {
  if (v.read) return kReadStatement;
  switch (head) {
    case Word::Begin:
    case Word::Start:
    case Word::Commit:
    case Word::End:
    case Word::Rollback:
    case Word::Abort:
    case Word::Savepoint:
    case Word::Release:
      return kTransactionStatement;
    case Word::Set:
    case Word::Prepare:
      // SET TRANSACTION / SET CONSTRAINTS / PREPARE TRANSACTION 'gid' vs SET x, PREPARE p AS
      return std::string_view(v.reason).starts_with("transaction control") ? kTransactionStatement
                                                                           : kSessionStatement;
    case Word::Reset:
    case Word::Discard:
    case Word::Deallocate:
    case Word::Listen:
    case Word::Unlisten:
    case Word::Load:
      return kSessionStatement;
    case Word::Create:
    case Word::Alter:
    case Word::Drop:
    case Word::Comment:
    case Word::Grant:
    case Word::Revoke:
    case Word::Security:
    case Word::Import:
    case Word::Reassign:
      return kDdlStatement;
    default:
      return kWriteStatement;
  }
}

}  // namespace

Verdict classifyStatement(TokenStream& ts, References* refs) {
  const Word head = ts.peek().word;
  Verdict v = StatementClassifier(ts, refs).statement();
  v.kind = kindOf(head, v);
  if (refs != nullptr && v.kind == kDdlStatement) {
    // The relations DDL acts on (CREATE/ALTER/DROP TABLE t, ... ON t) are tables it names.
    for (const std::string& key : v.catalogChanges.relations)
      References::add(refs->tables, key);
  }
  return v;
}

}  // namespace pgsplit::sql::detail
