#include "statement_scanner.hpp"

#include <cstdint>

#include "function_lists.hpp"
#include "keyword_lists.hpp"
#include "name_table.hpp"
#include "references.hpp"

namespace pgsplit::sql::detail {

namespace {

constexpr int kTrackedDepth = 64;           // parenthesis levels with CTE-list tracking
constexpr int kColumnListProbeLimit = 512;  // tokens a CTE column-list lookahead may read

// pg_temp, or a backend's own pg_temp_NNN, unquoted or quoted.
bool isTempSchema(const Tok& t) {
  std::string_view name = t.text;
  const bool quoted = t.kind == TokenKind::QuotedIdentifier;
  if (quoted) {
    if (name.size() < 2 || name.front() != '"') return false;
    name = name.substr(1, name.size() - 2);
  } else if (t.kind != TokenKind::Identifier || t.word != Word::None) {
    return false;
  }
  if (name.size() < 7 || compareName(name.substr(0, 7), "pg_temp", !quoted) != 0) return false;
  return name.size() == 7 || name[7] == '_';
}

const char* dmlReason(Word w) {
  switch (w) {
    case Word::Insert:
      return "write: INSERT";
    case Word::Update:
      return "write: UPDATE";
    case Word::Delete:
      return "write: DELETE";
    default:
      return "write: MERGE";
  }
}

class Scanner {
 public:
  Scanner(TokenStream& ts, Verdict& verdict, ScanOptions options)
      : ts_(ts), verdict_(verdict), options_(options) {}

  void run() {
    while (true) {
      const Tok& next = ts_.peek();
      if (next.kind == TokenKind::End) return;
      if (next.kind == TokenKind::Semicolon) {
        if (atomicDepth_ == 0) return;
        ts_.takeSemicolon();
        continue;
      }
      const Tok t = ts_.take();
      // Whether this token stands where a FROM item may start (set for the next one below).
      const bool relationPosition = expectRelation_;
      expectRelation_ = false;
      // ... or where the table a DML statement writes is named.
      targetPosition_ = expectTarget_;
      expectTarget_ = false;
      if (targetPosition_ && isName(t)) onTarget(t);
      if (isPunct(t, '(')) {
        ++depth_;
        setCteList(false);
        setBit(selects_, false);
        // FROM (a JOIN b) or FROM (SELECT ...): items may start inside too.
        setBit(fromLists_, relationPosition);
        expectRelation_ = relationPosition;
      } else if (isPunct(t, ')')) {
        if (depth_ == 0) {
          if (options_.stopAtCloseParen) return;
        } else {
          --depth_;
        }
      } else if (isPunct(t, ',')) {
        expectRelation_ = bit(fromLists_);
      } else if (t.kind == TokenKind::Identifier) {
        if (relationPosition) onRelation(t);
        onIdentifier(t);
      } else if (t.kind == TokenKind::QuotedIdentifier) {
        if (relationPosition) onRelation(t);
        onTempSchema(t);
        if (isPunct(ts_.peek(), '(')) onCall(t);
      }
      prev3_ = prev2_;
      prev2_ = prev_;
      prev_ = t;
    }
  }

 private:
  // One bit per parenthesis depth (the first kTrackedDepth of them).
  bool bit(std::uint64_t bits) const {
    return depth_ < kTrackedDepth && ((bits >> depth_) & 1U) != 0;
  }
  void setBit(std::uint64_t& bits, bool on) const {
    if (depth_ >= kTrackedDepth) return;
    const std::uint64_t mask = std::uint64_t{1} << depth_;
    bits = on ? (bits | mask) : (bits & ~mask);
  }
  bool cteListOpen() const { return bit(cteLists_); }
  void setCteList(bool open) { setBit(cteLists_, open); }
  bool collecting() const { return options_.refs != nullptr; }
  // INTO that is not INSERT INTO / MERGE INTO: SELECT ... INTO new_table.
  bool selectInto(const Tok& into, const Tok& before) const {
    return into.word == Word::Into && before.word != Word::Insert && before.word != Word::Merge;
  }

