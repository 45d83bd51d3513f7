#include "pgsplit/sql/normalizer.hpp"

#include <bit>
#include <charconv>

#include "final_mix.hpp"
#include "pgsplit/sql/lexer.hpp"

namespace pgsplit::sql {

namespace {

constexpr std::size_t kNoEnd = static_cast<std::size_t>(-1);

bool isConstant(TokenKind k) {
  return k == TokenKind::String || k == TokenKind::Number || k == TokenKind::Param;
}
bool isPunct(const Token& t, char c) {
  return t.kind == TokenKind::Punct && t.text.size() == 1 && t.text[0] == c;
}
bool isSign(const Token& t) {
  return t.kind == TokenKind::Operator && (t.text == "-" || t.text == "+");
}

// After a '(' : a list of two or more constants (each maybe signed) and its ')'. On success the
// lexer stands after the ')' and `end` is where the ')' ends.
bool collapsibleList(Lexer& lexer, std::size_t& end) {
  Lexer probe = lexer;
  std::size_t count = 0;
  for (;;) {
    Token t = probe.next();
    if (isSign(t)) {
      t = probe.next();
      if (t.kind != TokenKind::Number) return false;
    } else if (!isConstant(t.kind)) {
      return false;
    }
    ++count;
    const Token sep = probe.next();
    if (isPunct(sep, ',')) continue;
    if (!isPunct(sep, ')') || count < 2) return false;
    end = sep.offset + sep.text.size();
    lexer = probe;
    return true;
  }
}

// What the walk reports, in order. `space`: the original had whitespace or a comment before it.
struct Sink {
  virtual void token(const Token& t, bool space) = 0;
  virtual void constant(const Token& t, bool space) = 0;
  virtual void list(bool space) = 0;
  virtual void semicolon() = 0;
  // The lexer gave up here: nothing after it is read.
  virtual void unreadable() = 0;
  virtual bool full() const { return false; }

 protected:
  ~Sink() = default;
};

// True when the whole text lexed. (A template: the sinks are final, their calls inlined.)
template <class S>
bool walk(std::string_view text, bool standardStrings, S& sink) {
  Lexer lexer(text, false, standardStrings);
  std::size_t prevEnd = kNoEnd;
  bool pendingSemicolon = false;
  while (!sink.full()) {
    const Token t = lexer.next();
    if (t.kind == TokenKind::End) return true;
    if (t.kind == TokenKind::Error) {
      sink.unreadable();
      return false;
    }
    bool space = prevEnd != kNoEnd && t.offset > prevEnd;
    prevEnd = t.offset + t.text.size();
    if (t.kind == TokenKind::Semicolon) {
      pendingSemicolon = true;  // written only if a statement follows
      continue;
    }
    if (pendingSemicolon) {
      sink.semicolon();
      pendingSemicolon = false;
      space = true;
    }
    std::size_t listEnd = 0;
    if (isPunct(t, '(') && collapsibleList(lexer, listEnd)) {
      sink.list(space);
      prevEnd = listEnd;
    } else if (isConstant(t.kind)) {
      sink.constant(t, space);
    } else {
      sink.token(t, space);
    }
  }
  return true;
}

// Reads with standard_conforming_strings on, or off when only that lexes. True when the text
// lexed whole with it on.
template <class S>
bool walkEitherWay(std::string_view text, S& sink) {
  {
    S probe = sink;
    if (walk(text, true, probe)) {
      sink = std::move(probe);
      return true;
    }
  }
  S fallback = sink;
  if (walk(text, false, fallback)) {
    sink = std::move(fallback);
    return false;
  }
  walk(text, true, sink);  // unreadable either way: cut where the standard reading gives up
  return false;
}

// The second hash of a shape: the bytes fed eight at a time into a multiply-rotate step (each
// step a bijection of the state and of the word), the count of bytes, and an avalanche.
class WordHash {
 public:
  void add(unsigned char b) {
    word_ |= std::uint64_t{b} << (8 * filled_);
    ++count_;
    if (++filled_ < 8) return;
    state_ = step(state_, word_);
    word_ = 0;
    filled_ = 0;
  }
  std::uint64_t value() const { return detail::finalMix(step(step(state_, word_), count_)); }

 private:
  static std::uint64_t step(std::uint64_t state, std::uint64_t word) {
    return std::rotl(state ^ (word * 0x9E3779B185EBCA87ULL), 29) * 0xC2B2AE3D27D4EB4FULL +
           0x165667B19E3779F9ULL;
  }

