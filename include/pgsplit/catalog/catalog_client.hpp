#pragma once
// Looks function volatility and relation persistence up in a PostgreSQL catalog over one libpq
// connection. Every step (connect, send, receive) is non-blocking with a deadline, so a silent
// server costs at most the timeout. Used by the lookup thread and by `pgsplit --explain`; never
// on a worker thread.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pgsplit/sql/catalog_board.hpp"

struct pg_conn;

namespace pgsplit::catalog {

// Where to look: the primary, as one of the configured users, in the client's database (its
// search_path decides what unqualified names mean).
struct Target {
  std::string host;
  std::uint16_t port = 5432;
  std::string database;
  std::string user;
  std::string password;  // never logged
  bool operator==(const Target&) const = default;
};

class CatalogClient {
 public:
  explicit CatalogClient(std::chrono::milliseconds timeout);
  ~CatalogClient();
  CatalogClient(const CatalogClient&) = delete;
  CatalogClient& operator=(const CatalogClient&) = delete;

  // Connects, or keeps the open connection when it already goes to `target`.
  bool connect(const Target& target);
  // The facts for these objectKey()s; nullopt (and error()) when the lookup failed.
  std::optional<sql::CatalogFacts> lookup(const std::vector<std::string>& functions,
                                          const std::vector<std::string>& relations);
  // pg_is_in_recovery() of the connected server; nullopt (and error()) on failure.
  std::optional<bool> inRecovery();
  void close();
  const std::string& error() const { return error_; }

 private:
  struct Rows;
  std::optional<Rows> query(const char* sql, const std::vector<std::string>& keys);
  std::optional<Rows> query(const char* sql, int nParams, const char* const* params);
  bool waitSocket(bool forRead, std::chrono::steady_clock::time_point deadline);

  std::chrono::milliseconds timeout_;
  pg_conn* conn_ = nullptr;
  Target target_;
  std::string error_;
};

}  // namespace pgsplit::catalog
