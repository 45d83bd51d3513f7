#pragma once
// What a CREATE / ALTER / DROP statement may change in the catalog facts pgsplit caches, and
// the objects it names.
#include "pgsplit/sql/analysis.hpp"
#include "token_stream.hpp"

namespace pgsplit::sql::detail {

// `ts` stands at CREATE, ALTER or DROP (a copy: the caller's stream does not move).
CatalogChanges ddlChanges(TokenStream ts);

}  // namespace pgsplit::sql::detail
