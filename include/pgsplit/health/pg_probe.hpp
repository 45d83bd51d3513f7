#pragma once
// One node's health check over libpq, asynchronously: PQconnectStartParams / PQconnectPoll and
// PQsendQuery / PQconsumeInput, waiting on libpq's socket through Asio, so a check never blocks
// its thread and a frozen node costs only its own check's deadline. The connection is kept
// between checks; a check that fails on a kept connection retries once on a fresh one (an idle
// connection the server dropped says nothing about the node).
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "pgsplit/asio.hpp"
#include "pgsplit/routing/node_snapshot.hpp"

struct pg_conn;

namespace pgsplit::health {

struct ProbeTarget {
  std::string host;
  std::uint16_t port = 5432;
  std::string user;
  std::string password;  // never logged
  std::string database;
};

struct ProbeResult {
  bool up = false;
  routing::Role role = routing::Role::Unknown;  // what pg_is_in_recovery() answered
  std::uint64_t lsn = 0;                    // primary: WAL insert position; replica: last replayed
  std::int64_t replayDelayMs = -1;          // replica: its own estimate (see NodeState)
  routing::Clock::time_point sentAt{};      // when the query went out
  routing::Clock::time_point receivedAt{};  // when its answer was in
  std::string error;                        // !up: one line, no password
};

class PgProbe {
 public:
  PgProbe(asio::any_io_executor ex, ProbeTarget target);
  ~PgProbe();
  PgProbe(const PgProbe&) = delete;
  PgProbe& operator=(const PgProbe&) = delete;

  // One check, done within `timeout` whatever the node does.
  Task<ProbeResult> check(std::chrono::milliseconds timeout);
  // Ends a running check at once (shutdown); it reports failure.
  void cancel();

  // The query a check runs (one round trip).
  static const char* const kQuery;

 private:
  struct Lookup;
  static void startLookup(std::shared_ptr<Lookup> lookup, std::string host, std::string port,
                          asio::any_io_executor ex, asio::steady_timer* wake);
  Task<bool> attempt(ProbeResult& result);
  Task<bool> resolve(std::string& address, std::string& error);
  Task<bool> connect(std::string& error);
  Task<bool> query(ProbeResult& result);
  // Waits until libpq's socket is readable (or writable); false when the deadline passed or the
  // check was cancelled.
  Task<bool> waitSocket(bool forWrite);
  bool stopped() const { return expired_ || cancelled_; }
  void disconnect();
  std::string connectionError() const;

  asio::any_io_executor ex_;
  ProbeTarget target_;
  pg_conn* conn_ = nullptr;
  asio::posix::stream_descriptor waiter_;  // wraps libpq's socket only while waiting on it
  asio::steady_timer deadline_;
  asio::steady_timer resolved_;     // an event: cancelled when a name resolution completes
  std::shared_ptr<Lookup> lookup_;  // the one running, if any
  std::uint64_t generation_ = 0;
  bool expired_ = false;
  bool cancelled_ = false;
  std::chrono::milliseconds timeout_{0};
};

}  // namespace pgsplit::health
