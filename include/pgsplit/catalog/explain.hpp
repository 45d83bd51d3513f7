#pragma once
// `pgsplit --explain --config FILE "SQL"`: where pgsplit would send a statement and why, with
// the primary's catalog when it can be reached (config's catalog_timeout_ms per attempt).
#include <ostream>
#include <string>
#include <string_view>

#include "pgsplit/config/config.hpp"
#include "pgsplit/sql/classifier.hpp"

namespace pgsplit::routing {
struct Rule;
}

namespace pgsplit::catalog {

struct ExplainOptions {
  std::string database;         // empty: the user's name (as libpq does)
  std::string user;             // empty: the first [[users]] entry
  std::string applicationName;  // for [[rules]] application_name
  std::string clientAddr;       // for [[rules]] client_addr; empty: unknown
};

// Prints the route and the reason on the first line ("primary: function public.audit_log() is
// VOLATILE", or with a deciding rule "replica (rule \"reporting\"): read: SELECT"), then the
// details. Routing rules are evaluated as for a unit of work outside a transaction. Returns
// the process exit status (2 when --client-addr is not an address).
int explain(const config::Config& config, std::string_view sql, const ExplainOptions& options,
            std::ostream& out);

// The first line alone, for a classification and the rule that decided (if any):
// "<route>: <reason>".
std::string routeLine(const sql::Classification& c, const routing::Rule* rule = nullptr);

}  // namespace pgsplit::catalog
