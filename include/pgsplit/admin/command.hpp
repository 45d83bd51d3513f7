#pragma once
// The admin console's commands: parsing one statement of a Simple Query. Pure.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pgsplit::admin {

enum class CommandKind : std::uint8_t {
  Empty,  // nothing but spaces, semicolons, comments
  ShowNodes,
  ShowPools,
  ShowClients,
  ShowServers,
  ShowStats,
  ShowConfig,
  ShowVersion,
  ShowHelp,
  ShowQueries,
  ShowRules,     // issue #9
  ShowClusters,  // issue #9
  Reload,
  Shutdown,
  Pause,    // argument: a database, or empty for all
  Resume,   // argument: a database, or empty for all
  Unknown,  // 42601
};

struct Command {
  CommandKind kind = CommandKind::Unknown;
  std::string text;  // the statement, whitespace collapsed, upper case (for messages and logs)
  // PAUSE/RESUME: the database named, folded to lower case unless double-quoted; else empty.
  std::string argument;
};

// Splits a Simple Query into statements at ';' and parses each. Case, extra whitespace and -- or
// /* */ comments do not matter (except in a double-quoted database name).
std::vector<Command> parseCommands(std::string_view query);

}  // namespace pgsplit::admin