  void onIdentifier(const Tok& t) {
    switch (t.word) {
      case Word::Insert:
      case Word::Delete:
      case Word::Merge:
        verdict_.write(depth_ > 0 ? "write: data-modifying CTE" : dmlReason(t.word));
        setCteList(false);
        // DELETE FROM t USING ..., MERGE INTO t USING ...: the next USING starts a FROM list.
        if (t.word != Word::Insert) setBit(dmlLists_, true);
        break;
      case Word::Update:
        if (prev_.word == Word::For) {
          verdict_.write("write: FOR UPDATE");
        } else if (prev_.word == Word::Key && prev2_.word == Word::No) {
          verdict_.write("write: FOR NO KEY UPDATE");
        } else {
          verdict_.write(depth_ > 0 ? "write: data-modifying CTE" : dmlReason(t.word));
          setCteList(false);
          // UPDATE [ONLY] t ... FROM ...; not MERGE's "WHEN MATCHED THEN UPDATE SET".
          if (!keywordEquals(prev_.text, "then")) {
            expectTarget_ = true;
            setBit(dmlLists_, true);
          }
        }
        break;
      case Word::Using:
        if (bit(dmlLists_)) {
          setBit(dmlLists_, false);  // a later USING (a JOIN's column list) is not one
          setBit(fromLists_, true);
          expectRelation_ = true;
        }
        break;
      case Word::Only:
        if (targetPosition_) expectTarget_ = true;  // UPDATE ONLY t, DELETE FROM ONLY t
        break;
      case Word::Share:
        if (prev_.word == Word::For) {
          verdict_.write("write: FOR SHARE");
        } else if (prev_.word == Word::Key && prev2_.word == Word::For) {
          verdict_.write("write: FOR KEY SHARE");
        }
        break;
      case Word::Into:
        if (selectInto(t, prev_)) verdict_.write("write: SELECT INTO");
        if (prev_.word == Word::Insert || prev_.word == Word::Merge) expectTarget_ = true;
        break;
      case Word::Temp:
      case Word::Temporary:
      case Word::Local:
      case Word::Global:
        if (selectInto(prev_, prev2_)) verdict_.pin("pin: temporary table");
        break;
      case Word::Unlogged:
        // SELECT ... INTO UNLOGGED t: a relation a standby cannot read appears.
        if (selectInto(prev_, prev2_)) {
          verdict_.catalogChanges.kinds |= kRelationsChange;
          verdict_.catalogChanges.whole |= kRelationsChange;
        }
        break;
      case Word::With:
        // Only a WITH that starts a query opens a CTE list (not WITH ORDINALITY, WITH TIES...).
        if (prev_.kind == TokenKind::End || isPunct(prev_, '(')) setCteList(true);
        break;
      case Word::Select:
        setCteList(false);
        setBit(selects_, true);
        setBit(fromLists_, false);
        setBit(dmlLists_, false);
        break;
      case Word::Values:
        setCteList(false);
        setBit(fromLists_, false);
        break;
      case Word::Table:
        setCteList(false);
        expectRelation_ = true;  // TABLE name, as a query of its own
        break;
      case Word::From:
        // A SELECT's FROM list (not EXTRACT(x FROM y), IS DISTINCT FROM, TRIM(... FROM ...)),
        // or UPDATE's; DELETE FROM names the table it deletes from.
        if (prev_.word == Word::Delete) {
          expectTarget_ = true;
        } else if ((bit(selects_) || bit(dmlLists_)) && prev_.word != Word::Distinct) {
          setBit(dmlLists_, false);
          setBit(fromLists_, true);
          expectRelation_ = true;
        }
        break;
      case Word::Join:
        expectRelation_ = bit(fromLists_);
        break;
      case Word::Where:
      case Word::Group:
      case Word::Having:
      case Word::Window:
      case Word::Order:
      case Word::Limit:
      case Word::Offset:
      case Word::Fetch:
      case Word::For:
      case Word::Union:
      case Word::Intersect:
      case Word::Except:
      case Word::Returning:
        setBit(fromLists_, false);
        break;
      case Word::Begin:
      case Word::Case:
      case Word::End:
        if (options_.routineBody && depth_ == 0) {
          if (t.word == Word::Begin || (t.word == Word::Case && atomicDepth_ > 0)) {
            ++atomicDepth_;
          } else if (t.word == Word::End && atomicDepth_ > 0) {
            --atomicDepth_;
          }
        }
        break;
      case Word::None:
        onTempSchema(t);
        break;
      default:
        break;
    }
    if (isPunct(ts_.peek(), '(')) onCall(t);
  }

