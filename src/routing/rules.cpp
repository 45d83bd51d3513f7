#include "pgsplit/routing/rules.hpp"

#include <re2/filtered_re2.h>
#include <re2/re2.h>

#include <algorithm>
#include <cstring>

namespace pgsplit::routing {

namespace {

template <class T, class F>
std::vector<T> parseAll(const std::vector<std::string>& texts, F parse) {
  std::vector<T> out;
  for (const std::string& text : texts) {
    std::string error;
    if (auto p = parse(text, error)) out.push_back(std::move(*p));
  }
  return out;
}

bool anyGlob(const std::vector<config::Glob>& globs, std::string_view s) {
  return std::any_of(globs.begin(), globs.end(),
                     [&](const config::Glob& g) { return g.matches(s); });
}

// Whether `statement = ...` holds for a text whose statements are of these kinds.
bool statementHolds(config::RuleStatement statement, unsigned kinds) {
  using config::RuleStatement;
  switch (statement) {
    case RuleStatement::Any:
      return true;
    case RuleStatement::Read:
      return kinds != 0 && (kinds & ~static_cast<unsigned>(sql::kReadStatement)) == 0;
    case RuleStatement::Write:
      return (kinds & (sql::kWriteStatement | sql::kDdlStatement)) != 0;
    case RuleStatement::Ddl:
      return (kinds & sql::kDdlStatement) != 0;
    case RuleStatement::Transaction:
      return (kinds & sql::kTransactionStatement) != 0;
  }
  return false;
}

std::string listText(const std::vector<std::string>& items) {
  if (items.size() == 1) return "\"" + items.front() + "\"";
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i)
    out += (i == 0 ? "\"" : ", \"") + items[i] + "\"";
  return out + "]";
}

void addCondition(std::string& out, const char* key, const std::string& value) {
  if (!out.empty()) out += ", ";
  out += key;
  out += " = ";
  out += value;
}

std::string conditionsOf(const config::RuleConfig& r) {
  std::string out;
  if (r.hasStatement)
    addCondition(out, "statement", "\"" + std::string(toString(r.statement)) + "\"");
  if (!r.tables.empty()) addCondition(out, "tables", listText(r.tables));
  if (!r.functions.empty()) addCondition(out, "functions", listText(r.functions));
  if (!r.queryRegex.empty()) addCondition(out, "query_regex", "\"" + r.queryRegex + "\"");
  if (!r.users.empty()) addCondition(out, "user", listText(r.users));
  if (!r.databases.empty()) addCondition(out, "database", listText(r.databases));
  if (!r.applicationNames.empty())
    addCondition(out, "application_name", listText(r.applicationNames));
  if (!r.clientAddrs.empty()) addCondition(out, "client_addr", listText(r.clientAddrs));
  if (r.inTransaction) addCondition(out, "in_transaction", *r.inTransaction ? "true" : "false");
  return out.empty() ? "(every statement)" : out;
}

std::string actionOf(const config::RuleConfig& r) {
  std::string out;
  if (r.blocks) addCondition(out, "block", "\"" + r.blockMessage + "\"");
  if (r.route != config::RuleRoute::Default)
    addCondition(out, "route", "\"" + std::string(toString(r.route)) + "\"");
  if (!r.cluster.empty()) addCondition(out, "cluster", "\"" + r.cluster + "\"");
  if (r.hasMaxReplicaLag)
    addCondition(out, "max_replica_lag_ms", std::to_string(r.maxReplicaLagMs));
  return out;
}

// ASCII A-Z to a-z, eight bytes at a time (SWAR): the text of every statement a regex rule
// may apply to goes through here, so it must cost little more than a copy.
void lowerAscii(std::string_view text, std::string& out) {
  out.resize(text.size());
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
  std::size_t i = 0;
  for (; i + 8 <= text.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, text.data() + i, 8);
    const std::uint64_t low7 = w & ~kHigh;
    const std::uint64_t atLeastA = low7 + (0x80 - 'A') * kOnes;    // high bit: >= 'A'
    const std::uint64_t aboveZ = low7 + (0x80 - 'Z' - 1) * kOnes;  // high bit: > 'Z'
    const std::uint64_t upper = (atLeastA ^ aboveZ) & ~w & kHigh;  // 'A'..'Z' (ASCII only)
    w |= upper >> 2;                                               // +0x20
    std::memcpy(out.data() + i, &w, 8);
  }
  for (; i < text.size(); ++i) {
    const char c = text[i];
    out[i] = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  }
}

