// [[clusters]], [[nodes]] cluster = "...", and [[rules]] (issue #9): read, then checked as a
// whole (unknown clusters, clusters nothing reaches, rules without an action, rules an earlier
// rule shadows). Messages name keys and rules, never values that could be secrets.
#include <re2/re2.h>

#include <algorithm>
#include <array>
#include <map>
#include <span>
#include <string_view>

#include "pgsplit/config/patterns.hpp"
#include "problem.hpp"

namespace pgsplit::config {

namespace detail {
namespace {

using namespace std::string_view_literals;

constexpr std::size_t kMaxClusters = 64;  // cluster slots (see config/reload.hpp)
constexpr std::size_t kMaxRules = 256;    // routing::kMaxRules
constexpr std::int64_t kMaxLagMs = 24LL * 60 * 60 * 1000;

constexpr std::array kClusterKeys{"name"sv, "databases"sv, "users"sv};
constexpr std::array kRuleKeys{"name"sv,        "statement"sv,
                               "tables"sv,      "functions"sv,
                               "query_regex"sv, "user"sv,
                               "database"sv,    "application_name"sv,
                               "client_addr"sv, "in_transaction"sv,
                               "route"sv,       "cluster"sv,
                               "block"sv,       "max_replica_lag_ms"sv};

struct StatementChoice {
  std::string_view name;
  RuleStatement value;
};
constexpr std::array<StatementChoice, 5> kStatements{{
    {"read", RuleStatement::Read},
    {"write", RuleStatement::Write},
    {"ddl", RuleStatement::Ddl},
    {"transaction", RuleStatement::Transaction},
    {"any", RuleStatement::Any},
}};
struct RouteChoice {
  std::string_view name;
  RuleRoute value;
};
constexpr std::array<RouteChoice, 3> kRoutes{{
    {"primary", RuleRoute::Primary},
    {"replica", RuleRoute::Replica},
    {"any", RuleRoute::Any},
}};

std::string quoted(std::string_view s) {
  return "'" + std::string(s) + "'";
}

// Where a node of the document starts (1:1 as a fallback, never expected).
std::pair<std::uint32_t, std::uint32_t> positionOf(const toml::source_region& r) {
  return {r.begin.line > 0 ? r.begin.line : 1, r.begin.column > 0 ? r.begin.column : 1};
}

class RulesReader {
 public:
  RulesReader(Config& out, std::vector<Problem>& problems) : out_(out), problems_(problems) {}

  void run(const toml::table& root) {
    readClusters(root);
    readNodeClusters(root);
    readRules(root);
    checkClusters();
    checkReachability();
    out_.clusterOrder.clear();
    for (std::size_t i = 0; i < out_.clusters.size(); ++i)
      out_.clusterOrder.push_back(i);
    out_.ruleSlots.clear();
    for (std::size_t i = 0; i < out_.rules.size(); ++i) {
      out_.rules[i].slot = i;
      out_.ruleSlots.push_back(out_.rules[i].name);
    }
  }

 private:
  void report(const toml::source_region& where, std::string message) {
    const auto [line, column] = positionOf(where);
    problems_.push_back({line, column, std::move(message)});
  }

  void checkKeys(const toml::table& t, std::span<const std::string_view> known,
                 std::string_view where) {
    for (const auto& [key, value] : t) {
      if (std::find(known.begin(), known.end(), key.str()) == known.end())
        report(key.source(), "unknown key " + quoted(key.str()) + " in " + std::string(where));
    }
  }

  // A string or an array of strings (at least one); each is handed to `take`, which returns
  // an error message or "".
  template <class Take>
  bool readStrings(const toml::table& t, std::string_view key, Take take) {
    const toml::node* n = t.get(key);
    if (n == nullptr) return false;
    if (const auto* v = n->as_string()) {
      const std::string error = take(v->get());
      if (!error.empty()) report(n->source(), quoted(key) + ": " + error);
      return true;
    }
    const toml::array* a = n->as_array();
    if (a == nullptr) {
      report(n->source(), quoted(key) + " must be a string or an array of strings");
      return false;
    }
    if (a->empty()) {
      report(n->source(), quoted(key) + " must not be an empty array");
      return false;
    }
    for (const toml::node& e : *a) {
      const auto* v = e.as_string();
      if (v == nullptr) {
        report(e.source(), quoted(key) + " entries must be strings");
        continue;
      }
      const std::string error = take(v->get());
      if (!error.empty()) report(e.source(), quoted(key) + ": " + error);
    }
    return true;
  }

