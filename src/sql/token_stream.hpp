#pragma once
// Significant tokens of statement text (comments skipped) with one token of lookahead and the
// Word of each identifier. A lexer error ends the stream and is remembered. Cheap to copy,
// which is how callers look further ahead.
#include <string_view>

#include "pgsplit/sql/lexer.hpp"
#include "words.hpp"

namespace pgsplit::sql::detail {

struct Tok {
  TokenKind kind = TokenKind::End;  // End also stands for "no token" (statement start)
  Word word = Word::None;
  std::string_view text;
};

inline bool isPunct(const Tok& t, char c) {
  return t.kind == TokenKind::Punct && t.text.size() == 1 && t.text[0] == c;
}
inline bool isTypecast(const Tok& t) {
  return t.kind == TokenKind::Punct && t.text == "::";
}
inline bool isName(const Tok& t) {
  return t.kind == TokenKind::Identifier || t.kind == TokenKind::QuotedIdentifier;
}

class TokenStream {
 public:
  explicit TokenStream(std::string_view text, bool standardStrings = true)
      : lexer_(text, false, standardStrings) {
    advance();
  }

  const Tok& peek() const { return next_; }
  // Takes the next token of the current statement; at its ';' or the end, returns that
  // token and stays there, so no parser can run into the next statement by accident.
  Tok take() {
    const Tok t = next_;
    if (!atStatementEnd()) advance();
    return t;
  }
  bool atStatementEnd() const {
    return next_.kind == TokenKind::End || next_.kind == TokenKind::Semicolon;
  }
  // Moves past a ';' (between statements, or inside a BEGIN ATOMIC body).
  void takeSemicolon() {
    if (next_.kind == TokenKind::Semicolon) advance();
  }
  // Skips to the ';' or the end that closes the current statement.
  void skipStatement() {
    while (!atStatementEnd())
      take();
  }

  bool failed() const { return failed_; }
  // The text of the unlexable construct (from its start to the end of the input).
  std::string_view errorText() const { return errorText_; }

 private:
  void advance() {
    const Token t = lexer_.next();
    if (t.kind == TokenKind::Error) {
      failed_ = true;
      errorText_ = t.text;
      next_ = Tok{};
      return;
    }
    next_.kind = t.kind;
    next_.text = t.text;
    next_.word = t.kind == TokenKind::Identifier ? wordOf(t.text) : Word::None;
  }

  Lexer lexer_;
  Tok next_;
  bool failed_ = false;
  std::string_view errorText_;
};

}  // namespace pgsplit::sql::detail