// Unqualified names are looked up as public.name too (see config::NamePattern::matches).
std::string_view schemaForLookup(std::string_view key) {
  const std::string_view schema = sql::keySchema(key);
  return schema.empty() ? std::string_view("public") : schema;
}

}  // namespace

struct RuleSet::RegexFilter {
  re2::FilteredRE2 filter{3};
  std::vector<std::string> atoms;   // lower case: looked for in the lowered text
  std::vector<std::size_t> ruleOf;  // filter regexp id -> rule
  std::vector<int> unfiltered;      // regexps with no atom: run on every text
};

void RuleSet::NameIndex::add(const config::NamePattern& p, std::size_t rule) {
  const bool schemaLiteral = p.qualified() && p.schema()->literal();
  if (p.name().literal() && (!p.qualified() || schemaLiteral)) {
    MaskMap& map = p.qualified() ? qualified : bare;
    const std::string key = p.qualified()
                                ? sql::objectKey(p.schema()->literalText(), p.name().literalText())
                                : p.name().literalText();
    map[key].set(rule);
    (p.qualified() ? qualifiedNames : bareNames).add(p.name().literalText());
    return;
  }
  if (schemaLiteral && p.name().text() == "*") {
    anyName[p.schema()->literalText()].set(rule);
    schemas.add(p.schema()->literalText());
    return;
  }
  if (schemaLiteral) {
    schemas.add(p.schema()->literalText());
    auto& list = bySchema[p.schema()->literalText()];
    for (GlobRules& g : list) {
      if (g.glob.text() == p.name().text()) {
        g.rules.set(rule);
        return;
      }
    }
    list.push_back({p.name(), {}});
    list.back().rules.set(rule);
    return;
  }
  for (PatternRules& g : globs) {
    if (g.pattern.text() == p.text()) {
      g.rules.set(rule);
      return;
    }
  }
  globs.push_back({p, {}});
  globs.back().rules.set(rule);
}

RuleMask RuleSet::NameIndex::lookup(const std::vector<std::string>& keys) const {
  RuleMask hit;
  for (const std::string& key : keys) {
    const std::string_view name = sql::keyName(key);
    const std::string_view schema = schemaForLookup(key);
    if (!bare.empty() && bareNames.mayHave(name)) {
      if (auto it = bare.find(name); it != bare.end()) hit |= it->second;
    }
    if (!qualified.empty() && qualifiedNames.mayHave(name)) {
      // objectKey(schema, name) without allocating: the key as written, or public.name.
      char buffer[160];
      std::string_view qualifiedKey = key;
      if (sql::keySchema(key).empty() && schema.size() + 1 + name.size() <= sizeof buffer) {
        std::copy(schema.begin(), schema.end(), buffer);
        buffer[schema.size()] = '\0';
        std::copy(name.begin(), name.end(), buffer + schema.size() + 1);
        qualifiedKey = std::string_view(buffer, schema.size() + 1 + name.size());
      }
      if (auto it = qualified.find(qualifiedKey); it != qualified.end()) hit |= it->second;
    }
    if (!anyName.empty() && schemas.mayHave(schema)) {
      if (auto it = anyName.find(schema); it != anyName.end()) hit |= it->second;
    }
    if (!bySchema.empty() && schemas.mayHave(schema)) {
      if (auto it = bySchema.find(schema); it != bySchema.end()) {
        for (const GlobRules& g : it->second)
          if (g.glob.matches(name)) hit |= g.rules;
      }
    }
    for (const PatternRules& g : globs)
      if (g.pattern.matches(sql::keySchema(key), name)) hit |= g.rules;
  }
  return hit;
}