  // SELECT ... INTO pg_temp.t makes a temporary table; so does CREATE ... pg_temp.x (and a
  // view over a temporary table is temporary too).
  void onTempSchema(const Tok& t) {
    if (!isTempSchema(t)) return;
    const bool intoTemp =
        selectInto(prev_, prev2_) || (prev_.word == Word::Table && prev2_.word == Word::Into);
    if (intoTemp) {
      verdict_.pin("pin: temporary table");
    } else if (options_.createStatement && isPunct(ts_.peek(), '.')) {
      verdict_.pin("pin: temporary object");
    }
  }

  // "word (" where the grammar, not a function, takes the parenthesis.
  bool grammarParen(const Tok& t) const {
    if (isGrammarParenWord(t.text)) return true;
    const Word p = prev_.word;
    switch (t.word) {
      case Word::By:  // ORDER BY (a + b), GROUP BY (), PARTITION BY (x)
        return p == Word::Order || p == Word::Group || p == Word::Partition;
      case Word::Sets:  // GROUPING SETS (...)
        return p == Word::Grouping;
      case Word::Zone:  // AT TIME ZONE (expr)
        return p == Word::Time;
      case Word::Columns:  // JSON_TABLE(doc, '$' COLUMNS (...))
        return prev_.kind == TokenKind::String;
      case Word::Varying:  // character varying(10), bit varying(5)
        return p == Word::Character || p == Word::Char || p == Word::Bit || p == Word::Nchar;
      case Word::Materialized:  // WITH x AS [NOT] MATERIALIZED (...)
        return p == Word::As || p == Word::Not;
      case Word::First:
      case Word::Next:  // FETCH FIRST (n) ROWS ONLY
        return p == Word::Fetch;
      default:
        return false;
    }
  }

  // WITH [RECURSIVE] name (col, ...) AS [NOT] [MATERIALIZED] ( ... ), name (col, ...) AS ...
  bool cteColumnList() const {
    const bool afterName =
        prev_.word == Word::With || prev_.word == Word::Recursive || isPunct(prev_, ',');
    if (!afterName || !cteListOpen()) return false;
    TokenStream probe = ts_;
    probe.take();  // (
    for (int i = 0;; ++i) {
      if (i == kColumnListProbeLimit) return false;
      const Tok x = probe.take();
      if (isPunct(x, ')')) break;
      if (!isName(x) && !isPunct(x, ',')) return false;
    }
    if (probe.take().word != Word::As) return false;
    if (probe.peek().word == Word::Not) probe.take();
    if (probe.peek().word == Word::Materialized) probe.take();
    return isPunct(probe.peek(), '(');
  }

  // FROM tbl alias (a, b), JOIN s.tbl x (a), AS t(a int, b numeric(10, 2)): an alias with a
  // column list or a type with modifiers follows a plain name, which a call never does.
  bool aliasColumnList() const {
    const bool plainName = prev_.kind == TokenKind::QuotedIdentifier ||
                           (prev_.kind == TokenKind::Identifier && !isKeyword(prev_.text));
    if (!plainName) return false;
    return prev2_.word == Word::From || prev2_.word == Word::Join || prev2_.word == Word::Only ||
           isPunct(prev2_, ',') || isPunct(prev2_, '(') || isPunct(prev2_, '.');
  }

