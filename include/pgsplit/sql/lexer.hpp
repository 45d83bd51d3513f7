#pragma once
// A PostgreSQL-exact lexer (scan.l's token boundaries): comments (-- and nested /* */), quoted
// identifiers, standard and E'' strings, U&'' and U&"" forms, dollar quoting with tags, numbers,
// operators, parameters ($1), and ';'. Pure and allocation-free.
//
// standardStrings says how '...' literals end: on (PostgreSQL's default since 9.1) a backslash
// is an ordinary character; off (a session's standard_conforming_strings = off) it escapes the
// next character as in E'...', and U&'...' is an error.
#include <cstdint>
#include <string>
#include <string_view>

namespace pgsplit::sql {

enum class TokenKind : std::uint8_t {
  Identifier,  // keyword or unquoted identifier (text as written)
  QuotedIdentifier,
  String,  // any string literal form, including dollar-quoted
  Number,
  Param,  // $1
  Operator,
  Punct,  // ( ) [ ] , . :: : and the like
  Semicolon,
  Comment,  // only reported when the lexer is asked for comments
  End,
  Error,  // unterminated string/comment/identifier, "" or junk after a number ("1abc")
};

struct Token {
  TokenKind kind = TokenKind::End;
  std::string_view text;
  std::size_t offset = 0;
};

class Lexer {
 public:
  explicit Lexer(std::string_view text, bool reportComments = false, bool standardStrings = true)
      : text_(text), reportComments_(reportComments), standardStrings_(standardStrings) {}
  Token next();

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
  bool reportComments_;
  bool standardStrings_;
};

// ASCII case-insensitive equality of an identifier token with a lower-case keyword.
bool keywordEquals(std::string_view token, std::string_view lowerKeyword);
// ASCII case-insensitive equality (parameter names, keywords).
bool equalsIgnoreAsciiCase(std::string_view a, std::string_view b);
// text with A-Z folded to a-z (other bytes as they are).
std::string asciiLowered(std::string_view text);

// Whether text contains word, ASCII case-insensitively; word is lower case (letters, digits and
// punctuation other than @[\]^_). A hot-path prefilter: one pass, no call per byte.
inline bool containsIgnoreAsciiCase(std::string_view text, std::string_view word) {
  if (word.empty()) return true;
  if (text.size() < word.size()) return false;
  const std::size_t last = text.size() - word.size();
  for (std::size_t i = 0; i <= last; ++i) {
    if ((text[i] | 0x20) != word[0]) continue;
    std::size_t k = 1;
    while (k < word.size() && (text[i + k] | 0x20) == word[k])
      ++k;
    if (k == word.size()) return true;
  }
  return false;
}

}  // namespace pgsplit::sql
