#pragma once
// Helpers shared by the health, lag and failover tests.
#include <chrono>
#include <functional>
#include <set>
#include <string>
#include <thread>

#include "harness.hpp"

namespace pgsplit::test {

// Polls `condition` every 100 ms until it holds or `limit` passes; true if it held.
inline bool eventually(const std::function<bool()>& condition,
                       std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

// The ports that served `n` reads on `conn` (pgsplit picks the node per statement).
inline std::set<std::string> readPorts(Conn& conn, int n) {
  std::set<std::string> ports;
  for (int i = 0; i < n; ++i)
    ports.insert(conn.value("SELECT inet_server_port()"));
  return ports;
}

// The outcome of one statement, without recording a failure either way.
struct Outcome {
  bool ok = false;
  std::string value;     // first column of the first row, if any
  std::string sqlstate;  // on error
  std::string message;   // on error
};

inline Outcome attempt(Conn& conn, const std::string& sql) {
  Outcome out;
  PGresult* r = PQexec(conn.get(), sql.c_str());
  const auto status = PQresultStatus(r);
  out.ok = status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK;
  if (out.ok && status == PGRES_TUPLES_OK && PQntuples(r) > 0) out.value = PQgetvalue(r, 0, 0);
  if (!out.ok) {
    const char* s = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    out.sqlstate = s ? s : "";
    out.message = PQerrorMessage(conn.get());
  }
  PQclear(r);
  return out;
}

// Pauses WAL replay on a replica for as long as it lives (resumed even when a test fails).
class ReplayPause {
 public:
  ReplayPause(const Cluster& c, int port) : conn_(c.superuserConninfo(port)) {
    conn_.exec("SELECT pg_wal_replay_pause()");
  }
  ~ReplayPause() { conn_.exec("SELECT pg_wal_replay_resume()"); }
  ReplayPause(const ReplayPause&) = delete;
  ReplayPause& operator=(const ReplayPause&) = delete;

 private:
  Conn conn_;
};

inline bool logHas(const Pgsplit& proxy, const std::string& text) {
  return proxy.log().find(text) != std::string::npos;
}

}  // namespace pgsplit::test