  static std::string takeGlob(std::vector<std::string>& out, const std::string& text) {
    std::string error;
    if (!Glob::parse(text, error)) return "bad pattern \"" + text + "\": " + error;
    out.push_back(text);
    return {};
  }

  static std::string takeName(std::vector<std::string>& out, const std::string& text) {
    std::string error;
    if (!NamePattern::parse(text, error)) return "bad name pattern \"" + text + "\": " + error;
    out.push_back(text);
    return {};
  }

  static std::string takeCidr(std::vector<std::string>& out, const std::string& text) {
    std::string error;
    if (!Cidr::parse(text, error)) return "bad address or CIDR block \"" + text + "\": " + error;
    out.push_back(text);
    return {};
  }

  // ---- [[clusters]] ----

  void readClusters(const toml::table& root) {
    const toml::node* n = root.get("clusters");
    if (n == nullptr) {
      ClusterConfig implicit;
      implicit.name = "default";
      implicit.databases = {"*"};
      implicit.implicit = true;
      out_.clusters.push_back(std::move(implicit));
      return;
    }
    const toml::array* a = n->as_array();
    if (a == nullptr || a->empty()) {
      report(n->source(),
             "'clusters' must be an array of tables ([[clusters]]) with one entry "
             "or more");
      return;
    }
    std::map<std::string, std::uint32_t, std::less<>> firstLine;
    for (const toml::node& e : *a) {
      const toml::table* t = e.as_table();
      if (t == nullptr) {
        report(e.source(), "each 'clusters' entry must be a table");
        continue;
      }
      checkKeys(*t, kClusterKeys, "[[clusters]]");
      ClusterConfig c;
      bool usable = true;  // (an unusable entry is reported once, not again for what follows)
      const toml::node* name = t->get("name");
      if (name == nullptr) {
        report(t->source(), "missing required key 'name' in [[clusters]]");
        usable = false;
      } else if (const auto* v = name->as_string(); v == nullptr || v->get().empty()) {
        report(name->source(), "'name' must be a non-empty string");
        usable = false;
      } else {
        c.name = v->get();
        const auto [it, inserted] = firstLine.emplace(c.name, name->source().begin.line);
        if (!inserted) {
          report(name->source(), "duplicate cluster name " + quoted(c.name) +
                                     " (first defined at line " + std::to_string(it->second) + ")");
          usable = false;
        }
      }
      const bool hasDatabases = readStrings(
          *t, "databases", [&](const std::string& s) { return takeGlob(c.databases, s); });
      readStrings(*t, "users", [&](const std::string& s) { return takeGlob(c.users, s); });
      if (!usable) continue;
      if (out_.clusters.size() == kMaxClusters) {
        report(t->source(), "at most " + std::to_string(kMaxClusters) + " [[clusters]] entries");
        return;
      }
      clusterPositions_.push_back(t->source());
      clusterHasDatabases_.push_back(hasDatabases);
      out_.clusters.push_back(std::move(c));
    }
  }

  // `cluster` of each [[nodes]] entry (the rest of the entry is read in config.cpp).
  void readNodeClusters(const toml::table& root) {
    const toml::array* a = root.get("nodes") ? root.get("nodes")->as_array() : nullptr;
    if (a == nullptr) return;
    const bool explicitClusters = !out_.clusters.empty() && !out_.clusters.front().implicit;
    std::size_t index = 0;  // config.cpp keeps the entries that are tables, in order
    for (const toml::node& e : *a) {
      const toml::table* t = e.as_table();
      if (t == nullptr) continue;
      NodeConfig* node = index < out_.nodes.size() ? &out_.nodes[index] : nullptr;
      ++index;
      const toml::node* c = t->get("cluster");
      if (c == nullptr) {
        if (explicitClusters)
          report(t->source(),
                 "[[nodes]] entries need 'cluster' (the name of a [[clusters]] "
                 "entry) when the file defines [[clusters]]");
        continue;
      }
      const auto* v = c->as_string();
      if (v == nullptr) {
        report(c->source(), "'cluster' must be a string");
        continue;
      }
      const int cluster = explicitClusters ? out_.findCluster(v->get()) : -1;
      if (cluster < 0) {
        report(c->source(), unknownCluster(v->get()));
        continue;
      }
      if (node != nullptr) node->cluster = static_cast<std::size_t>(cluster);
    }
  }

