#pragma once
// What a statement does to the session's state that pgsplit must carry between backends: SET and
// RESET of parameters, RESET ALL, DISCARD ALL, DEALLOCATE. Pure (no I/O); used only for text the
// classifier flagged, or that mentions DISCARD/DEALLOCATE, so its cost is off the hot path.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pgsplit::sql {

enum class EffectKind : std::uint8_t {
  Set,            // name = the parameter, text = the statement to replay it
  Reset,          // name = the parameter
  ResetAll,       // RESET ALL
  DiscardAll,     // DISCARD ALL: settings, prepared statements, temp tables, LISTEN, locks...
  DeallocateAll,  // DEALLOCATE [PREPARE] ALL
  Deallocate,     // DEALLOCATE [PREPARE] name (name as PostgreSQL folds it)
  Unsupported,    // session state pgsplit cannot replay (SET SESSION CHARACTERISTICS): pin
};

struct SessionEffect {
  EffectKind kind = EffectKind::Set;
  std::string name;
  std::string text;
};

// The session-level effects of the statements in `text`, in order. SET LOCAL, SET TRANSACTION
// and SET CONSTRAINTS have none (they end with the transaction).
std::vector<SessionEffect> sessionEffects(std::string_view text);

// True if text might contain DISCARD or DEALLOCATE (a cheap pre-check before sessionEffects).
bool mentionsDiscardOrDeallocate(std::string_view text);

// The SQL that gives parameter `name` the value `value` exactly as a startup packet would
// (set_config takes the raw string; SET would re-quote list values such as search_path).
std::string startupSettingSql(std::string_view name, std::string_view value);

// True if name is a plausible parameter name ([A-Za-z0-9_.] only): safe to put in SQL unquoted.
bool plausibleParameterName(std::string_view name);

}  // namespace pgsplit::sql
