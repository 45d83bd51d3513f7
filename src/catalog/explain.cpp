#include "pgsplit/catalog/explain.hpp"

#include <chrono>
#include <optional>

#include "pgsplit/catalog/catalog_client.hpp"
#include "pgsplit/catalog/fetcher.hpp"
#include "pgsplit/routing/rules.hpp"
#include "pgsplit/sql/analysis.hpp"

namespace pgsplit::catalog {

namespace {

std::string_view withoutPrefix(std::string_view reason) {
  for (const std::string_view prefix : {"read: ", "write: ", "pin: "}) {
    if (reason.starts_with(prefix)) return reason.substr(prefix.size());
  }
  return reason;
}

const char* volatilityWord(char v) {
  switch (v) {
    case 'v':
      return "VOLATILE";
    case 's':
      return "STABLE";
    case 'i':
      return "IMMUTABLE";
    default:
      return "not found";
  }
}

struct Primary {
  std::string name;
  Target target;
};

// The node that answers pg_is_in_recovery() = false (a node configured as primary is taken
// at its word), asked in turn with the configured timeout each.
std::optional<Primary> findPrimary(const config::Config& config, const std::string& database,
                                   const std::string& user, std::size_t cluster,
                                   std::string& error) {
  const config::UserConfig* u = config.findUser(user);
  if (u == nullptr) {
    error = "user " + user + " is not in [[users]]";
    return std::nullopt;
  }
  const std::chrono::milliseconds timeout(config.routing.catalogTimeoutMs);
  for (const config::NodeConfig& node : config.nodes) {
    if (node.role == config::NodeRole::Replica || node.cluster != cluster) continue;
    Target target{node.host, node.port, database, user, u->password};
    if (node.role == config::NodeRole::Primary) return Primary{node.name, target};
    CatalogClient probe(timeout);
    if (!probe.connect(target)) {
      error = node.name + ": " + probe.error();
      continue;
    }
    const std::optional<bool> standby = probe.inRecovery();
    if (standby && !*standby) return Primary{node.name, target};
    if (!standby) error = node.name + ": " + probe.error();
  }
  if (error.empty()) error = "no node answers as a primary";
  return std::nullopt;
}

}  // namespace

std::string routeLine(const sql::Classification& c, const routing::Rule* rule) {
  const bool replicaOk = c.readOnly || c.txnStart == sql::TxnStart::ReadOnly;
  if (rule != nullptr && rule->force == routing::Force::Primary && !c.pins)
    return "primary (rule \"" + rule->name + "\"): " + std::string(withoutPrefix(c.reason));
  if (rule != nullptr && rule->force == routing::Force::Replica && !c.pins) {
    if (replicaOk)
      return "replica (rule \"" + rule->name + "\"): " + std::string(withoutPrefix(c.reason));
    return "primary (rule \"" + rule->name +
           "\" asks for a replica; the statement needs the primary): " +
           std::string(withoutPrefix(c.reason));
  }
  std::string route;
  if (c.pins) {
    route = "primary (pins the session)";
  } else if (c.hint == sql::Hint::Primary) {
    route = "primary (/* pgsplit:primary */)";
  } else if (c.txnStart == sql::TxnStart::ReadOnly) {
    route = "replica (read-only transaction)";
  } else if (c.txnStart == sql::TxnStart::ReadWrite) {
    route = "primary (transaction)";
  } else if (c.readOnly) {
    route = "replica";
  } else {
    route = "primary";
  }
  if (rule != nullptr) route += " (rule \"" + rule->name + "\")";
  return route + ": " + std::string(withoutPrefix(c.reason));
}

int explain(const config::Config& config, std::string_view sql, const ExplainOptions& options,
            std::ostream& out) {
  const std::string user = !options.user.empty() ? options.user : config.users.front().name;
  const std::string database = !options.database.empty() ? options.database : user;
  std::optional<config::IpAddress> address;
  if (!options.clientAddr.empty()) {
    address = config::IpAddress::parse(options.clientAddr);
    if (!address) {
      out << "pgsplit: --client-addr " << options.clientAddr << " is not an IP address\n";
      return 2;
    }
  }
  const auto rules = routing::RuleSet::compile(config);
  const int home = rules->clusterFor(database, user);
  if (home < 0) {
    out << "refused: database " << database << " is not served here (no [[clusters]] entry "
        << "matches it; the login would get 3D000)\n";
    return 0;
  }
  const auto overrides = overridesOf(config);
  const sql::Analysis analysis = sql::analyze(sql, overrides.get());
  // The rule that decides (a unit of this one text, outside a transaction).
  const routing::RuleMask client =
      rules->sessionMask({user, database, options.applicationName, address});
  routing::RuleMask unit = rules->unitStart(client);
  rules->matchText(client, analysis.classification, analysis, sql, unit);
  const int decided = rules->decide(unit, false);
  const routing::Rule* rule = decided >= 0 ? &(*rules)[static_cast<std::size_t>(decided)] : nullptr;
  const std::size_t cluster = rule != nullptr && rule->cluster >= 0
                                  ? static_cast<std::size_t>(rule->cluster)
                                  : static_cast<std::size_t>(home);
  if (rule != nullptr && rule->blocks) {
    out << "blocked (rule \"" << rule->name << "\"): " << rule->blockMessage << "\n";
    out << "  rule: \"" << rule->name << "\" (line " << rule->line << "): " << rule->conditions
        << " -> " << rule->action << "\n";
    out << "  the client gets SQLSTATE 42501; nothing is sent to a server\n";
    return 0;
  }

  std::optional<sql::CatalogSnapshot> snapshot;
  std::string catalogNote;
  if (!analysis.needsCatalog()) {
    catalogNote = "not needed";
  } else if (!config.routing.catalogLookups) {
    catalogNote = "off ([routing] catalog_lookups = false): user functions count as writes";
  } else {
    std::string error;
    const std::optional<Primary> primary = findPrimary(config, database, user, cluster, error);
    CatalogClient client(std::chrono::milliseconds(config.routing.catalogTimeoutMs));
    std::optional<sql::CatalogFacts> facts;
    if (primary && client.connect(primary->target)) {
      facts = client.lookup(analysis.functions, analysis.relations);
    }
    if (primary && !facts) error = primary->name + ": " + client.error();
    if (facts) {
      auto functions = std::make_shared<sql::CatalogSnapshot::FunctionMap>();
      for (auto& [key, f] : facts->functions)
        functions->emplace(key, f);
      auto relations = std::make_shared<sql::CatalogSnapshot::RelationMap>();
      for (auto& [key, r] : facts->relations)
        relations->emplace(key, r);
      snapshot.emplace();
      snapshot->functions = std::move(functions);
      snapshot->relations = std::move(relations);
      catalogNote = "looked up on " + primary->name + " (" + primary->target.host + ":" +
                    std::to_string(primary->target.port) + ") in database " + database + " as " +
                    user;
    } else {
      catalogNote = "could not reach the primary (" + error +
                    "): user functions count as writes, relations as readable";
    }
  }

  const sql::Classification c = resolve(analysis, snapshot ? &*snapshot : nullptr);
  out << routeLine(c, rule) << "\n";
  out << "  statements: " << c.statements << "\n";
  if (rule != nullptr) {
    out << "  rule: \"" << rule->name << "\" (line " << rule->line << "): " << rule->conditions
        << " -> " << rule->action << "\n";
  } else if (!rules->empty()) {
    out << "  rule: none of the " << rules->size() << " [[rules]] matches\n";
  }
  if (config.clusters.size() > 1 || (rule != nullptr && rule->cluster >= 0))
    out << "  cluster: " << config.clusters[cluster].name
        << (rule != nullptr && rule->cluster >= 0 ? " (the rule's)" : " (the database's)") << "\n";
  if (c.hint == sql::Hint::Replica && !c.readOnly && c.txnStart != sql::TxnStart::ReadOnly) {
    out << "  hint: /* pgsplit:replica */ ignored (the statement needs the primary)\n";
  }
  for (const std::string& key : analysis.functions) {
    out << "  function " << sql::displayName(key) << "(): ";
    if (!snapshot) {
      out << "unknown\n";
    } else {
      out << volatilityWord(snapshot->functions->at(key).volatility) << "\n";
    }
  }
  for (const std::string& key : analysis.relations) {
    const sql::RelationFacts* r = snapshot ? &snapshot->relations->at(key) : nullptr;
    if (r != nullptr && !r->replicaSafe) {
      out << "  " << withoutPrefix(r->reason) << "\n";
    } else {
      out << "  relation " << sql::displayName(key) << ": "
          << (r != nullptr ? "readable on a standby" : "unknown") << "\n";
    }
  }
  out << "  catalog: " << catalogNote << "\n";
  return 0;
}

}  // namespace pgsplit::catalog