  std::string unknownCluster(std::string_view name) const {
    if (out_.clusters.empty() || out_.clusters.front().implicit)
      return "unknown cluster " + quoted(name) + ": the file defines no [[clusters]]";
    std::string names;
    for (const ClusterConfig& c : out_.clusters)
      names += (names.empty() ? "" : ", ") + c.name;
    return "unknown cluster " + quoted(name) + " (the [[clusters]] are: " + names + ")";
  }

  // ---- [[rules]] ----

  void readRules(const toml::table& root) {
    const toml::node* n = root.get("rules");
    if (n == nullptr) return;
    const toml::array* a = n->as_array();
    if (a == nullptr) {
      report(n->source(), "'rules' must be an array of tables ([[rules]])");
      return;
    }
    std::map<std::string, std::uint32_t, std::less<>> firstLine;
    for (const toml::node& e : *a) {
      const toml::table* t = e.as_table();
      if (t == nullptr) {
        report(e.source(), "each 'rules' entry must be a table");
        continue;
      }
      if (out_.rules.size() == kMaxRules) {
        report(t->source(), "at most " + std::to_string(kMaxRules) + " [[rules]] entries");
        return;
      }
      RuleConfig r;
      if (readRule(*t, r)) {
        const auto [it, inserted] = firstLine.emplace(r.name, r.line);
        if (!inserted) {
          report(t->get("name")->source(), "duplicate rule name " + quoted(r.name) +
                                               " (first defined at line " +
                                               std::to_string(it->second) + ")");
          continue;
        }
        rulePositions_.push_back(t->source());
        out_.rules.push_back(std::move(r));
      }
    }
  }

