#pragma once
// The statements about pgsplit's own session parameters, which pgsplit answers itself and never
// sends to a server:
//
//   SET [SESSION] pgsplit.min_lsn {TO | =} 'X/Y'   reads of this session only from nodes whose
//   RESET pgsplit.min_lsn                          replay position has reached X/Y
//   SHOW pgsplit.min_lsn | pgsplit.write_lsn       the floor; the WAL position after the last write
//
// (Names are case-insensitive, as PostgreSQL's; a trailing ';' is allowed; anything else in the
// text — a second statement, SET LOCAL — makes it not one of these.)
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pgsplit::sql {

enum class PgsplitCommandKind : std::uint8_t { SetMinLsn, ResetMinLsn, ShowMinLsn, ShowWriteLsn };

struct PgsplitCommand {
  PgsplitCommandKind kind = PgsplitCommandKind::ShowWriteLsn;
  std::string value;  // SetMinLsn: the value as given (routing::parseLsn reads it)
};

// Cheap pre-check for the hot path: the text mentions "pgsplit." at all.
bool mentionsPgsplitParameter(std::string_view text);
std::optional<PgsplitCommand> parsePgsplitCommand(std::string_view text);

}  // namespace pgsplit::sql
