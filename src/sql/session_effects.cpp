#include "pgsplit/sql/session_effects.hpp"

#include "pgsplit/sql/lexer.hpp"

namespace pgsplit::sql {

namespace {

// An identifier as PostgreSQL folds it; parameter names fold even when quoted (GUC names compare
// case-insensitively). "" for forms pgsplit does not decode (U&"...").
std::string folded(const Token& t, bool isParameter) {
  std::string out;
  if (t.kind == TokenKind::QuotedIdentifier) {
    if (t.text.empty() || t.text.front() != '"') return out;
    // "Name" keeps its case; "" inside stands for one quote.
    std::string_view in = t.text.substr(1, t.text.size() >= 2 ? t.text.size() - 2 : 0);
    for (std::size_t i = 0; i < in.size(); ++i) {
      out.push_back(in[i]);
      if (in[i] == '"' && i + 1 < in.size() && in[i + 1] == '"') ++i;
    }
    return isParameter ? asciiLowered(out) : out;
  }
  return asciiLowered(t.text);
}

bool isWord(const Token& t, std::string_view lowerKeyword) {
  return t.kind == TokenKind::Identifier && keywordEquals(t.text, lowerKeyword);
}

bool isName(const Token& t) {
  return t.kind == TokenKind::Identifier || t.kind == TokenKind::QuotedIdentifier;
}

// One statement's tokens (comments skipped), and where it starts and ends in the text.
struct Statement {
  std::vector<Token> tokens;
  std::size_t end = 0;
};

// A dotted parameter name starting at tokens[i] (a.b.c), folded; advances i past it.
std::string parameterName(const std::vector<Token>& tokens, std::size_t& i) {
  std::string name = folded(tokens[i++], true);
  while (!name.empty() && i + 1 < tokens.size() && tokens[i].kind == TokenKind::Punct &&
         tokens[i].text == "." && isName(tokens[i + 1])) {
    std::string part = folded(tokens[i + 1], true);
    if (part.empty()) return {};
    name += '.';
    name += part;
    i += 2;
  }
  return name;
}

// The parameter a SET or RESET names, starting at tokens[i] ("" if it is not one pgsplit knows);
// i moves past the name.
std::string targetOf(const std::vector<Token>& tokens, std::size_t& i) {
  if (i >= tokens.size() || !isName(tokens[i])) return {};
  const Token& t = tokens[i];
  const bool next = i + 1 < tokens.size();
  if (t.kind == TokenKind::Identifier) {
    auto special = [&i](std::size_t words, const char* name) {
      i += words;
      return std::string(name);
    };
    if (keywordEquals(t.text, "time") && next && isWord(tokens[i + 1], "zone"))
      return special(2, "timezone");
    if (keywordEquals(t.text, "names")) return special(1, "client_encoding");
    if (keywordEquals(t.text, "schema")) return special(1, "search_path");
    if (keywordEquals(t.text, "xml") && next && isWord(tokens[i + 1], "option"))
      return special(2, "xmloption");
    if (keywordEquals(t.text, "session") && next && isWord(tokens[i + 1], "authorization"))
      return special(2, "session_authorization");
  }
  return parameterName(tokens, i);
}

// SET x TO DEFAULT (SET TIME ZONE DEFAULT / LOCAL): the value from tokens[i] on resets.
bool setsDefault(const std::vector<Token>& tokens, std::size_t i, std::string_view name) {
  if (i < tokens.size() &&
      (isWord(tokens[i], "to") || (tokens[i].kind == TokenKind::Operator && tokens[i].text == "=")))
    ++i;
  if (i + 1 != tokens.size()) return false;
  return isWord(tokens[i], "default") || (name == "timezone" && isWord(tokens[i], "local"));
}

// The savepoint name at tokens[i] (folded), or "" if there is none.
std::string savepointName(const std::vector<Token>& tokens, std::size_t i) {
  if (i + 1 != tokens.size() || !isName(tokens[i])) return {};
  return folded(tokens[i], false);
}

// COMMIT / END / ROLLBACK / ABORT [WORK | TRANSACTION]: index past the optional word.
std::size_t afterTransactionWord(const std::vector<Token>& tk) {
  std::size_t i = 1;
  if (i < tk.size() && (isWord(tk[i], "work") || isWord(tk[i], "transaction"))) ++i;
  return i;
}

void transactionControl(const std::vector<Token>& tk, std::vector<SessionEffect>& out) {
  const Token& first = tk[0];
  const bool prepared = tk.size() > 1 && isWord(tk[1], "prepared");  // two-phase: not ours
  if (keywordEquals(first.text, "savepoint")) {
    out.push_back({EffectKind::Savepoint, savepointName(tk, 1), {}, "SAVEPOINT"});
  } else if (keywordEquals(first.text, "release")) {
    // RELEASE [SAVEPOINT] name (a savepoint may be called savepoint).
    std::size_t i = 1;
    if (i + 1 < tk.size() && isWord(tk[i], "savepoint")) ++i;
    out.push_back({EffectKind::Release, savepointName(tk, i), {}, "RELEASE"});
  } else if (keywordEquals(first.text, "rollback") && !prepared) {
    std::size_t i = afterTransactionWord(tk);
    if (i < tk.size() && isWord(tk[i], "to")) {
      ++i;
      if (i + 1 < tk.size() && isWord(tk[i], "savepoint")) ++i;
      out.push_back({EffectKind::RollbackTo, savepointName(tk, i), {}, "ROLLBACK"});
    } else {
      out.push_back({EffectKind::Rollback, {}, {}, "ROLLBACK"});
    }
  } else if (keywordEquals(first.text, "abort")) {
    out.push_back({EffectKind::Rollback, {}, {}, "ROLLBACK"});
  } else if ((keywordEquals(first.text, "commit") && !prepared) ||
             keywordEquals(first.text, "end")) {
    out.push_back({EffectKind::Commit, {}, {}, "COMMIT"});
  }
}

void effectsOf(const Statement& st, std::string_view text, std::vector<SessionEffect>& out) {
  const auto& tk = st.tokens;
  if (tk.empty() || tk[0].kind != TokenKind::Identifier) return;
  const Token& first = tk[0];
  if (keywordEquals(first.text, "set")) {
    // Every SET answers "SET" (but SET CONSTRAINTS, "SET CONSTRAINTS"): those without a session
    // effect are recorded as None so the tags still match statements in order.
    const SessionEffect none{EffectKind::None, {}, {}, "SET"};
    std::size_t i = 1;
    if (i < tk.size() && isWord(tk[i], "local")) {  // ends with the transaction
      out.push_back(none);
      return;
    }
    if (i < tk.size() && isWord(tk[i], "session")) {
      if (i + 1 < tk.size() && isWord(tk[i + 1], "characteristics")) {
        out.push_back({EffectKind::Unsupported, "session characteristics", {}, "SET"});
        return;
      }
      if (!(i + 1 < tk.size() && isWord(tk[i + 1], "authorization"))) ++i;  // SET SESSION x = y
    }
    if (i < tk.size() && isWord(tk[i], "constraints")) return;
    if (i < tk.size() && isWord(tk[i], "transaction")) {
      out.push_back(none);
      return;
    }
    std::string name = targetOf(tk, i);
    // transaction_isolation and friends last only for the current transaction.
    if (name.empty() || name == "transaction_isolation" || name == "transaction_read_only" ||
        name == "transaction_deferrable") {
      out.push_back(none);
      return;
    }
    if (setsDefault(tk, i, name)) {
      out.push_back({EffectKind::Reset, std::move(name), {}, "SET"});  // the session default
      return;
    }
    out.push_back({EffectKind::Set, std::move(name),
                   std::string(text.substr(first.offset, st.end - first.offset)), "SET"});
    return;
  }
  if (keywordEquals(first.text, "reset")) {
    if (tk.size() > 1 && isWord(tk[1], "all")) {
      out.push_back({EffectKind::ResetAll, {}, {}, "RESET"});
      return;
    }
    std::size_t i = 1;
    std::string name = targetOf(tk, i);
    if (name.empty())
      out.push_back({EffectKind::None, {}, {}, "RESET"});
    else
      out.push_back({EffectKind::Reset, std::move(name), {}, "RESET"});
    return;
  }
  if (keywordEquals(first.text, "discard")) {
    if (tk.size() > 1 && isWord(tk[1], "all"))
      out.push_back({EffectKind::DiscardAll, {}, {}, "DISCARD ALL"});
    return;
  }
  if (keywordEquals(first.text, "deallocate")) {
    std::size_t i = 1;
    if (i + 1 < tk.size() && isWord(tk[i], "prepare")) ++i;  // (a statement may be called prepare)
    if (i >= tk.size() || !isName(tk[i])) return;
    if (isWord(tk[i], "all")) {
      out.push_back({EffectKind::DeallocateAll, {}, {}, "DEALLOCATE ALL"});
      return;
    }
    // U&"..." is not decoded (name ""): the server answers it; the record keeps tags in step.
    out.push_back({EffectKind::Deallocate, folded(tk[i], false), {}, "DEALLOCATE"});
    return;
  }
  transactionControl(tk, out);
}

}  // namespace

std::vector<SessionEffect> sessionEffects(std::string_view text) {
  std::vector<SessionEffect> out;
  Lexer lexer(text);
  Statement st;
  auto flush = [&] {
    if (st.tokens.empty()) return;
    const Token& last = st.tokens.back();
    st.end = last.offset + last.text.size();
    effectsOf(st, text, out);
    st.tokens.clear();
  };
  for (;;) {
    Token t = lexer.next();
    if (t.kind == TokenKind::Error) return out;  // unlexable: the server will refuse it too
    if (t.kind == TokenKind::End) {
      flush();
      return out;
    }
    if (t.kind == TokenKind::Semicolon) {
      flush();
      continue;
    }
    st.tokens.push_back(t);
  }
}

bool tagMatches(const SessionEffect& e, std::string_view tag) {
  if (e.kind == EffectKind::Commit) return tag == "COMMIT" || tag == "ROLLBACK";
  return tag == e.tag;
}

bool mentionsSessionControl(std::string_view text) {
  // One pass (every Query goes through it): where the first two letters of one of the words
  // stand, compare the word.
  static constexpr std::string_view kWords[] = {"discard", "deallocate", "savepoint", "release",
                                                "rollback"};
  const std::size_t n = text.size();
  for (std::size_t i = 0; i + 7 <= n; ++i) {
    const char c = static_cast<char>(text[i] | 0x20);
    if (c != 'd' && c != 's' && c != 'r') continue;
    const char c2 = static_cast<char>(text[i + 1] | 0x20);
    for (std::string_view w : kWords)
      if (w[0] == c && w[1] == c2 && i + w.size() <= n &&
          equalsIgnoreAsciiCase(text.substr(i, w.size()), w))
        return true;
  }
  return false;
}

std::string startupSettingSql(std::string_view name, std::string_view value) {
  // E'' with every backslash and quote doubled reads the same whatever standard_conforming_strings
  // says; the name is checked by plausibleParameterName before it gets here.
  std::string sql = "SELECT pg_catalog.set_config('";
  sql.append(name);
  sql += "', E'";
  for (char c : value) {
    if (c == '\\' || c == '\'') sql.push_back(c);
    sql.push_back(c);
  }
  sql += "', false)";
  return sql;
}

std::string startupRestoreSql(const std::vector<std::pair<std::string, std::string>>& values) {
  constexpr std::string_view kSelect = "SELECT ";
  std::string sql(kSelect);
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) sql += ", ";
    sql += std::string_view(startupSettingSql(values[i].first, values[i].second))
               .substr(kSelect.size());
  }
  return sql;
}

bool plausibleParameterName(std::string_view name) {
  if (name.empty() || name.size() > 63 * 2 + 1) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.';
    if (!ok) return false;
  }
  return name.front() != '.' && name.back() != '.';
}

}  // namespace pgsplit::sql
