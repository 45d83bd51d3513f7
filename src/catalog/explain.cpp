#include "pgsplit/catalog/explain.hpp"

#include <chrono>
#include <optional>

#include "pgsplit/catalog/catalog_client.hpp"
#include "pgsplit/catalog/fetcher.hpp"
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
                                   const std::string& user, std::string& error) {
  const config::UserConfig* u = config.findUser(user);
  if (u == nullptr) {
    error = "user " + user + " is not in [[users]]";
    return std::nullopt;
  }
  const std::chrono::milliseconds timeout(config.routing.catalogTimeoutMs);
  for (const config::NodeConfig& node : config.nodes) {
    if (node.role == config::NodeRole::Replica) continue;
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

std::string routeLine(const sql::Classification& c) {
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
  return route + ": " + std::string(withoutPrefix(c.reason));
}

int explain(const config::Config& config, std::string_view sql, const ExplainOptions& options,
            std::ostream& out) {
  const std::string user = !options.user.empty() ? options.user : config.users.front().name;
  const std::string database = !options.database.empty() ? options.database : user;
  const auto overrides = overridesOf(config);
  const sql::Analysis analysis = sql::analyze(sql, overrides.get());

  std::optional<sql::CatalogSnapshot> snapshot;
  std::string catalogNote;
  if (!analysis.needsCatalog()) {
    catalogNote = "not needed";
  } else if (!config.routing.catalogLookups) {
    catalogNote = "off ([routing] catalog_lookups = false): user functions count as writes";
  } else {
    std::string error;
    const std::optional<Primary> primary = findPrimary(config, database, user, error);
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
  out << routeLine(c) << "\n";
  out << "  statements: " << c.statements << "\n";
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
