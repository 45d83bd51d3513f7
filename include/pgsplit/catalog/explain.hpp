#pragma once
// `pgsplit --explain --config FILE "SQL"`: where pgsplit would send a statement and why, with
// the primary's catalog when it can be reached (config's catalog_timeout_ms per attempt).
#include <ostream>
#include <string>
#include <string_view>

#include "pgsplit/config/config.hpp"
#include "pgsplit/sql/classifier.hpp"

namespace pgsplit::catalog {

struct ExplainOptions {
  std::string database;  // empty: the user's name (as libpq does)
  std::string user;      // empty: the first [[users]] entry
};

// Prints the route and the reason on the first line ("primary: function public.audit_log() is
// VOLATILE"), then the details. Returns the process exit status.
int explain(const config::Config& config, std::string_view sql, const ExplainOptions& options,
            std::ostream& out);

// The first line alone, for a classification: "<route>: <reason>".
std::string routeLine(const sql::Classification& c);

}  // namespace pgsplit::catalog