bool RuleSet::regexHolds(std::string_view text, const RuleMask& candidates, RuleMask& pass) const {
  // The atoms are lower case: look for them in a lowered copy of the text (one per thread).
  thread_local std::string lowered;
  thread_local std::vector<int> found;
  thread_local std::vector<int> potential;
  const RegexFilter& f = *regexes_;
  found.clear();
  if (!f.atoms.empty()) {
    lowerAscii(text, lowered);
    for (std::size_t a = 0; a < f.atoms.size(); ++a)
      if (lowered.find(f.atoms[a]) != std::string::npos) found.push_back(static_cast<int>(a));
  }
  // (Without an atom, only the regexps that have none may match: known since compile.)
  if (!found.empty()) f.filter.AllPotentials(found, &potential);
  for (const int id : found.empty() ? f.unfiltered : potential) {
    const std::size_t rule = f.ruleOf[static_cast<std::size_t>(id)];
    if (!candidates.test(rule) || pass.test(rule)) continue;
    if (RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), f.filter.GetRE2(id)))
      pass.set(rule);
  }
  return pass.any();
}

std::shared_ptr<const RuleSet> RuleSet::compile(const config::Config& config) {
  auto set = std::make_shared<RuleSet>();
  const std::size_t clusters =
      config.clusterOrder.empty() ? config.clusters.size() : config.clusterOrder.size();
  for (std::size_t k = 0; k < clusters; ++k) {
    // In file order (slots may differ after reloads).
    const std::size_t i = config.clusterOrder.empty() ? k : config.clusterOrder[k];
    if (i >= config.clusters.size()) continue;
    const config::ClusterConfig& c = config.clusters[i];
    if (c.retired) continue;
    ClusterMap m;
    m.databases = parseAll<config::Glob>(c.databases, config::Glob::parse);
    m.users = parseAll<config::Glob>(c.users, config::Glob::parse);
    m.index = static_cast<int>(i);
    set->clusters_.push_back(std::move(m));
  }
  if (config.clusters.empty()) {  // (a Config built in code: one cluster serves everything)
    std::string error;
    set->clusters_.push_back({{*config::Glob::parse("*", error)}, {}, 0});
  }

  std::shared_ptr<RegexFilter> regexes;
  const std::size_t count = std::min(config.rules.size(), kMaxRules);
  for (std::size_t i = 0; i < count; ++i) {
    const config::RuleConfig& rc = config.rules[i];
    Rule r;
    r.name = rc.name;
    r.slot = rc.slot;
    r.line = rc.line;
    r.statement = rc.hasStatement ? rc.statement : config::RuleStatement::Any;
    r.tables = parseAll<config::NamePattern>(rc.tables, config::NamePattern::parse);
    r.functions = parseAll<config::NamePattern>(rc.functions, config::NamePattern::parse);
    r.hasRegex = !rc.queryRegex.empty();
    r.users = parseAll<config::Glob>(rc.users, config::Glob::parse);
    r.databases = parseAll<config::Glob>(rc.databases, config::Glob::parse);
    r.applicationNames = parseAll<config::Glob>(rc.applicationNames, config::Glob::parse);
    r.clientAddrs = parseAll<config::Cidr>(rc.clientAddrs, config::Cidr::parse);
    r.inTransaction = rc.inTransaction;
    r.force = rc.route == config::RuleRoute::Primary   ? Force::Primary
              : rc.route == config::RuleRoute::Replica ? Force::Replica
                                                       : Force::None;
    r.cluster = rc.cluster.empty() ? -1 : static_cast<int>(rc.clusterIndex);
    r.blocks = rc.blocks;
    r.blockMessage = rc.blockMessage;
    r.maxReplicaLagMs = rc.hasMaxReplicaLag ? rc.maxReplicaLagMs : 0;
    r.conditions = conditionsOf(rc);
    r.action = actionOf(rc);

    const bool byStatement = r.statement != config::RuleStatement::Any;
    const bool byText =
        byStatement || !rc.tables.empty() || !rc.functions.empty() || !rc.queryRegex.empty();
    (byText ? set->textRules_ : set->statementFree_).set(i);
    for (unsigned kinds = 0; kinds < set->kindAccept_.size(); ++kinds)
      if (statementHolds(r.statement, kinds)) set->kindAccept_[kinds].set(i);
    if (!rc.tables.empty()) set->tableRules_.set(i);
    for (const config::NamePattern& p : r.tables)
      set->tables_.add(p, i);
    if (!rc.functions.empty()) set->functionRules_.set(i);
    for (const config::NamePattern& p : r.functions)
      set->functions_.add(p, i);
    if (!rc.queryRegex.empty()) set->regexRules_.set(i);
    if (!rc.queryRegex.empty()) {
      if (!regexes) regexes = std::make_shared<RegexFilter>();
      RE2::Options options;
      options.set_log_errors(false);
      int id = -1;
      if (regexes->filter.Add(rc.queryRegex, options, &id) == RE2::NoError && id >= 0) {
        if (regexes->ruleOf.size() <= static_cast<std::size_t>(id))
          regexes->ruleOf.resize(static_cast<std::size_t>(id) + 1);
        regexes->ruleOf[static_cast<std::size_t>(id)] = i;
      }  // (validated when loaded: a regex that does not compile never matches)
    }
    if (!r.inTransaction || !*r.inTransaction) set->notInTransaction_.set(i);
    if (!r.inTransaction || *r.inTransaction) set->inTransaction_.set(i);
    set->rules_.push_back(std::move(r));
  }
  if (regexes && regexes->filter.NumRegexps() > 0) {
    regexes->filter.Compile(&regexes->atoms);
    regexes->filter.AllPotentials({}, &regexes->unfiltered);
    set->regexes_ = std::move(regexes);
  }
  return set;
}

