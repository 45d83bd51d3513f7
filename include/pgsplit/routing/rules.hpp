#pragma once
// [[rules]] and the database -> [[clusters]] map, compiled once per configuration generation
// (session::ConfigStore keeps one RuleSet beside each Config) and then only read, from any
// worker, without a lock. Pure: no sockets, no threads, no clock.
//
// Evaluation is split by what it depends on, so that each part runs as rarely as it can:
//   - the client (user, database, application_name, address): once per session and
//     generation -> a RuleMask of the rules whose client conditions hold (sessionMask);
//   - each statement text of a unit of work (statement kind, tables, functions, query_regex),
//     cheapest test first and the regex last -> the rules it satisfies, OR-ed into the unit's
//     mask (matchText);
//   - the unit: in_transaction, then the first rule left in file order decides (decide).
// A statement that matches no rule costs a few AND operations on 256-bit masks.
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "pgsplit/config/config.hpp"
#include "pgsplit/config/patterns.hpp"
#include "pgsplit/routing/router.hpp"
#include "pgsplit/sql/analysis.hpp"

namespace re2 {
class FilteredRE2;
}

namespace pgsplit::routing {

// At most this many [[rules]] (config validation says so).
inline constexpr std::size_t kMaxRules = 256;

// One bit per rule, by position in the file.
class RuleMask {
 public:
  void set(std::size_t i) { words_[i / 64] |= std::uint64_t{1} << (i % 64); }
  void reset(std::size_t i) { words_[i / 64] &= ~(std::uint64_t{1} << (i % 64)); }
  bool test(std::size_t i) const { return ((words_[i / 64] >> (i % 64)) & 1U) != 0; }
  bool any() const {
    std::uint64_t all = 0;
    for (const std::uint64_t w : words_)
      all |= w;
    return all != 0;
  }
  // The first rule set, or -1.
  int first() const {
    for (std::size_t i = 0; i < kWords; ++i)
      if (words_[i] != 0) return static_cast<int>(i * 64 + std::countr_zero(words_[i]));
    return -1;
  }
  RuleMask& operator&=(const RuleMask& o) {
    for (std::size_t i = 0; i < kWords; ++i)
      words_[i] &= o.words_[i];
    return *this;
  }
  RuleMask& operator|=(const RuleMask& o) {
    for (std::size_t i = 0; i < kWords; ++i)
      words_[i] |= o.words_[i];
    return *this;
  }
  // Clears the bits set in o.
  RuleMask& remove(const RuleMask& o) {
    for (std::size_t i = 0; i < kWords; ++i)
      words_[i] &= ~o.words_[i];
    return *this;
  }
  friend RuleMask operator&(RuleMask a, const RuleMask& b) { return a &= b; }
  friend RuleMask operator|(RuleMask a, const RuleMask& b) { return a |= b; }
  bool operator==(const RuleMask&) const = default;

  // Calls f(i) for each bit set, in order.
  template <class F>
  void forEach(F&& f) const {
    for (std::size_t i = 0; i < kWords; ++i) {
      for (std::uint64_t w = words_[i]; w != 0; w &= w - 1)
        f(i * 64 + static_cast<std::size_t>(std::countr_zero(w)));
    }
  }

 private:
  static constexpr std::size_t kWords = kMaxRules / 64;
  std::array<std::uint64_t, kWords> words_{};
};

// Who the client is, as the rules see it: what it sent at login.
struct ClientFacts {
  std::string_view user;
  std::string_view database;
  std::string_view applicationName;
  std::optional<config::IpAddress> address;  // nullopt: unknown (no rule with client_addr holds)
};

// One compiled rule.
struct Rule {
  std::string name;
  std::size_t slot = 0;  // statistics slot (config::RuleConfig::slot)
  std::uint32_t line = 0;
  // Matchers.
  config::RuleStatement statement = config::RuleStatement::Any;
  std::vector<config::NamePattern> tables;
  std::vector<config::NamePattern> functions;
  bool hasRegex = false;  // (the regexes of all rules are compiled together: RuleSet)
  std::vector<config::Glob> users;
  std::vector<config::Glob> databases;
  std::vector<config::Glob> applicationNames;
  std::vector<config::Cidr> clientAddrs;
  std::optional<bool> inTransaction;
  // Actions.
  Force force = Force::None;
  int cluster = -1;  // -1: the session's own
  bool blocks = false;
  std::string blockMessage;
  std::uint64_t maxReplicaLagMs = 0;  // 0: [consistency] max_replica_lag_ms
  // For SHOW RULES, logs and --explain: the conditions and the action as in the file.
  std::string conditions;
  std::string action;
};

struct TransparentHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

class RuleSet {
 public:
  // From a validated configuration.
  static std::shared_ptr<const RuleSet> compile(const config::Config& config);

