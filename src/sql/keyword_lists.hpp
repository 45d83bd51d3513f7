#pragma once
// PostgreSQL keyword tables the classifier consults when an identifier is followed by '('.
#include <string_view>

namespace pgsplit::sql::detail {

// Any PostgreSQL keyword (reserved or not), matched case-insensitively.
bool isKeyword(std::string_view word);

// Reserved and column-name keywords plus operator-like words: "word (" is grammar (IN (...),
// EXISTS (...), CAST (...), ROW (...), numeric(10, 2), x LIKE (...), a JOIN (b ...)), never a
// call of a user function, and every such construct is read-only.
bool isGrammarParenWord(std::string_view word);

}  // namespace pgsplit::sql::detail
