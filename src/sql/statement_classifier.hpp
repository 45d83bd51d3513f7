#pragma once
// Decides one statement from its leading words; queries are then scanned token by token
// (statement_scanner.cpp). Anything not recognised is a write.
#include "statement_scanner.hpp"
#include "token_stream.hpp"

namespace pgsplit::sql::detail {

struct References;

// Classifies the statement at the stream's position (which may stop before the statement's
// end). With refs, functions only the catalog can judge and relations read are listed there.
Verdict classifyStatement(TokenStream& ts, References* refs);

}  // namespace pgsplit::sql::detail
