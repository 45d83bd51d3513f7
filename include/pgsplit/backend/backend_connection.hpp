#pragma once
// One connection from pgsplit to a PostgreSQL node: connecting, logging in (SCRAM-SHA-256, md5,
// cleartext or trust), and the state the pool and the relay need. It does not decide routing.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "pgsplit/asio.hpp"
#include "pgsplit/backend/server_state.hpp"
#include "pgsplit/protocol/auth.hpp"

namespace pgsplit::backend {

struct LoginParams {
  std::string host;
  std::uint16_t port = 5432;
  std::string database;
  std::string user;
  std::string password;  // never logged
  std::chrono::milliseconds timeout{5000};
  std::size_t nodeIndex = 0;
  std::size_t maxPreparedStatements = 256;
};

// Why a connection attempt failed, kept apart from client-side failures.
struct LoginFailure {
  // The node's own ErrorResponse when it sent one (e.g. 3D000 unknown database, 28P01), as the
  // raw message bytes ready to relay; empty when the failure was ours (connect refused, timeout).
  std::string errorMessage;
  std::string sqlstate;  // from errorMessage, or "08006" for connection failures
  std::string text;      // one line for logs and for a synthesized ErrorResponse
};

class BackendConnection {
 public:
  using Ptr = std::shared_ptr<BackendConnection>;
  using Parameters = std::vector<std::pair<std::string, std::string>>;

  explicit BackendConnection(asio::any_io_executor ex, std::size_t nodeIndex)
      : socket_(ex), nodeIndex_(nodeIndex) {}

  // Connects and logs in; on success the connection is idle (ReadyForQuery 'I' seen).
  static Task<Ptr> connect(LoginParams params, LoginFailure& failure);

  tcp::socket& socket() { return socket_; }
  std::size_t nodeIndex() const { return nodeIndex_; }
  std::uint32_t pid() const { return pid_; }
  std::uint32_t secret() const { return secret_; }
  const Parameters& parameters() const { return parameters_; }
  // in_hot_standby as the server reported it at login (PostgreSQL 14+), if it did.
  int inHotStandby() const { return inHotStandby_; }  // -1 unknown, 0 off, 1 on

  // Transaction status from the last ReadyForQuery ('I', 'T', 'E').
  char txnStatus() const { return txnStatus_; }
  void setTxnStatus(char s) { txnStatus_ = s; }
  // A connection that saw a protocol error or an I/O failure must never be reused.
  bool broken() const { return broken_; }
  void markBroken() { broken_ = true; }

  std::chrono::steady_clock::time_point createdAt() const { return createdAt_; }
  std::chrono::steady_clock::time_point lastUsed() const { return lastUsed_; }
  void touch() { lastUsed_ = std::chrono::steady_clock::now(); }

  // True if the peer has closed or sent unexpected bytes while the connection sat idle
  // (one non-blocking peek; no bytes are consumed).
  bool idleSocketLooksDead();
  // Sends Terminate (best effort, no wait) and closes.
  void terminate();
  // Moving an idle connection to another worker's event loop: detachSocket (on the owning
  // worker's thread) takes the socket out of this worker's reactor and returns its descriptor
  // (-1 if it was closed); attachSocket (on the new owner's thread) registers it with `ex`'s.
  int detachSocket();
  void attachSocket(const asio::any_io_executor& ex, int fd);
  // Sends Terminate and waits (at most `wait`) for the server to close its end, then closes: once
  // this returns the server process is gone (it leaves pg_stat_activity before it closes the
  // socket), so a slot freed after it cannot be counted twice by the server.
  Task<void> terminateAndWait(std::chrono::milliseconds wait);
  // Makes an idle connection fit for another client: ROLLBACK if it is in a transaction, then
  // DISCARD ALL if `discardAll` (the state pgsplit tracks is cleared with it). The replies are
  // read and dropped here. False (the caller closes it) on any error, unexpected message or
  // timeout. Only for a connection with nothing in flight.
  Task<bool> reset(bool discardAll, std::chrono::milliseconds timeout);

  // The relay's read buffer, kept with the connection so it is reused across units of work.
  std::string& readBuffer() { return readBuffer_; }
  // Prepared statements and settings this connection carries from client to client.
  ServerState& state() { return state_; }
  const ServerState& state() const { return state_; }

 private:
  Task<bool> login(const LoginParams& params, LoginFailure& failure);
  // Records ParameterStatus/BackendKeyData; false for a message that has no place in a login.
  bool noteLoginMessage(char type, std::string_view body);
  // Builds the answer to an Authentication request into out; false (failure set) to give up.
  static bool answerAuthRequest(std::string_view body, const LoginParams& p,
                                const std::string& where,
                                std::optional<protocol::ScramClient>& scram, std::string& out,
                                LoginFailure& failure);

  tcp::socket socket_;
  std::size_t nodeIndex_;
  std::uint32_t pid_ = 0;
  std::uint32_t secret_ = 0;
  Parameters parameters_;
  int inHotStandby_ = -1;
  char txnStatus_ = 'I';
  bool broken_ = false;
  tcp protocol_ = tcp::v4();  // kept by detachSocket for attachSocket
  std::chrono::steady_clock::time_point createdAt_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point lastUsed_ = createdAt_;
  std::string readBuffer_;
  ServerState state_;
};

}  // namespace pgsplit::backend
