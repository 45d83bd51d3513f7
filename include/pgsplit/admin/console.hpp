#pragma once
// The admin console: PostgreSQL's protocol, database "pgsplit", users from [admin] users
// (authenticated like any client by the session before it hands the connection over). Simple
// Query only; every answer is an ordinary row set.
#include <cstdint>
#include <string>
#include <string_view>

#include "pgsplit/asio.hpp"

namespace pgsplit::session {
class WorkerContext;
}

namespace pgsplit::admin {

inline constexpr std::string_view kConsoleDatabase = "pgsplit";
inline bool isConsoleDatabase(std::string_view database) {
  return database == kConsoleDatabase;
}

struct ConsoleClient {
  std::uint64_t id = 0;  // the session id it had (logs: [cN])
  std::string peer;
  std::string user;
  std::string application;
};

// Takes over an authenticated connection to database "pgsplit" (AuthenticationOk already sent).
// `pending`: bytes the client sent after its password, not yet read. A user not in [admin] users
// gets FATAL 42501. Runs on the worker's thread until the client leaves or shutdown.
void startConsole(session::WorkerContext& worker, tcp::socket socket, ConsoleClient client,
                  std::string pending);

}  // namespace pgsplit::admin