  std::uint64_t state_ = 0x27D4EB2F165667C5ULL;
  std::uint64_t word_ = 0;
  std::uint64_t count_ = 0;
  unsigned filled_ = 0;
};

// The fingerprint (FNV-1a over kinds, folded token texts and markers) and, when asked for, over
// the same bytes and the kind of each constant, the check.
template <bool kWithCheck>
class Shape final : public Sink {
 public:
  void token(const Token& t, bool) override {
    Hashes h = hashes_;  // a local copy stays in registers through the loop
    h.add(static_cast<unsigned char>('a' + static_cast<int>(t.kind)));
    const bool fold = t.kind == TokenKind::Identifier;
    for (const char c : t.text) {
      auto u = static_cast<unsigned char>(c);
      if (fold && u >= 'A' && u <= 'Z') u = static_cast<unsigned char>(u - 'A' + 'a');
      h.add(u);
    }
    h.add(0);
    hashes_ = h;
  }
  void constant(const Token& t, bool) override {
    hashes_.add('?');
    if constexpr (kWithCheck) {
      hashes_.check.add(static_cast<unsigned char>('a' + static_cast<int>(t.kind)));
      if (t.kind == TokenKind::String) {
        // Its form: ' E B X U $ (a string token is never empty).
        auto form = static_cast<unsigned char>(t.text.front());
        if (form >= 'a' && form <= 'z') form = static_cast<unsigned char>(form - 'a' + 'A');
        hashes_.check.add(form);
      }
    }
  }
  void list(bool) override { hashes_.add('L'); }
  void semicolon() override { hashes_.add(';'); }
  void unreadable() override { hashes_.add('!'); }
  std::uint64_t fingerprint() const { return hashes_.fnv == 0 ? 1 : hashes_.fnv; }
  std::uint64_t check() const { return hashes_.check.value(); }

 private:
  struct Hashes {
    void add(unsigned char b) {
      fnv ^= b;
      fnv *= 0x100000001B3ULL;  // FNV-1a
      if constexpr (kWithCheck) check.add(b);
    }
    std::uint64_t fnv = 0xCBF29CE484222325ULL;
    WordHash check;
  };
  Hashes hashes_;
};

// The highest $n of the text (placeholders are numbered after it), collapsed lists included.
unsigned long highestParam(std::string_view text) {
  Lexer lexer(text);
  unsigned long highest = 0;
  for (Token t = lexer.next(); t.kind != TokenKind::End && t.kind != TokenKind::Error;
       t = lexer.next()) {
    if (t.kind != TokenKind::Param) continue;
    unsigned long n = 0;
    const auto [ptr, ec] = std::from_chars(t.text.data() + 1, t.text.data() + t.text.size(), n);
    if (ec == std::errc{} && n > highest) highest = n;
  }
  return highest;
}

class Text final : public Sink {
 public:
  Text(std::size_t maxBytes, unsigned long firstPlaceholder)
      : maxBytes_(maxBytes), next_(firstPlaceholder) {}

  void token(const Token& t, bool space) override {
    separate(space);
    append(t.text);
  }
  void constant(const Token& t, bool space) override {
    separate(space);
    if (t.kind == TokenKind::Param)
      append(t.text);
    else
      placeholder();
  }
  void list(bool space) override {
    separate(space);
    append("(");
    placeholder();
    append(", ...)");
  }
  void semicolon() override { append(";"); }
  void unreadable() override {
    if (!out_.empty()) separate(true);
    append("...");
  }
  bool full() const override { return cut_; }
  std::string take() { return std::move(out_); }

 private:
  void separate(bool space) {
    if (space && !out_.empty()) append(" ");
  }
  void placeholder() {
    char buf[24];
    buf[0] = '$';
    const auto [ptr, ec] = std::to_chars(buf + 1, buf + sizeof buf, next_++);
    append(std::string_view(buf, static_cast<std::size_t>(ptr - buf)));
  }
  void append(std::string_view s) {
    if (cut_) return;
    if (out_.size() + s.size() <= maxBytes_) {
      out_.append(s);
      return;
    }
    std::size_t room = maxBytes_ - out_.size();
    // Cut at a UTF-8 character boundary.
    while (room > 0 && (static_cast<unsigned char>(s[room]) & 0xC0) == 0x80)
      --room;
    out_.append(s.substr(0, room));
    out_.append("...");
    cut_ = true;
  }

  std::size_t maxBytes_;
  unsigned long next_;
  std::string out_;
  bool cut_ = false;
};

}  // namespace

std::string normalizeStatement(std::string_view text, std::size_t maxBytes) {
  Text out(maxBytes, highestParam(text) + 1);
  walkEitherWay(text, out);
  return out.take();
}

std::uint64_t statementFingerprint(std::string_view text) {
  Shape<false> s;
  walkEitherWay(text, s);
  return s.fingerprint();
}

StatementShape statementShape(std::string_view text) {
  Shape<true> s;
  StatementShape out;
  out.lexed = walkEitherWay(text, s);
  out.fingerprint = s.fingerprint();
  out.check = s.check();
  out.hasBackslash = text.find('\\') != std::string_view::npos;
  out.hasComment =
      text.find("--") != std::string_view::npos || text.find("/*") != std::string_view::npos;
  return out;
}

}  // namespace pgsplit::sql