int RuleSet::clusterFor(std::string_view database, std::string_view user) const {
  for (const ClusterMap& c : clusters_) {
    if (!anyGlob(c.databases, database)) continue;
    if (!c.users.empty() && !anyGlob(c.users, user)) continue;
    return c.index;
  }
  return -1;
}

RuleMask RuleSet::sessionMask(const ClientFacts& client) const {
  RuleMask mask;
  for (std::size_t i = 0; i < rules_.size(); ++i) {
    const Rule& r = rules_[i];
    if (!r.users.empty() && !anyGlob(r.users, client.user)) continue;
    if (!r.databases.empty() && !anyGlob(r.databases, client.database)) continue;
    if (!r.applicationNames.empty() && !anyGlob(r.applicationNames, client.applicationName))
      continue;
    if (!r.clientAddrs.empty()) {
      if (!client.address) continue;
      const bool inside =
          std::any_of(r.clientAddrs.begin(), r.clientAddrs.end(),
                      [&](const config::Cidr& c) { return c.contains(*client.address); });
      if (!inside) continue;
    }
    mask.set(i);
  }
  return mask;
}

void RuleSet::matchText(const RuleMask& session, const sql::Classification& c,
                        const sql::Analysis& analysis, std::string_view text,
                        RuleMask& unit) const {
  // Cheapest first: the statement kind, then the names the text uses, the regex last.
  RuleMask m = session & textRules_;
  m &= kindAccept_[c.kinds & 31U];
  if (!m.any()) return;
  if ((m & tableRules_).any()) {
    RuleMask miss = tableRules_;
    miss.remove(tables_.lookup(analysis.tables));
    m.remove(miss);
  }
  if ((m & functionRules_).any()) {
    RuleMask miss = functionRules_;
    miss.remove(functions_.lookup(analysis.calls));
    m.remove(miss);
  }
  const RuleMask withRegex = m & regexRules_;
  if (withRegex.any()) {
    RuleMask pass;
    if (regexes_) regexHolds(text, withRegex, pass);
    m.remove(withRegex);
    m |= pass;
  }
  unit |= m;
}

int RuleSet::decide(const RuleMask& unit, bool inTransaction) const {
  return (unit & (inTransaction ? inTransaction_ : notInTransaction_)).first();
}

}  // namespace pgsplit::routing
