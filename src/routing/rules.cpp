#include "pgsplit/routing/rules.hpp"

#include <re2/re2.h>

#include <algorithm>

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

// Unqualified names are looked up as public.name too (see config::NamePattern::matches).
std::string_view schemaForLookup(std::string_view key) {
  const std::string_view schema = sql::keySchema(key);
  return schema.empty() ? std::string_view("public") : schema;
}

}  // namespace

void RuleSet::NameIndex::add(const config::NamePattern& p, std::size_t rule) {
  const bool literal = p.name().literal() && (!p.qualified() || p.schema()->literal());
  if (literal) {
    MaskMap& map = p.qualified() ? qualified : bare;
    const std::string key = p.qualified()
                                ? sql::objectKey(p.schema()->literalText(), p.name().literalText())
                                : p.name().literalText();
    map[key].set(rule);
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
  std::string qualifiedKey;
  for (const std::string& key : keys) {
    const std::string_view name = sql::keyName(key);
    if (!bare.empty()) {
      if (auto it = bare.find(name); it != bare.end()) hit |= it->second;
    }
    if (!qualified.empty()) {
      const std::string_view schema = schemaForLookup(key);
      qualifiedKey.assign(schema);
      qualifiedKey += '\0';
      qualifiedKey.append(name);
      if (auto it = qualified.find(std::string_view(qualifiedKey)); it != qualified.end())
        hit |= it->second;
    }
    for (const PatternRules& g : globs)
      if (g.pattern.matches(sql::keySchema(key), name)) hit |= g.rules;
  }
  return hit;
}

std::shared_ptr<const RuleSet> RuleSet::compile(const config::Config& config) {
  auto set = std::make_shared<RuleSet>();
  for (std::size_t i = 0; i < config.clusters.size(); ++i) {
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
    if (!rc.queryRegex.empty()) {
      RE2::Options options;
      options.set_log_errors(false);
      r.regex = std::make_shared<const RE2>(rc.queryRegex, options);
    }
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
    if (!r.inTransaction || !*r.inTransaction) set->notInTransaction_.set(i);
    if (!r.inTransaction || *r.inTransaction) set->inTransaction_.set(i);
    set->rules_.push_back(std::move(r));
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
    withRegex.forEach([&](std::size_t i) {
      const RE2* re = rules_[i].regex.get();
      if (re == nullptr || !re->ok() ||
          !RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), *re))
        m.reset(i);
    });
  }
  unit |= m;
}

int RuleSet::decide(const RuleMask& unit, bool inTransaction) const {
  return (unit & (inTransaction ? inTransaction_ : notInTransaction_)).first();
}

}  // namespace pgsplit::routing
