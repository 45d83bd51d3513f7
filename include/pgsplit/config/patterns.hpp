#pragma once
// The patterns of [[clusters]] and [[rules]]: globs, schema-qualified name globs and CIDR
// blocks. Pure: parsed once when the file is loaded (parse errors are configuration errors),
// matched on the routing path without allocating.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgsplit::config {

// A shell-style glob, case-sensitive: `*` any run of bytes, `?` any one byte, `[abc]`, `[a-z]`,
// `[!abc]` one byte of (or not of) a set, `\x` the byte x itself. Matching is linear in
// practice (one backtrack point: the last `*`).
class Glob {
 public:
  // nullopt with `error` set when the text is not a glob (empty, an unclosed '[', a trailing
  // '\').
  static std::optional<Glob> parse(std::string_view text, std::string& error);

  bool matches(std::string_view s) const;
  // No wildcard: matches exactly one string, literalText().
  bool literal() const { return literal_; }
  const std::string& literalText() const { return literalText_; }
  const std::string& text() const { return text_; }

 private:
  struct Piece {
    enum Kind : std::uint8_t { Byte, AnyByte, Star, Set } kind = Byte;
    char byte = 0;
    bool negated = false;
    std::array<std::uint64_t, 4> set{};  // Set: bit per byte value
  };
  bool pieceMatches(const Piece& p, char c) const;

  std::string text_;
  std::vector<Piece> pieces_;
  bool literal_ = true;
  std::string literalText_;
};

// A table or function pattern: "name" (any schema) or "schema.name", each part a Glob. Parts
// are read as SQL identifiers: unquoted text is folded to lower case, "Quoted" text is taken
// as written (without wildcards).
class NamePattern {
 public:
  static std::optional<NamePattern> parse(std::string_view text, std::string& error);

  // schema is empty when the statement did not qualify the name: a pattern with a schema then
  // matches when that schema part matches "public" (the default search_path), as pgsplit does
  // not know the session's search_path.
  bool matches(std::string_view schema, std::string_view name) const;
  bool qualified() const { return schema_.has_value(); }
  const std::optional<Glob>& schema() const { return schema_; }
  const Glob& name() const { return *name_; }
  const std::string& text() const { return text_; }

 private:
  std::string text_;
  std::optional<Glob> schema_;
  std::optional<Glob> name_;
};

// An IPv4 or IPv6 address (IPv4 kept as such; an IPv4-mapped IPv6 address is read as IPv4).
struct IpAddress {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};  // IPv4: the first 4

  static std::optional<IpAddress> parse(std::string_view text);
};

// "10.0.0.0/8", "2001:db8::/32", or one address ("192.0.2.7" = /32, "::1" = /128).
class Cidr {
 public:
  static std::optional<Cidr> parse(std::string_view text, std::string& error);
  bool contains(const IpAddress& a) const;
  const std::string& text() const { return text_; }

 private:
  std::string text_;
  IpAddress network_;
  unsigned prefix_ = 0;
};

}  // namespace pgsplit::config
