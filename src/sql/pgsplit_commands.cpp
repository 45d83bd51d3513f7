#include "pgsplit/sql/pgsplit_commands.hpp"

#include <array>

#include "pgsplit/sql/lexer.hpp"

namespace pgsplit::sql {
namespace {

// The significant tokens of text (comments skipped), at most N; nullopt if more or a lex error.
template <std::size_t N>
std::optional<std::array<Token, N>> tokens(std::string_view text, std::size_t& count) {
  std::array<Token, N> out{};
  count = 0;
  Lexer lex(text);
  for (;;) {
    Token t = lex.next();
    if (t.kind == TokenKind::End) break;
    if (t.kind == TokenKind::Error) return std::nullopt;
    if (count == N) return std::nullopt;
    out[count++] = t;
  }
  // One trailing ';' is allowed.
  if (count > 0 && out[count - 1].kind == TokenKind::Semicolon) --count;
  for (std::size_t i = 0; i < count; ++i)
    if (out[i].kind == TokenKind::Semicolon) return std::nullopt;
  return out;
}

bool isWord(const Token& t, std::string_view lower) {
  return t.kind == TokenKind::Identifier && keywordEquals(t.text, lower);
}

// tokens [i, i+3) spell pgsplit . name
bool isParameter(const std::array<Token, 8>& t, std::size_t count, std::size_t i,
                 std::string_view name) {
  return i + 3 <= count && isWord(t[i], "pgsplit") && t[i + 1].kind == TokenKind::Punct &&
         t[i + 1].text == "." && isWord(t[i + 2], name);
}

// The content of a plain '...' literal ('' doubled quotes allowed); nullopt for other forms.
std::optional<std::string> plainString(std::string_view token) {
  if (token.size() < 2 || token.front() != '\'' || token.back() != '\'') return std::nullopt;
  std::string out;
  for (std::size_t i = 1; i + 1 < token.size(); ++i) {
    out.push_back(token[i]);
    if (token[i] == '\'') ++i;
  }
  return out;
}

}  // namespace

bool mentionsPgsplitParameter(std::string_view text) {
  // "pgsplit." anchored on its '.', rare in statement text: memchr finds each one fast (every
  // Query goes through this).
  constexpr std::string_view kPrefix = "pgsplit";
  for (std::size_t dot = text.find('.', kPrefix.size()); dot != std::string_view::npos;
       dot = text.find('.', dot + 1)) {
    if (equalsIgnoreAsciiCase(text.substr(dot - kPrefix.size(), kPrefix.size()), kPrefix))
      return true;
  }
  return false;
}

std::optional<PgsplitCommand> parsePgsplitCommand(std::string_view text) {
  std::size_t n = 0;
  auto t = tokens<8>(text, n);
  if (!t || n < 2) return std::nullopt;
  PgsplitCommand c;
  if (isWord((*t)[0], "show") && n == 4) {
    if (isParameter(*t, n, 1, "min_lsn")) {
      c.kind = PgsplitCommandKind::ShowMinLsn;
      return c;
    }
    if (isParameter(*t, n, 1, "write_lsn")) {
      c.kind = PgsplitCommandKind::ShowWriteLsn;
      return c;
    }
    return std::nullopt;
  }
  if (isWord((*t)[0], "reset") && n == 4 && isParameter(*t, n, 1, "min_lsn")) {
    c.kind = PgsplitCommandKind::ResetMinLsn;
    return c;
  }
  if (!isWord((*t)[0], "set")) return std::nullopt;
  std::size_t i = 1;
  if (isWord((*t)[i], "session")) ++i;
  if (!isParameter(*t, n, i, "min_lsn")) return std::nullopt;
  i += 3;
  if (i + 2 != n) return std::nullopt;
  const Token& op = (*t)[i];
  if (!isWord(op, "to") && !(op.kind == TokenKind::Operator && op.text == "=")) return std::nullopt;
  const Token& v = (*t)[i + 1];
  c.kind = PgsplitCommandKind::SetMinLsn;
  std::optional<std::string> value;
  if (v.kind == TokenKind::String) value = plainString(v.text);
  if (v.kind == TokenKind::Identifier) value = std::string(v.text);  // DEFAULT, or junk
  if (value && equalsIgnoreAsciiCase(*value, "default") && v.kind == TokenKind::Identifier) {
    c.kind = PgsplitCommandKind::ResetMinLsn;
    return c;
  }
  c.value = value.value_or(std::string(v.text));
  return c;
}

}  // namespace pgsplit::sql
