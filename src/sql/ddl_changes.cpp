#include "ddl_changes.hpp"

#include <optional>
#include <string>
#include <vector>

#include "references.hpp"

namespace pgsplit::sql::detail {

namespace {

// Reads the names a DDL statement acts on: [IF [NOT] EXISTS] [ONLY] name [(args)] [, ...].
// False when something other than a name stands there.
bool readObjectNames(TokenStream& ts, bool list, std::vector<std::string>& out) {
  auto isWord = [&](std::string_view w) {
    return ts.peek().kind == TokenKind::Identifier && keywordEquals(ts.peek().text, w);
  };
  if (isWord("if")) {
    ts.take();
    if (ts.peek().word == Word::Not) ts.take();
    if (!isWord("exists")) return false;
    ts.take();
  }
  if (ts.peek().word == Word::Only) ts.take();
  while (true) {
    Tok parts[3];
    std::size_t count = 0;
    while (true) {
      const Tok t = ts.take();
      if (!isName(t) || count == 3 ||
          (t.kind == TokenKind::Identifier && keywordEquals(t.text, "all"))) {
        return false;
      }
      parts[count++] = t;
      if (!isPunct(ts.peek(), '.')) break;
      ts.take();
    }
    const auto name = identifierName(parts[count - 1]);
    const auto schema =
        count >= 2 ? identifierName(parts[count - 2]) : std::optional<std::string>("");
    if (!name || !schema) return false;
    References::add(out, objectKey(*schema, *name));
    if (isPunct(ts.peek(), '(')) {  // a routine's argument types
      int depth = 0;
      do {
        const Tok t = ts.take();
        if (isPunct(t, '(')) ++depth;
        if (isPunct(t, ')')) --depth;
      } while (depth > 0 && !ts.atStatementEnd());
    }
    if (ts.peek().word == Word::Only) ts.take();
    if (!list || !isPunct(ts.peek(), ',')) return true;
    ts.take();
  }
}

// After the object names: other relations the statement ties in (PARTITION OF p, INHERITS
// (p, ...), ATTACH / DETACH PARTITION c, RENAME TO n, ON t for policies and rules).
void readRelatedRelations(TokenStream& ts, std::vector<std::string>& out, bool& unreadable) {
  Tok prev;
  while (!ts.atStatementEnd()) {
    const Tok t = ts.take();
    const bool partitionOf = t.kind == TokenKind::Identifier && keywordEquals(t.text, "of") &&
                             prev.word == Word::Partition;
    const bool inherits = t.kind == TokenKind::Identifier && keywordEquals(t.text, "inherits");
    const bool partitionName =
        t.word == Word::Partition && prev.kind == TokenKind::Identifier &&
        (keywordEquals(prev.text, "attach") || keywordEquals(prev.text, "detach"));
    const bool renameTo = t.word == Word::To && prev.kind == TokenKind::Identifier &&
                          keywordEquals(prev.text, "rename");
    if (partitionOf || partitionName || renameTo) {
      unreadable = !readObjectNames(ts, false, out) || unreadable;
    } else if (inherits && isPunct(ts.peek(), '(')) {
      ts.take();
      unreadable = !readObjectNames(ts, true, out) || unreadable;
    }
    prev = t;
  }
}

}  // namespace

// What a DDL statement may change in the catalog facts pgsplit caches, from the words after
// CREATE / ALTER / DROP (modifiers skipped) and the names it acts on. Temporary objects change
// nothing other sessions see.
CatalogChanges ddlChanges(TokenStream ts) {
  const Word head = ts.take().word;  // CREATE, ALTER or DROP
  CatalogChanges c;
  auto names = [&](std::uint8_t kind, std::vector<std::string>& out, bool related) {
    c.kinds |= kind;
    bool unreadable = !readObjectNames(ts, head == Word::Drop, out);
    if (related && !unreadable) readRelatedRelations(ts, c.relations, unreadable);
    if (unreadable) c.whole |= kind;
  };
  for (int i = 0; i < 6 && !ts.atStatementEnd(); ++i) {
    switch (ts.take().word) {
      case Word::Or:
      case Word::Replace:
      case Word::Global:
      case Word::Local:
      case Word::Unlogged:
      case Word::Recursive:
      case Word::Materialized:
        continue;
      case Word::Temp:
      case Word::Temporary:
        return {};
      case Word::Function:
      case Word::Procedure:
      case Word::Routine:
      case Word::Aggregate:
        names(kFunctionsChange, c.functions, false);
        return c;
      case Word::Table:
      case Word::View:
      case Word::Sequence:
        names(kRelationsChange, c.relations, true);
        return c;
      case Word::Foreign:
        if (ts.peek().word != Word::Table) return {};
        ts.take();
        names(kRelationsChange, c.relations, true);
        return c;
      case Word::Policy:
      case Word::Rule: {
        // CREATE POLICY p ON t / CREATE RULE r AS ON SELECT TO t: the table matters.
        c.kinds |= kRelationsChange;
        Tok prev;
        while (!ts.atStatementEnd()) {
          const Tok t = ts.take();
          const bool onTable = (t.kind == TokenKind::Identifier && keywordEquals(t.text, "on") &&
                                ts.peek().word != Word::Select && ts.peek().word != Word::Insert &&
                                ts.peek().word != Word::Update && ts.peek().word != Word::Delete) ||
                               (t.word == Word::To && prev.word == Word::Select);
          if (onTable) {
            if (!readObjectNames(ts, false, c.relations)) c.whole |= kRelationsChange;
            return c;
          }
          prev = t;
        }
        c.whole |= kRelationsChange;
        return c;
      }
      case Word::Schema:
      case Word::Extension:
      case Word::Owned:
      case Word::Role:
      case Word::User:
      case Word::Database:  // ALTER ROLE / DATABASE ... SET search_path
        c.kinds = c.whole = kFunctionsChange | kRelationsChange;
        return c;
      default:
        return {};
    }
  }
  return {};
}

}  // namespace pgsplit::sql::detail
