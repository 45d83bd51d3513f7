#include "pgsplit/config/patterns.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace pgsplit::config {

namespace {

void addToSet(std::array<std::uint64_t, 4>& set, unsigned char c) {
  set[c >> 6] |= std::uint64_t{1} << (c & 63);
}

bool inSet(const std::array<std::uint64_t, 4>& set, unsigned char c) {
  return ((set[c >> 6] >> (c & 63)) & 1U) != 0;
}

char foldAscii(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// One part of a NamePattern as glob text: unquoted folded to lower case, "quoted" with its
// wildcards escaped so that they stand for themselves.
std::optional<std::string> identifierGlobText(std::string_view part, std::string& error) {
  if (part.empty()) {
    error = "empty name part";
    return std::nullopt;
  }
  std::string out;
  if (part.front() != '"') {
    for (const char c : part) {
      if (c == '"') {
        error = "a double quote must enclose a whole name part";
        return std::nullopt;
      }
      out += foldAscii(c);
    }
    return out;
  }
  if (part.size() < 3 || part.back() != '"') {
    error = "unterminated or empty quoted name";
    return std::nullopt;
  }
  const std::string_view body = part.substr(1, part.size() - 2);
  for (std::size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (c == '"') {
      if (i + 1 >= body.size() || body[i + 1] != '"') {
        error = "a double quote inside a quoted name must be doubled";
        return std::nullopt;
      }
      ++i;
    }
    if (c == '*' || c == '?' || c == '[' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

// ---- Glob -----------------------------------------------------------------------------------

std::optional<Glob> Glob::parse(std::string_view text, std::string& error) {
  if (text.empty()) {
    error = "empty pattern";
    return std::nullopt;
  }
  Glob g;
  g.text_ = std::string(text);
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    Piece p;
    if (c == '*') {
      p.kind = Piece::Star;
      g.literal_ = false;
      if (!g.pieces_.empty() && g.pieces_.back().kind == Piece::Star) continue;  // ** = *
    } else if (c == '?') {
      p.kind = Piece::AnyByte;
      g.literal_ = false;
    } else if (c == '\\') {
      if (i + 1 >= text.size()) {
        error = "'\\' at the end of the pattern escapes nothing";
        return std::nullopt;
      }
      p.byte = text[++i];
      g.literalText_ += p.byte;
    } else if (c == '[') {
      p.kind = Piece::Set;
      g.literal_ = false;
      std::size_t j = i + 1;
      if (j < text.size() && (text[j] == '!' || text[j] == '^')) {
        p.negated = true;
        ++j;
      }
      bool first = true;
      bool closed = false;
      for (; j < text.size(); ++j) {
        unsigned char lo = static_cast<unsigned char>(text[j]);
        if (lo == ']' && !first) {
          closed = true;
          break;
        }
        first = false;
        if (lo == '\\' && j + 1 < text.size()) lo = static_cast<unsigned char>(text[++j]);
        if (j + 2 < text.size() && text[j + 1] == '-' && text[j + 2] != ']') {
          unsigned char hi = static_cast<unsigned char>(text[j + 2]);
          j += 2;
          if (hi == '\\' && j + 1 < text.size()) hi = static_cast<unsigned char>(text[++j]);
          if (hi < lo) {
            error = "bad range in '[...]' (its end comes before its start)";
            return std::nullopt;
          }
          for (unsigned v = lo; v <= hi; ++v)
            addToSet(p.set, static_cast<unsigned char>(v));
        } else {
          addToSet(p.set, lo);
        }
      }
      if (!closed) {
        error = "'[' without a closing ']'";
        return std::nullopt;
      }
      i = j;
    } else {
      p.byte = c;
      g.literalText_ += c;
    }
    g.pieces_.push_back(p);
  }
  if (!g.literal_) g.literalText_.clear();
  return g;
}

bool Glob::pieceMatches(const Piece& p, char c) const {
  switch (p.kind) {
    case Piece::Byte:
      return p.byte == c;
    case Piece::AnyByte:
      return true;
    case Piece::Set:
      return inSet(p.set, static_cast<unsigned char>(c)) != p.negated;
    case Piece::Star:
      break;
  }
  return false;
}

bool Glob::matches(std::string_view s) const {
  if (literal_) return s == literalText_;
  const std::size_t n = pieces_.size();
  std::size_t p = 0;
  std::size_t i = 0;
  std::size_t starPiece = n;  // none yet
  std::size_t starText = 0;
  while (i < s.size()) {
    if (p < n && pieces_[p].kind == Piece::Star) {
      starPiece = p++;
      starText = i;
      continue;
    }
    if (p < n && pieceMatches(pieces_[p], s[i])) {
      ++p;
      ++i;
      continue;
    }
    if (starPiece == n) return false;
    // Let the last star take one more byte and try again from there.
    p = starPiece + 1;
    i = ++starText;
  }
  while (p < n && pieces_[p].kind == Piece::Star)
    ++p;
  return p == n;
}

// ---- NamePattern ----------------------------------------------------------------------------

std::optional<NamePattern> NamePattern::parse(std::string_view text, std::string& error) {
  // Split at '.' outside double quotes.
  std::vector<std::string_view> parts;
  bool quoted = false;
  std::size_t start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '"') quoted = !quoted;
    if (text[i] == '.' && !quoted) {
      parts.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  parts.push_back(text.substr(start));
  if (quoted) {
    error = "unterminated quoted name";
    return std::nullopt;
  }
  if (parts.size() > 2) {
    error = "must be name or schema.name";
    return std::nullopt;
  }
  NamePattern p;
  p.text_ = std::string(text);
  std::vector<Glob> globs;
  for (const std::string_view part : parts) {
    const auto globText = identifierGlobText(part, error);
    if (!globText) return std::nullopt;
    auto g = Glob::parse(*globText, error);
    if (!g) return std::nullopt;
    globs.push_back(std::move(*g));
  }
  if (globs.size() == 2) p.schema_ = std::move(globs[0]);
  p.name_ = std::move(globs.back());
  return p;
}

bool NamePattern::matches(std::string_view schema, std::string_view name) const {
  if (!name_->matches(name)) return false;
  if (!schema_) return true;
  return schema_->matches(schema.empty() ? std::string_view("public") : schema);
}

// ---- addresses ------------------------------------------------------------------------------

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  const std::string s(text);
  IpAddress a;
  if (::inet_pton(AF_INET, s.c_str(), a.bytes.data()) == 1) return a;
  std::array<std::uint8_t, 16> v6{};
  if (::inet_pton(AF_INET6, s.c_str(), v6.data()) != 1) return std::nullopt;
  static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(v6.data(), kMapped, sizeof kMapped) == 0) {
    std::memcpy(a.bytes.data(), v6.data() + 12, 4);  // ::ffff:192.0.2.7 is 192.0.2.7
    return a;
  }
  a.v6 = true;
  a.bytes = v6;
  return a;
}

std::optional<Cidr> Cidr::parse(std::string_view text, std::string& error) {
  const std::size_t slash = text.find('/');
  const std::string_view addressText = text.substr(0, slash);
  const auto address = IpAddress::parse(addressText);
  if (!address) {
    error = "not an IPv4 or IPv6 address";
    return std::nullopt;
  }
  const unsigned maxPrefix = address->v6 ? 128 : 32;
  unsigned prefix = maxPrefix;
  if (slash != std::string_view::npos) {
    const std::string_view digits = text.substr(slash + 1);
    const char* end = digits.data() + digits.size();
    const auto [ptr, ec] = std::from_chars(digits.data(), end, prefix);
    if (digits.empty() || ec != std::errc{} || ptr != end || prefix > maxPrefix) {
      error = "the prefix length after '/' must be 0.." + std::to_string(maxPrefix);
      return std::nullopt;
    }
  }
  Cidr c;
  c.text_ = std::string(text);
  c.network_ = *address;
  c.prefix_ = prefix;
  // Host bits are ignored (as pg_hba.conf does): 10.1.2.3/8 is 10.0.0.0/8.
  for (unsigned bit = prefix; bit < maxPrefix; ++bit)
    c.network_.bytes[bit / 8] &= static_cast<std::uint8_t>(~(0x80u >> (bit % 8)));
  return c;
}

bool Cidr::contains(const IpAddress& a) const {
  if (a.v6 != network_.v6) return false;
  const unsigned whole = prefix_ / 8;
  if (std::memcmp(a.bytes.data(), network_.bytes.data(), whole) != 0) return false;
  const unsigned rest = prefix_ % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xffu << (8 - rest));
  return (a.bytes[whole] & mask) == network_.bytes[whole];
}

}  // namespace pgsplit::config