  // False when the rule cannot be used (problems reported).
  bool readRule(const toml::table& t, RuleConfig& r) {
    const std::size_t before = problems_.size();
    checkKeys(t, kRuleKeys, "[[rules]]");
    r.line = positionOf(t.source()).first;
    const toml::node* name = t.get("name");
    if (name == nullptr) {
      report(t.source(),
             "missing required key 'name' in [[rules]] (it names the rule in "
             "SHOW RULES, metrics and logs)");
    } else if (const auto* v = name->as_string(); v == nullptr || v->get().empty()) {
      report(name->source(), "'name' must be a non-empty string");
    } else {
      r.name = v->get();
    }
    const std::string who = r.name.empty() ? std::string("this rule") : "rule " + quoted(r.name);

    // Matchers.
    if (const toml::node* n = t.get("statement")) {
      const auto* v = n->as_string();
      const auto it =
          v == nullptr ? kStatements.end()
                       : std::find_if(kStatements.begin(), kStatements.end(),
                                      [&](const StatementChoice& c) { return c.name == v->get(); });
      if (it == kStatements.end()) {
        report(n->source(), "'statement' must be one of: read, write, ddl, transaction, any");
      } else {
        r.hasStatement = it->value != RuleStatement::Any;
        r.statement = it->value;
      }
    }
    readStrings(t, "tables", [&](const std::string& s) { return takeName(r.tables, s); });
    readStrings(t, "functions", [&](const std::string& s) { return takeName(r.functions, s); });
    if (const toml::node* n = t.get("query_regex")) {
      const auto* v = n->as_string();
      if (v == nullptr || v->get().empty()) {
        report(n->source(), "'query_regex' must be a non-empty string (RE2 syntax)");
      } else {
        RE2::Options options;
        options.set_log_errors(false);
        const RE2 re(v->get(), options);
        if (!re.ok()) {
          report(n->source(),
                 "'query_regex' is not a valid RE2 regular expression (RE2 runs in linear time: "
                 "no backreferences, no lookaround): " +
                     re.error());
        } else {
          r.queryRegex = v->get();
        }
      }
    }
    readStrings(t, "user", [&](const std::string& s) { return takeGlob(r.users, s); });
    readStrings(t, "database", [&](const std::string& s) { return takeGlob(r.databases, s); });
    readStrings(t, "application_name",
                [&](const std::string& s) { return takeGlob(r.applicationNames, s); });
    readStrings(t, "client_addr", [&](const std::string& s) { return takeCidr(r.clientAddrs, s); });
    if (const toml::node* n = t.get("in_transaction")) {
      if (const auto* v = n->as_boolean())
        r.inTransaction = v->get();
      else
        report(n->source(), "'in_transaction' must be true or false");
    }

    // Actions.
    const toml::node* route = t.get("route");
    if (route != nullptr) {
      const auto* v = route->as_string();
      const auto it = v == nullptr
                          ? kRoutes.end()
                          : std::find_if(kRoutes.begin(), kRoutes.end(),
                                         [&](const RouteChoice& c) { return c.name == v->get(); });
      if (it == kRoutes.end())
        report(route->source(), "'route' must be one of: primary, replica, any");
      else
        r.route = it->value;
    }
    const toml::node* cluster = t.get("cluster");
    if (cluster != nullptr) {
      const auto* v = cluster->as_string();
      if (v == nullptr) {
        report(cluster->source(), "'cluster' must be a string");
      } else if (const int index = out_.findCluster(v->get());
                 index < 0 || out_.clusters.front().implicit) {
        report(cluster->source(), unknownCluster(v->get()));
      } else {
        r.cluster = v->get();
        r.clusterIndex = static_cast<std::size_t>(index);
      }
    }
    const toml::node* block = t.get("block");
    if (block != nullptr) {
      const auto* v = block->as_string();
      if (v == nullptr || v->get().empty()) {
        report(block->source(), "'block' must be a non-empty string (the client's error message)");
      } else {
        r.blocks = true;
        r.blockMessage = v->get();
      }
    }
    const toml::node* lag = t.get("max_replica_lag_ms");
    if (lag != nullptr) {
      const auto* v = lag->as_integer();
      if (v == nullptr || v->get() < 1 || v->get() > kMaxLagMs) {
        report(lag->source(), "'max_replica_lag_ms' must be an integer between 1 and " +
                                  std::to_string(kMaxLagMs));
      } else {
        r.maxReplicaLagMs = static_cast<std::uint32_t>(v->get());
        r.hasMaxReplicaLag = true;
      }
    }
    if (block != nullptr && (route != nullptr || cluster != nullptr || lag != nullptr)) {
      report(block->source(), who +
                                  ": 'block' refuses the statement, so it cannot be combined "
                                  "with 'route', 'cluster' or 'max_replica_lag_ms'");
    }
    if (block == nullptr && route == nullptr && cluster == nullptr && lag == nullptr) {
      report(t.source(), who +
                             " has no action: give it 'route', 'cluster', 'block' or "
                             "'max_replica_lag_ms'");
    }
    if (r.route == RuleRoute::Replica &&
        (r.statement == RuleStatement::Write || r.statement == RuleStatement::Ddl)) {
      report(route->source(), who +
                                  " would send writes to a replica, which pgsplit never does "
                                  "(they stay on the primary): use route = \"primary\" or "
                                  "another statement kind");
    }
    return problems_.size() == before;
  }

  // ---- checks over the whole file ----

  void checkClusters() {
    if (out_.clusters.empty() || out_.clusters.front().implicit) return;
    for (std::size_t c = 0; c < out_.clusters.size() && c < clusterPositions_.size(); ++c) {
      const ClusterConfig& cluster = out_.clusters[c];
      const bool hasNode = std::any_of(out_.nodes.begin(), out_.nodes.end(),
                                       [&](const NodeConfig& n) { return n.cluster == c; });
      if (!hasNode)
        report(clusterPositions_[c], "cluster " + quoted(cluster.name) +
                                         " has no [[nodes]] (give nodes cluster = \"" +
                                         cluster.name + "\")");
      const bool targeted = std::any_of(
          out_.rules.begin(), out_.rules.end(),
          [&](const RuleConfig& r) { return !r.cluster.empty() && r.clusterIndex == c; });
      if (!clusterHasDatabases_[c] && !targeted)
        report(clusterPositions_[c], "cluster " + quoted(cluster.name) +
                                         " is never used: it has no 'databases' and no rule "
                                         "sends traffic to it");
    }
  }

