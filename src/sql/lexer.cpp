// Token boundaries follow PostgreSQL's scan.l (PostgreSQL 16 rules, standard_conforming_strings
// on). The lexer never allocates: tokens are views into the input.
#include "pgsplit/sql/lexer.hpp"

#include <array>

namespace pgsplit::sql {

namespace {

constexpr std::size_t kNone = static_cast<std::size_t>(-1);

// Character classes of scan.l, one table lookup per character.
enum CharClass : std::uint8_t {
  kSpace = 1,       // space [ \t\n\r\f\v]
  kIdentStart = 2,  // ident_start [A-Za-z\200-\377_]
  kIdentCont = 4,   // ident_cont [A-Za-z\200-\377_0-9\$]
  kDigit = 8,
  kOpChar = 16,     // op_chars [\~\!\@\#\^\&\|\`\?\+\-\*\/\%\<\>\=]
  kKeepsSign = 32,  // lets a multi-character operator keep a trailing + or -
};

constexpr auto kCharClasses = [] {
  std::array<std::uint8_t, 256> t{};
  for (unsigned char c : std::string_view(" \t\n\r\f\v"))
    t[c] |= kSpace;
  for (int c = 0; c < 256; ++c) {
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
    if (letter) t[c] |= kIdentStart | kIdentCont;
    if (c >= '0' && c <= '9') t[c] |= kDigit | kIdentCont;
  }
  t['$'] |= kIdentCont;
  for (unsigned char c : std::string_view("~!@#^&|`?+-*/%<>="))
    t[c] |= kOpChar;
  for (unsigned char c : std::string_view("~!@#^&|`?%"))
    t[c] |= kKeepsSign;
  return t;
}();

constexpr bool is(unsigned char c, CharClass k) {
  return (kCharClasses[c] & k) != 0;
}
constexpr bool isSpace(unsigned char c) {
  return is(c, kSpace);
}
constexpr bool isHorizontalSpace(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\f' || c == '\v';
}
constexpr bool isNewline(unsigned char c) {
  return c == '\n' || c == '\r';
}
constexpr bool isDigit(unsigned char c) {
  return is(c, kDigit);
}
constexpr bool isHexDigit(unsigned char c) {
  return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
constexpr bool isIdentStart(unsigned char c) {
  return is(c, kIdentStart);
}
constexpr bool isIdentCont(unsigned char c) {
  return is(c, kIdentCont);
}
// scan.l dolq_cont: like ident_cont but without '$'.
constexpr bool isDollarTagCont(unsigned char c) {
  return isIdentStart(c) || isDigit(c);
}
constexpr bool isOpChar(unsigned char c) {
  return is(c, kOpChar);
}
constexpr bool keepsTrailingSign(unsigned char c) {
  return is(c, kKeepsSign);
}
constexpr unsigned char lowerAscii(unsigned char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<unsigned char>(c + ('a' - 'A')) : c;
}

enum class QuoteMode { Standard, Extended, Bits };

class Scanner {
 public:
  explicit Scanner(std::string_view text) : s_(text) {}

  unsigned char at(std::size_t i) const {
    return i < s_.size() ? static_cast<unsigned char>(s_[i]) : 0;
  }
  bool has(std::size_t i) const { return i < s_.size(); }

  // Whitespace and "--" comments between a closing quote and a continuation quote
  // (scan.l quotecontinue): the run must contain a newline. Returns the position of the
  // continuing quote, or kNone.
  std::size_t continuation(std::size_t i) const {
    bool newline = false;
    while (has(i)) {
      const unsigned char c = at(i);
      if (isHorizontalSpace(c)) {
        ++i;
      } else if (isNewline(c)) {
        newline = true;
        ++i;
      } else if (c == '-' && at(i + 1) == '-') {
        while (has(i) && !isNewline(at(i)))
          ++i;
      } else {
        break;
      }
    }
    return (newline && at(i) == '\'') ? i : kNone;
  }

  // Scans a quoted string body starting just after its opening quote; returns the position
  // after the closing quote (continuations included), or kNone when unterminated or refused.
  std::size_t quoted(std::size_t i, QuoteMode mode) const {
    // Extended strings: once an octal or hex escape has made a NUL or a non-ASCII byte, the
    // scanner checks the decoded string is valid UTF-8 (pg_verifymbstr).
    Utf8Check check;
    bool sawNonAscii = false;
    while (has(i)) {
      const unsigned char c = at(i);
      if (c == '\\' && mode == QuoteMode::Extended) {
        if (!has(i + 1)) return kNone;
        const unsigned char e = at(i + 1);
        if (e == 'u' || e == 'U') {
          std::uint32_t codePoint = 0;
          i = unicodeEscape(i, codePoint);
          if (i == kNone) return kNone;
          check.addCodePoint(codePoint);
        } else if ((e >= '0' && e <= '7') || (e == 'x' && isHexDigit(at(i + 2)))) {
          const bool hex = e == 'x';
          std::size_t j = hex ? i + 2 : i + 1;
          unsigned value = 0;
          for (int n = 0; n < (hex ? 2 : 3); ++n, ++j) {
            const unsigned char d = at(j);
            if (hex ? !isHexDigit(d) : (d < '0' || d > '7')) break;
            value = value * (hex ? 16 : 8) +
                    (isDigit(d) ? d - '0' : static_cast<unsigned>(lowerAscii(d) - 'a' + 10));
          }
          const auto byte = static_cast<unsigned char>(value & 0xFF);
          sawNonAscii = sawNonAscii || byte == 0 || byte >= 0x80;
          check.add(byte);
          i = j;
        } else {
          check.add(e);
          i += 2;
        }
      } else if (c == '\'') {
        if (mode != QuoteMode::Bits && at(i + 1) == '\'') {
          check.add(c);
          i += 2;
          continue;
        }
        const std::size_t next = continuation(i + 1);
        if (next == kNone) return (sawNonAscii && !check.valid()) ? kNone : i + 1;
        i = next + 1;
      } else {
        check.add(c);
        ++i;
      }
    }
    return kNone;
  }

  // Strict UTF-8 (pg_utf8_islegal: no overlong forms, no surrogates, nothing past U+10FFFF, and
  // no NUL), fed one decoded byte at a time.
  class Utf8Check {
   public:
    void add(unsigned char b) {
      if (need_ > 0) {
        if (b < lo_ || b > hi_) ok_ = false;
        lo_ = 0x80;
        hi_ = 0xBF;
        --need_;
        return;
      }
      if (b == 0 || (b >= 0x80 && b < 0xC2) || b > 0xF4) {
        ok_ = false;
      } else if (b >= 0xC2) {
        need_ = b < 0xE0 ? 1 : b < 0xF0 ? 2 : 3;
        lo_ = b == 0xE0 ? 0xA0 : b == 0xF0 ? 0x90 : 0x80;
        hi_ = b == 0xED ? 0x9F : b == 0xF4 ? 0x8F : 0xBF;
      }
    }
    void addCodePoint(std::uint32_t cp) {
      if (cp < 0x80) {
        add(static_cast<unsigned char>(cp));
      } else if (cp < 0x800) {
        add(static_cast<unsigned char>(0xC0 | (cp >> 6)));
        add(static_cast<unsigned char>(0x80 | (cp & 0x3F)));
      } else if (cp < 0x10000) {
        add(static_cast<unsigned char>(0xE0 | (cp >> 12)));
        add(static_cast<unsigned char>(0x80 | ((cp >> 6) & 0x3F)));
        add(static_cast<unsigned char>(0x80 | (cp & 0x3F)));
      } else {
        add(static_cast<unsigned char>(0xF0 | (cp >> 18)));
        add(static_cast<unsigned char>(0x80 | ((cp >> 12) & 0x3F)));
        add(static_cast<unsigned char>(0x80 | ((cp >> 6) & 0x3F)));
        add(static_cast<unsigned char>(0x80 | (cp & 0x3F)));
      }
    }
    bool valid() const { return ok_ && need_ == 0; }

   private:
    bool ok_ = true;
    int need_ = 0;
    unsigned char lo_ = 0x80;
    unsigned char hi_ = 0xBF;
  };

  // \uXXXX or \UXXXXXXXX in an E'' string (scan.l xeunicode): a valid code point, a high
  // surrogate only when a low one follows. Returns the position after it (and the code point),
  // kNone when PostgreSQL's scanner refuses it ("invalid Unicode escape" and friends).
  std::size_t unicodeEscape(std::size_t i, std::uint32_t& codePoint) const {
    auto code = [this](std::size_t at, std::size_t digits, std::uint32_t& value) {
      value = 0;
      for (std::size_t k = 0; k < digits; ++k) {
        const unsigned char h = this->at(at + k);
        if (!isHexDigit(h)) return false;
        value = value * 16 +
                static_cast<std::uint32_t>(isDigit(h) ? h - '0' : lowerAscii(h) - 'a' + 10);
      }
      return true;
    };
    const std::size_t digits = at(i + 1) == 'u' ? 4 : 8;
    std::uint32_t value = 0;
    if (!code(i + 2, digits, value) || value == 0 || value > 0x10FFFF) return kNone;
    i += 2 + digits;
    if (value >= 0xDC00 && value <= 0xDFFF) return kNone;  // a low surrogate alone
    if (value >= 0xD800 && value <= 0xDBFF) {
      if (at(i) != '\\' || (at(i + 1) != 'u' && at(i + 1) != 'U')) return kNone;
      const std::size_t lowDigits = at(i + 1) == 'u' ? 4 : 8;
      std::uint32_t low = 0;
      if (!code(i + 2, lowDigits, low) || low < 0xDC00 || low > 0xDFFF) return kNone;
      i += 2 + lowDigits;
      value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00);
    }
    codePoint = value;
    return i;
  }

  // A "quoted identifier" body; returns the position after the closing quote or kNone.
  std::size_t quotedIdentifier(std::size_t i) const {
    while (has(i)) {
      if (at(i) == '"') {
        if (at(i + 1) != '"') return i + 1;
        i += 2;
      } else {
        ++i;
      }
    }
    return kNone;
  }

  // A nested /* */ comment starting at i; returns the position after it or kNone.
  std::size_t blockComment(std::size_t i) const {
    int depth = 1;
    i += 2;
    while (has(i)) {
      if (at(i) == '/' && at(i + 1) == '*') {
        ++depth;
        i += 2;
      } else if (at(i) == '*' && at(i + 1) == '/') {
        i += 2;
        if (--depth == 0) return i;
      } else {
        ++i;
      }
    }
    return kNone;
  }

  // Digits with optional single underscores between them (scan.l decinteger and friends).
  template <typename Pred>
  std::size_t digits(std::size_t i, Pred isOk) const {
    while (true) {
      if (isOk(at(i))) {
        ++i;
      } else if (at(i) == '_' && isOk(at(i + 1))) {
        i += 2;
      } else {
        return i;
      }
    }
  }

  std::size_t number(std::size_t i) const {
    const unsigned char radix = lowerAscii(at(i + 1));
    if (at(i) == '0' && (radix == 'x' || radix == 'o' || radix == 'b')) {
      auto ok = [radix](unsigned char c) {
        if (radix == 'x') return isHexDigit(c);
        if (radix == 'o') return c >= '0' && c <= '7';
        return c == '0' || c == '1';
      };
      const std::size_t start = i + 2;
      const std::size_t first = (at(start) == '_' && ok(at(start + 1))) ? start + 1 : start;
      if (ok(at(first))) return digits(first, ok);
    }
    if (at(i) != '.') i = digits(i, isDigit);
    if (at(i) == '.' && at(i + 1) != '.') {  // "1..2" is 1 followed by ".."
      ++i;
      if (isDigit(at(i))) i = digits(i, isDigit);
    }
    if (lowerAscii(at(i)) == 'e') {
      std::size_t j = i + 1;
      if (at(j) == '+' || at(j) == '-') ++j;
      if (isDigit(at(j))) i = digits(j, isDigit);
    }
    return i;
  }

  std::size_t operatorEnd(std::size_t i) const {
    const std::size_t start = i;
    while (isOpChar(at(i)))
      ++i;
    // A comment start inside the run ends the operator (the run cannot start with one).
    for (std::size_t j = start + 1; j + 1 < i; ++j) {
      if ((at(j) == '/' && at(j + 1) == '*') || (at(j) == '-' && at(j + 1) == '-')) {
        i = j;
        break;
      }
    }
    std::size_t len = i - start;
    if (len > 1 && (at(start + len - 1) == '+' || at(start + len - 1) == '-')) {
      bool keep = false;
      for (std::size_t j = start; j + 1 < start + len; ++j)
        keep = keep || keepsTrailingSign(at(j));
      if (!keep) {
        do {
          --len;
        } while (len > 1 && (at(start + len - 1) == '+' || at(start + len - 1) == '-'));
      }
    }
    return start + len;
  }

 private:
  std::string_view s_;
};

}  // namespace

bool keywordEquals(std::string_view token, std::string_view lowerKeyword) {
  if (token.size() != lowerKeyword.size()) return false;
  for (std::size_t i = 0; i < token.size(); ++i) {
    if (lowerAscii(static_cast<unsigned char>(token[i])) !=
        static_cast<unsigned char>(lowerKeyword[i])) {
      return false;
    }
  }
  return true;
}

bool equalsIgnoreAsciiCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lowerAscii(static_cast<unsigned char>(a[i])) !=
        lowerAscii(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

std::string asciiLowered(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    c = static_cast<char>(lowerAscii(static_cast<unsigned char>(c)));
  return out;
}

Token Lexer::next() {
  const Scanner sc(text_);
  const std::size_t n = text_.size();
  auto make = [&](TokenKind kind, std::size_t start, std::size_t end) {
    pos_ = end;
    return Token{kind, text_.substr(start, end - start), start};
  };
  auto error = [&](std::size_t start) { return make(TokenKind::Error, start, n); };

  std::size_t start = pos_;
  while (true) {
    while (start < n && isSpace(sc.at(start)))
      ++start;
    if (start >= n) return make(TokenKind::End, n, n);
    if (sc.at(start) == '-' && sc.at(start + 1) == '-') {
      std::size_t end = start + 2;
      while (end < n && !isNewline(sc.at(end)))
        ++end;
      if (reportComments_) return make(TokenKind::Comment, start, end);
      start = end;
      continue;
    }
    if (sc.at(start) == '/' && sc.at(start + 1) == '*') {
      const std::size_t end = sc.blockComment(start);
      if (end == kNone) return error(start);
      if (reportComments_) return make(TokenKind::Comment, start, end);
      start = end;
      continue;
    }
    break;
  }

  const unsigned char c = sc.at(start);
  const unsigned char c1 = sc.at(start + 1);
  auto string = [&](std::size_t bodyStart, QuoteMode mode) {
    const std::size_t end = sc.quoted(bodyStart, mode);
    return end == kNone ? error(start) : make(TokenKind::String, start, end);
  };
  auto quotedIdentifier = [&](std::size_t bodyStart) {
    const std::size_t end = sc.quotedIdentifier(bodyStart);
    // A zero-length delimited identifier is a scan.l error too.
    if (end == kNone || end == bodyStart + 1) return error(start);
    return make(TokenKind::QuotedIdentifier, start, end);
  };

  if (isIdentStart(c)) {
    const unsigned char lc = lowerAscii(c);
    if (c1 == '\'') {
      if (lc == 'e') return string(start + 2, QuoteMode::Extended);
      if (lc == 'b' || lc == 'x') return string(start + 2, QuoteMode::Bits);
      // N'...': scan.l returns the N alone (as NATIONAL CHARACTER), then the string.
      if (lc == 'n') return make(TokenKind::Identifier, start, start + 1);
    }
    if (lc == 'u' && c1 == '&') {
      if (sc.at(start + 2) == '\'') {
        // PostgreSQL refuses Unicode escapes in strings when backslashes escape.
        if (!standardStrings_) return error(start);
        return string(start + 3, QuoteMode::Standard);
      }
      if (sc.at(start + 2) == '"') return quotedIdentifier(start + 3);
    }
    std::size_t end = start + 1;
    while (end < n && isIdentCont(sc.at(end)))
      ++end;
    return make(TokenKind::Identifier, start, end);
  }
  if (c == '\'') {
    return string(start + 1, standardStrings_ ? QuoteMode::Standard : QuoteMode::Extended);
  }
  if (c == '"') return quotedIdentifier(start + 1);
  if (c == '$') {
    if (isDigit(c1)) {
      std::size_t end = start + 1;
      while (end < n && isDigit(sc.at(end)))
        ++end;
      if (isIdentStart(sc.at(end))) return error(start);  // scan.l param_junk
      return make(TokenKind::Param, start, end);
    }
    std::size_t tagEnd = start + 1;
    if (isIdentStart(c1)) {
      while (tagEnd < n && isDollarTagCont(sc.at(tagEnd)))
        ++tagEnd;
    }
    if (sc.at(tagEnd) != '$') return make(TokenKind::Punct, start, start + 1);  // lone '$'
    const std::string_view tag = text_.substr(start, tagEnd + 1 - start);
    const std::size_t close = text_.find(tag, tagEnd + 1);
    if (close == std::string_view::npos) return error(start);
    return make(TokenKind::String, start, close + tag.size());
  }
  if (isDigit(c) || (c == '.' && isDigit(c1))) {
    const std::size_t end = sc.number(start);
    // "123abc", "1e", "0x": trailing junk after a numeric literal is an error (PostgreSQL 15+).
    if (isIdentStart(sc.at(end))) return error(start);
    return make(TokenKind::Number, start, end);
  }
  switch (c) {
    case ';':
      return make(TokenKind::Semicolon, start, start + 1);
    case '.':
      return make(TokenKind::Punct, start, start + (c1 == '.' ? 2 : 1));
    case ':':
      return make(TokenKind::Punct, start, start + ((c1 == ':' || c1 == '=') ? 2 : 1));
    default:
      break;
  }
  if (isOpChar(c)) return make(TokenKind::Operator, start, sc.operatorEnd(start));
  // ( ) [ ] , and any other single character (scan.l's "self" and "other").
  return make(TokenKind::Punct, start, start + 1);
}

}  // namespace pgsplit::sql