  // A name where a FROM item starts: a relation unless a call follows. Collected only for the
  // catalog (an unlogged table, or a view over one, cannot be read on a standby).
  void onRelation(const Tok& t) {
    if (!collecting()) return;
    if (t.word == Word::Only) {
      expectRelation_ = true;
      return;
    }
    if (t.kind == TokenKind::Identifier && (t.word == Word::Rows || isGrammarParenWord(t.text)))
      return;  // LATERAL, ROWS FROM, a subquery's SELECT, ...
    auto key = nameKeyAt(t, true);
    if (!key) return;
    // The system catalogs are always readable on a standby.
    const std::string_view schema = keySchema(*key);
    if (schema == "pg_catalog" || schema == "information_schema") return;
    References::add(options_.refs->relations, *key);
    References::add(options_.refs->tables, std::move(*key));
  }

  // The table an INSERT, UPDATE, DELETE or MERGE writes (for routing rules only: a write never
  // needs the catalog's word on what it reads).
  void onTarget(const Tok& t) {
    if (!collecting()) return;
    if (t.kind == TokenKind::Identifier && t.word == Word::Only) return;  // (onIdentifier)
    if (t.kind == TokenKind::Identifier && isGrammarParenWord(t.text)) return;
    if (auto key = nameKeyAt(t, false)) References::add(options_.refs->tables, std::move(*key));
  }

  // The objectKey of the name that starts at t (name, schema.name or catalog.schema.name), read
  // ahead without consuming; nullopt when it is not one, or (fromItem) when a '(' follows it: a
  // set-returning function in a FROM item.
  std::optional<std::string> nameKeyAt(const Tok& t, bool fromItem) const {
    TokenStream probe = ts_;
    Tok parts[3] = {t, {}, {}};
    std::size_t count = 1;
    while (isPunct(probe.peek(), '.')) {
      probe.take();
      const Tok part = probe.take();
      if (!isName(part) || count == 3) return std::nullopt;
      parts[count++] = part;
    }
    if (fromItem && isPunct(probe.peek(), '(')) return std::nullopt;
    const auto name = identifierName(parts[count - 1]);
    if (!name) return std::nullopt;
    std::optional<std::string> schema;
    if (count >= 2) {
      schema = identifierName(parts[count - 2]);
      if (!schema) return std::nullopt;
    }
    return objectKey(schema ? *schema : "", *name);
  }

  void onCall(const Tok& t) {
    const bool quoted = t.kind == TokenKind::QuotedIdentifier;
    if (!quoted && grammarParen(t)) return;
    if (isTypecast(prev_) || prev_.word == Word::As || isPunct(prev_, ')') ||
        prev_.word == Word::Tablesample) {
      return;  // x::numeric(10,2), AS alias(a), f(x) alias(a), FILTER (...), TABLESAMPLE m(10)
    }
    if (cteColumnList() || aliasColumnList()) return;
    if (collecting()) {
      noteCall(t);
      onCallWithCatalog(t);
      return;
    }

    if (isPunct(prev_, '.')) {
      // Schema-qualified: only pg_catalog's functions are known.
      const bool catalog =
          (prev2_.kind == TokenKind::Identifier &&
           compareName(prev2_.text, "pg_catalog", true) == 0) ||
          (prev2_.kind == TokenKind::QuotedIdentifier && prev2_.text == "\"pg_catalog\"");
      if (!catalog) {
        verdict_.write("write: function not known read-only");
        return;
      }
    }
    std::string_view name = t.text;
    if (quoted) {
      // "name": a body with "" or a U&"" form never names a listed function.
      if (name.size() < 2 || name.front() != '"') {
        verdict_.write("write: function not known read-only");
        return;
      }
      name = name.substr(1, name.size() - 2);
    }
    applyEffect(lookupFunction(name, !quoted));
  }

