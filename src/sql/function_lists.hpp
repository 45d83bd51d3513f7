#pragma once
// What calling a function by name means for routing.
#include <cstdint>
#include <string_view>

namespace pgsplit::sql::detail {

enum class FunctionEffect : std::uint8_t {
  ReadOnly,  // a built-in that only reads: fine on a replica
  Writes,    // writes, or needs the primary's state (sequences, xids, WAL position, locks)
  Pins,      // takes a session-level advisory lock: pin the client to the primary
  Unknown,   // not a known read-only built-in: a write until the catalog says otherwise
};

struct FunctionInfo {
  FunctionEffect effect;
  const char* reason;  // static
};

// name: an unquoted identifier (matched case-insensitively) or the body of a quoted
// identifier (matched exactly).
FunctionInfo lookupFunction(std::string_view name, bool caseInsensitive);

}  // namespace pgsplit::sql::detail
