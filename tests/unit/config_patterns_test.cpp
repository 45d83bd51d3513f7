// The patterns of [[clusters]] and [[rules]]: globs, name patterns, CIDR blocks.
#include <gtest/gtest.h>

#include "pgsplit/config/patterns.hpp"
#include "pgsplit/sql/analysis.hpp"

namespace pgsplit::config {
namespace {

bool globMatches(std::string_view pattern, std::string_view s) {
  std::string error;
  const auto g = Glob::parse(pattern, error);
  EXPECT_TRUE(g.has_value()) << pattern << ": " << error;
  return g && g->matches(s);
}

TEST(Glob, Matches) {
  struct Case {
    const char* pattern;
    const char* text;
    bool matches;
  } cases[] = {
      {"app", "app", true},
      {"app", "apps", false},
      {"app", "App", false},  // case-sensitive, as database and user names are
      {"*", "", true},
      {"*", "anything", true},
      {"billing_*", "billing_eu", true},
      {"billing_*", "billing_", true},
      {"billing_*", "billing", false},
      {"*_archive", "orders_archive", true},
      {"*_archive", "orders_archive2", false},
      {"a*b*c", "aXXbYYc", true},
      {"a*b*c", "aXXbYY", false},
      {"a*b*c", "abcbc", true},
      {"report?", "reports", true},
      {"report?", "report", false},
      {"db[0-9]", "db7", true},
      {"db[0-9]", "dbx", false},
      {"db[!0-9]", "dbx", true},
      {"db[!0-9]", "db7", false},
      {"[]x]", "]", true},
      {"a\\*", "a*", true},
      {"a\\*", "ab", false},
      {"**x", "yyx", true},
      {"reporting*", "reporting-daily", true},
      {"reporting*", "my-reporting", false},
  };
  for (const Case& c : cases)
    EXPECT_EQ(globMatches(c.pattern, c.text), c.matches) << c.pattern << " ~ " << c.text;
}

TEST(Glob, LiteralIsKnown) {
  std::string error;
  EXPECT_TRUE(Glob::parse("app", error)->literal());
  EXPECT_EQ(Glob::parse("a\\*b", error)->literalText(), "a*b");
  EXPECT_FALSE(Glob::parse("app*", error)->literal());
  EXPECT_FALSE(Glob::parse("a[bc]", error)->literal());
}

TEST(Glob, RejectsWhatIsNotAGlob) {
  for (const char* bad : {"", "abc[", "[abc", "abc\\", "[z-a]"}) {
    std::string error;
    EXPECT_FALSE(Glob::parse(bad, error).has_value()) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
}

bool nameMatches(std::string_view pattern, std::string_view schema, std::string_view name) {
  std::string error;
  const auto p = NamePattern::parse(pattern, error);
  EXPECT_TRUE(p.has_value()) << pattern << ": " << error;
  return p && p->matches(schema, name);
}

TEST(NamePattern, SchemaQualifiedOrBare) {
  // Bare: any schema.
  EXPECT_TRUE(nameMatches("accounts", "", "accounts"));
  EXPECT_TRUE(nameMatches("accounts", "billing", "accounts"));
  // Qualified: that schema; an unqualified name counts as public (the default search_path).
  EXPECT_TRUE(nameMatches("public.accounts", "public", "accounts"));
  EXPECT_TRUE(nameMatches("public.accounts", "", "accounts"));
  EXPECT_FALSE(nameMatches("public.accounts", "billing", "accounts"));
  EXPECT_TRUE(nameMatches("billing.*", "billing", "invoices"));
  EXPECT_FALSE(nameMatches("billing.*", "", "invoices"));
  EXPECT_TRUE(nameMatches("*.audit_log", "ops", "audit_log"));
  EXPECT_TRUE(nameMatches("tmp_*", "x", "tmp_1"));
}

TEST(NamePattern, IdentifiersFoldLikeSql) {
  // Unquoted: folded to lower case (as PostgreSQL folds the names in statements).
  EXPECT_TRUE(nameMatches("Public.Accounts", "public", "accounts"));
  // Quoted: exact, and wildcards are plain characters.
  EXPECT_TRUE(nameMatches("\"Billing\".\"Invoices\"", "Billing", "Invoices"));
  EXPECT_FALSE(nameMatches("\"Billing\".\"Invoices\"", "billing", "invoices"));
  EXPECT_TRUE(nameMatches("\"a*b\"", "", "a*b"));
  EXPECT_FALSE(nameMatches("\"a*b\"", "", "axb"));
  EXPECT_TRUE(nameMatches("\"has.dot\".t", "has.dot", "t"));
}

TEST(NamePattern, RejectsBadShapes) {
  for (const char* bad : {"", "a.b.c", ".t", "s.", "\"unterminated", "a\"b", "s.[x"}) {
    std::string error;
    EXPECT_FALSE(NamePattern::parse(bad, error).has_value()) << bad;
  }
}

bool inside(std::string_view cidr, std::string_view address) {
  std::string error;
  const auto c = Cidr::parse(cidr, error);
  EXPECT_TRUE(c.has_value()) << cidr << ": " << error;
  const auto a = IpAddress::parse(address);
  EXPECT_TRUE(a.has_value()) << address;
  return c && a && c->contains(*a);
}

TEST(Cidr, V4AndV6) {
  EXPECT_TRUE(inside("10.0.0.0/8", "10.1.2.3"));
  EXPECT_FALSE(inside("10.0.0.0/8", "11.1.2.3"));
  EXPECT_TRUE(inside("192.168.1.0/24", "192.168.1.255"));
  EXPECT_FALSE(inside("192.168.1.0/24", "192.168.2.1"));
  EXPECT_TRUE(inside("192.168.1.7", "192.168.1.7"));  // one address = /32
  EXPECT_FALSE(inside("192.168.1.7", "192.168.1.8"));
  EXPECT_TRUE(inside("0.0.0.0/0", "203.0.113.9"));
  EXPECT_TRUE(inside("10.1.2.3/8", "10.200.0.1"));  // host bits ignored, as pg_hba.conf does
  EXPECT_TRUE(inside("172.16.0.0/12", "172.31.255.255"));
  EXPECT_FALSE(inside("172.16.0.0/12", "172.32.0.0"));
  EXPECT_TRUE(inside("2001:db8::/32", "2001:db8:1::5"));
  EXPECT_FALSE(inside("2001:db8::/32", "2001:db9::5"));
  EXPECT_TRUE(inside("::1", "::1"));
  EXPECT_TRUE(inside("fd00::/8", "fdab::1"));
  // Families never mix, except that an IPv4-mapped IPv6 address is the IPv4 address.
  EXPECT_FALSE(inside("::/0", "10.0.0.1"));
  EXPECT_FALSE(inside("0.0.0.0/0", "::1"));
  EXPECT_TRUE(inside("10.0.0.0/8", "::ffff:10.9.8.7"));
}

TEST(Cidr, RejectsBadBlocks) {
  for (const char* bad : {"", "10.0.0.0/33", "::/129", "10.0.0/8", "10.0.0.0/", "10.0.0.0/x",
                          "host.example", "10.0.0.0/8/8", "1.2.3.4 "}) {
    std::string error;
    EXPECT_FALSE(Cidr::parse(bad, error).has_value()) << bad;
  }
}

}  // namespace
}  // namespace pgsplit::config