  void applyEffect(const FunctionInfo& info) {
    switch (info.effect) {
      case FunctionEffect::ReadOnly:
        break;
      case FunctionEffect::Pins:
        verdict_.pin(info.reason);
        break;
      case FunctionEffect::Writes:
      case FunctionEffect::Unknown:
        verdict_.write(info.reason);
        break;
    }
  }

  // Every call, as written (schema.f or f), for routing rules that match functions.
  void noteCall(const Tok& t) {
    const auto name = identifierName(t);
    if (!name) return;
    std::optional<std::string> schema("");
    if (isPunct(prev_, '.')) {
      if (isPunct(prev3_, '.') || !isName(prev2_)) return;
      schema = identifierName(prev2_);
      if (!schema) return;
    }
    References::add(options_.refs->calls, objectKey(*schema, *name));
  }

  // The configured overrides first, then the built-in lists; what neither knows is listed for
  // the catalog instead of making the statement a write.
  void onCallWithCatalog(const Tok& t) {
    const bool qualified = isPunct(prev_, '.');
    std::optional<std::string> schema;
    if (qualified) {
      if (isPunct(prev3_, '.') || !isName(prev2_)) {  // db.schema.f(): not for pgsplit to guess
        verdict_.write("write: function not known read-only");
        return;
      }
      schema = identifierName(prev2_);
    }
    const auto name = identifierName(t);
    if (!name || (qualified && !schema)) {
      verdict_.write("write: function not known read-only");
      return;
    }
    const std::string_view schemaName = schema ? std::string_view(*schema) : std::string_view();
    const bool builtinName = !qualified || schemaName == "pg_catalog";
    const FunctionInfo builtin =
        builtinName ? lookupFunction(*name, false) : FunctionInfo{FunctionEffect::Unknown, nullptr};
    if (const FunctionOverrides* o = options_.refs->overrides; o != nullptr && !o->empty()) {
      const FunctionOverrides::Match m = o->match(schemaName, *name);
      if (m.verdict == FunctionOverrides::Verdict::Write) {
        if (builtin.effect == FunctionEffect::Pins) {
          verdict_.pin(builtin.reason);
        } else {
          verdict_.write(m.reason);
        }
        return;
      }
      if (m.verdict == FunctionOverrides::Verdict::ReadOnly &&
          builtin.effect != FunctionEffect::Pins) {
        return;
      }
    }
    if (builtin.effect != FunctionEffect::Unknown) {
      applyEffect(builtin);
      return;
    }
    References::add(options_.refs->functions, objectKey(schemaName, *name));
  }

  TokenStream& ts_;
  Verdict& verdict_;
  ScanOptions options_;
  int depth_ = 0;
  int atomicDepth_ = 0;
  std::uint64_t cteLists_ = 0;   // bit d: a WITH list is open at parenthesis depth d
  std::uint64_t selects_ = 0;    // bit d: a SELECT was seen at depth d
  std::uint64_t fromLists_ = 0;  // bit d: a FROM list is open at depth d
  std::uint64_t dmlLists_ = 0;   // bit d: UPDATE's FROM or DELETE/MERGE's USING may follow
  bool expectRelation_ = false;  // the next token may start a FROM item
  bool expectTarget_ = false;    // the next token may name the table a DML statement writes
  bool targetPosition_ = false;  // this token stands where expectTarget_ put it
  Tok prev_;
  Tok prev2_;
  Tok prev3_;
};

}  // namespace

void scanTokens(TokenStream& ts, Verdict& verdict, ScanOptions options) {
  Scanner(ts, verdict, options).run();
}

}  // namespace pgsplit::sql::detail