  bool empty() const { return rules_.empty(); }
  std::size_t size() const { return rules_.size(); }
  const Rule& operator[](std::size_t i) const { return rules_[i]; }

  // The cluster a client's database and user map to (see config::Config::clusterFor); -1 none.
  int clusterFor(std::string_view database, std::string_view user) const;

  // The rules whose client conditions hold (user, database, application_name, client_addr).
  RuleMask sessionMask(const ClientFacts& client) const;
  // A unit's mask before any statement text: the session's rules without statement conditions.
  RuleMask unitStart(const RuleMask& session) const { return session & statementFree_; }
  // ORs into `unit` the rules of `session` whose statement conditions (statement, tables,
  // functions, query_regex) hold for one statement text.
  void matchText(const RuleMask& session, const sql::Classification& c,
                 const sql::Analysis& analysis, std::string_view text, RuleMask& unit) const;
  // The rule that decides a unit: the first of `unit` whose in_transaction holds; -1 if none.
  int decide(const RuleMask& unit, bool inTransaction) const;

 private:
  using MaskMap = std::unordered_map<std::string, RuleMask, TransparentHash, std::equal_to<>>;
  struct PatternRules {
    config::NamePattern pattern;
    RuleMask rules;
  };
  struct GlobRules {
    config::Glob glob;
    RuleMask rules;
  };
  // First bytes of the keys of a map: most names are ruled out without hashing them.
  struct ByteSet {
    std::array<std::uint64_t, 4> bits{};
    void add(std::string_view s) {
      const auto c = static_cast<unsigned char>(s.empty() ? 0 : s[0]);
      bits[c >> 6] |= std::uint64_t{1} << (c & 63);
    }
    bool mayHave(std::string_view s) const {
      const auto c = static_cast<unsigned char>(s.empty() ? 0 : s[0]);
      return ((bits[c >> 6] >> (c & 63)) & 1U) != 0;
    }
  };
  // Patterns by shape, so that most are found by hashing instead of matching each one.
  struct NameIndex {
    MaskMap bare;                                // "name": any schema
    MaskMap qualified;                           // objectKey(schema, name)
    MaskMap anyName;                             // "schema.*"
    ByteSet bareNames, qualifiedNames, schemas;  // first bytes: of names, of names, of schemas
    std::unordered_map<std::string, std::vector<GlobRules>, TransparentHash, std::equal_to<>>
        bySchema;                     // "schema.<glob>"
    std::vector<PatternRules> globs;  // the rest
    void add(const config::NamePattern& p, std::size_t rule);
    RuleMask lookup(const std::vector<std::string>& keys) const;
  };
  // query_regex of every rule in one FilteredRE2: literal atoms each regex requires are looked
  // for in the text first, so a text without them runs no regex at all.
  struct RegexFilter;
  friend struct RegexFilter;
  bool regexHolds(std::string_view text, const RuleMask& candidates, RuleMask& pass) const;
  struct ClusterMap {
    std::vector<config::Glob> databases;
    std::vector<config::Glob> users;
    int index = 0;
  };

  std::vector<Rule> rules_;
  std::vector<ClusterMap> clusters_;
  RuleMask statementFree_;                 // no statement condition at all
  RuleMask textRules_;                     // some statement condition
  std::array<RuleMask, 32> kindAccept_{};  // by Classification::kinds: `statement` holds
  RuleMask tableRules_;
  RuleMask functionRules_;
  RuleMask regexRules_;
  std::shared_ptr<const RegexFilter> regexes_;
  NameIndex tables_;
  NameIndex functions_;
  RuleMask notInTransaction_;  // in_transaction unset or false
  RuleMask inTransaction_;     // in_transaction unset or true
};

}  // namespace pgsplit::routing