  // Rule `a` matches everything rule `b` matches (so a `b` after `a` never decides).
  static bool covers(const RuleConfig& a, const RuleConfig& b) {
    auto listCovers = [](const std::vector<std::string>& general,
                         const std::vector<std::string>& specific, bool universalStar) {
      if (general.empty()) return true;  // no condition
      if (specific.empty()) return false;
      if (universalStar && std::find(general.begin(), general.end(), "*") != general.end())
        return true;
      return std::all_of(specific.begin(), specific.end(), [&](const std::string& s) {
        return std::find(general.begin(), general.end(), s) != general.end();
      });
    };
    if (a.hasStatement &&
        !(b.hasStatement && (a.statement == b.statement || (a.statement == RuleStatement::Write &&
                                                            b.statement == RuleStatement::Ddl))))
      return false;
    if (!a.queryRegex.empty() && a.queryRegex != b.queryRegex) return false;
    if (a.inTransaction && a.inTransaction != b.inTransaction) return false;
    return listCovers(a.tables, b.tables, true) && listCovers(a.functions, b.functions, true) &&
           listCovers(a.users, b.users, true) && listCovers(a.databases, b.databases, true) &&
           listCovers(a.applicationNames, b.applicationNames, true) &&
           listCovers(a.clientAddrs, b.clientAddrs, false);
  }

  void checkReachability() {
    for (std::size_t j = 1; j < out_.rules.size(); ++j) {
      for (std::size_t i = 0; i < j; ++i) {
        if (!covers(out_.rules[i], out_.rules[j])) continue;
        const bool catchAll = !out_.rules[i].hasStatement && out_.rules[i].tables.empty() &&
                              out_.rules[i].functions.empty() && out_.rules[i].queryRegex.empty() &&
                              out_.rules[i].users.empty() && out_.rules[i].databases.empty() &&
                              out_.rules[i].applicationNames.empty() &&
                              out_.rules[i].clientAddrs.empty() && !out_.rules[i].inTransaction;
        report(rulePositions_[j],
               "rule " + quoted(out_.rules[j].name) + " can never match: rule " +
                   quoted(out_.rules[i].name) + " (line " + std::to_string(out_.rules[i].line) +
                   ") comes first and " +
                   (catchAll ? "matches everything" : "matches everything this one matches"));
        break;
      }
    }
  }

  Config& out_;
  std::vector<Problem>& problems_;
  std::vector<toml::source_region> clusterPositions_;  // of out_.clusters (explicit ones)
  std::vector<bool> clusterHasDatabases_;              // ... and whether `databases` was given
  std::vector<toml::source_region> rulePositions_;     // of out_.rules
};

}  // namespace

void readClustersAndRules(const toml::table& root, Config& out, std::vector<Problem>& problems) {
  RulesReader(out, problems).run(root);
}

}  // namespace detail

int Config::findCluster(std::string_view name) const {
  for (std::size_t i = 0; i < clusters.size(); ++i)
    if (!clusters[i].retired && clusters[i].name == name) return static_cast<int>(i);
  return -1;
}

int Config::clusterFor(std::string_view database, std::string_view user) const {
  // (Parses the globs on each call: for logins and tools. Sessions use the compiled form,
  // routing::RuleSet::clusterFor.)
  auto anyMatches = [](const std::vector<std::string>& globs, std::string_view s) {
    return std::any_of(globs.begin(), globs.end(), [&](const std::string& text) {
      std::string error;
      const auto g = Glob::parse(text, error);
      return g && g->matches(s);
    });
  };
  if (clusters.empty()) return 0;  // (a Config built in code: one cluster serves everything)
  const std::size_t count = clusterOrder.empty() ? clusters.size() : clusterOrder.size();
  for (std::size_t k = 0; k < count; ++k) {
    const std::size_t i = clusterOrder.empty() ? k : clusterOrder[k];  // file order
    if (i >= clusters.size()) continue;
    const ClusterConfig& c = clusters[i];
    if (c.retired || !anyMatches(c.databases, database)) continue;
    if (!c.users.empty() && !anyMatches(c.users, user)) continue;
    return static_cast<int>(i);
  }
  return -1;
}

const char* toString(RuleStatement s) {
  switch (s) {
    case RuleStatement::Any:
      return "any";
    case RuleStatement::Read:
      return "read";
    case RuleStatement::Write:
      return "write";
    case RuleStatement::Ddl:
      return "ddl";
    case RuleStatement::Transaction:
      return "transaction";
  }
  return "unknown";
}

const char* toString(RuleRoute r) {
  switch (r) {
    case RuleRoute::Default:
      return "";
    case RuleRoute::Primary:
      return "primary";
    case RuleRoute::Replica:
      return "replica";
    case RuleRoute::Any:
      return "any";
  }
  return "unknown";
}

}  // namespace pgsplit::config
