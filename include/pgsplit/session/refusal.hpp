#pragma once
// A refusal pgsplit sends through a backend: inside a transaction, an error pgsplit raises
// itself must fail the transaction as PostgreSQL would (later statements get 25P02, COMMIT
// rolls back), so the server raises it.
#include <string>
#include <string_view>

namespace pgsplit::session {

// `DO $x$BEGIN RAISE EXCEPTION USING ERRCODE = '...', MESSAGE = $y$...$y$, ... END$x$`, with
// dollar-quote tags that the texts do not contain. sqlstate must be 5 characters of [0-9A-Z].
std::string raiseStatement(std::string_view sqlstate, std::string_view message,
                           std::string_view detail);

}  // namespace pgsplit::session
