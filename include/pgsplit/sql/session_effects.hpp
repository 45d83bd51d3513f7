#pragma once
// What a statement does to the session's state that pgsplit must carry between backends: SET and
// RESET of parameters, RESET ALL, DISCARD ALL, DEALLOCATE, and the transaction control that
// decides which of them stand (SAVEPOINT, RELEASE, ROLLBACK [TO], COMMIT). Pure (no I/O); used
// only for text the classifier flagged, or that mentions such a statement (see
// mentionsSessionControl), so its cost is off the hot path of reads.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pgsplit::sql {

enum class EffectKind : std::uint8_t {
  Set,            // name = the parameter, text = the statement to replay it
  Reset,          // name = the parameter (RESET x, SET x TO DEFAULT)
  ResetAll,       // RESET ALL
  DiscardAll,     // DISCARD ALL: settings, prepared statements, temp tables, LISTEN, locks...
  DeallocateAll,  // DEALLOCATE [PREPARE] ALL
  Deallocate,     // DEALLOCATE [PREPARE] name (name as PostgreSQL folds it; "" if not decoded)
  Unsupported,    // session state pgsplit cannot replay (SET SESSION CHARACTERISTICS): pin
  Savepoint,      // SAVEPOINT name
  Release,        // RELEASE [SAVEPOINT] name
  RollbackTo,     // ROLLBACK [WORK | TRANSACTION] TO [SAVEPOINT] name
  Commit,         // COMMIT / END [AND [NO] CHAIN] (not COMMIT PREPARED)
  Rollback,       // ROLLBACK / ABORT [AND [NO] CHAIN] (not ROLLBACK PREPARED)
  None,           // no effect, but a tag one of the above uses (SET LOCAL: "SET")
};

struct SessionEffect {
  EffectKind kind = EffectKind::Set;
  std::string name;
  std::string text;
  // The CommandComplete tag the statement answers with when it runs ("SET", "RESET",
  // "ROLLBACK", ...): what tells pgsplit which of a text's statements ran. A COMMIT of a failed
  // transaction answers "ROLLBACK" instead (see tagMatches).
  const char* tag = "";
};

// The session-level effects of the statements in `text`, in order, one per statement that has
// one or that answers with a tag such a statement uses (so CommandCompletes can be matched to
// them in order). SET LOCAL, SET TRANSACTION and SET CONSTRAINTS have no effect (they end with
// the transaction).
std::vector<SessionEffect> sessionEffects(std::string_view text);

// True if a statement with effect e may answer with CommandComplete `tag`.
bool tagMatches(const SessionEffect& e, std::string_view tag);

// True if text might hold a statement sessionEffects reports other than SET and RESET (DISCARD,
// DEALLOCATE, SAVEPOINT, RELEASE, ROLLBACK): a cheap pre-check before sessionEffects for text the
// classifier did not flag as setting session state. (COMMIT and END need no record: their tag
// is their own.)
bool mentionsSessionControl(std::string_view text);

// The SQL that gives parameter `name` the value `value` exactly as a startup packet would
// (set_config takes the raw string; SET would re-quote list values such as search_path).
std::string startupSettingSql(std::string_view name, std::string_view value);

// One statement giving each parameter its startup value, as startupSettingSql does for one:
// SELECT pg_catalog.set_config('a', E'1', false), pg_catalog.set_config('b', E'2', false).
std::string startupRestoreSql(const std::vector<std::pair<std::string, std::string>>& values);

// True if name is a plausible parameter name ([A-Za-z0-9_.] only): safe to put in SQL unquoted.
bool plausibleParameterName(std::string_view name);

}  // namespace pgsplit::sql
