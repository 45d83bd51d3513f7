#pragma once
// One client connection: startup, authentication, then the query loop that forms units of work,
// routes them, and relays the replies. One coroutine reads the client; while a backend is
// attached, a second one relays that backend's replies to the client. Both run on the worker's
// single thread, so they share state without locks.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "pgsplit/asio.hpp"
#include "pgsplit/backend/backend_connection.hpp"
#include "pgsplit/protocol/frame.hpp"
#include "pgsplit/protocol/stream_scanner.hpp"
#include "pgsplit/protocol/writer.hpp"
#include "pgsplit/session/runtime.hpp"
#include "pgsplit/sql/classifier.hpp"

namespace pgsplit::session {

void logSessionBug(std::uint64_t id, const char* where, std::exception_ptr e);

class ClientSession : public std::enable_shared_from_this<ClientSession> {
 public:
  ClientSession(WorkerContext& worker, tcp::socket socket);
  ~ClientSession();

  // Runs the whole session; completes when the client is gone and every backend is returned.
  static Task<void> run(std::shared_ptr<ClientSession> self);

  // A CancelRequest for this client arrived: cancel what its active backend is running.
  void cancelActiveQuery();
  std::uint64_t id() const { return id_; }
  // Closes the client socket (shutdown, fatal errors); the coroutines then wind down.
  void abort();

 private:
  enum class State : std::uint8_t { Startup, Authenticating, Ready, Closed };

  // --- startup and authentication (client_startup.cpp) ---
  Task<bool> startup();
  Task<bool> authenticate();
  Task<bool> authenticateScram();
  Task<bool> authenticateMd5();
  Task<bool> welcome();
  Task<bool> readMoreStartup();
  Task<std::optional<protocol::Frame>> readStartupPacket();
  Task<std::optional<protocol::Frame>> readAuthMessage();
  void forwardCancel(std::uint32_t pid, std::uint32_t secret);

  // --- the query loop (client_session.cpp) ---
  Task<void> queryLoop();
  Task<bool> handleMessage(protocol::Frame frame, std::string_view raw);
  bool noteExtendedMessage(const protocol::Frame& frame, std::string_view raw);
  Task<bool> submitUnit(bool endsWithSync);
  Task<bool> answerLocally(protocol::ErrorSpec error);
  Task<void> waitUntilSettled();
  Task<bool> flushCopy();
  bool busy() const { return pendingSyncs_ > 0 || batchOpen_; }

  // --- backends and the relay (client_relay.cpp) ---
  Task<backend::BackendConnection::Ptr> acquire(int node, protocol::ErrorSpec& error,
                                                std::string& errorText);
  void attach(backend::BackendConnection::Ptr conn);
  // Relays the active backend's replies to the client; runs for the whole session.
  static Task<void> relay(std::shared_ptr<ClientSession> self);
  Task<bool> relayOnce(backend::BackendConnection::Ptr conn);
  // At ReadyForQuery with nothing outstanding: may the active backend be let go?
  bool releasable(char status) const;
  void releaseAll();
  void wake();

  // --- writing to the client: one write at a time ---
  Task<bool> writeClient(std::string_view bytes);
  Task<bool> writeClientError(protocol::ErrorSpec e, bool fatal);

  WorkerContext& worker_;
  Runtime& runtime_;
  tcp::socket socket_;
  std::uint64_t id_;
  State state_ = State::Startup;
  std::string peer_;

  // Who the client is.
  std::string user_;
  std::string database_;
  std::string applicationName_;
  std::uint32_t cancelPid_ = 0;
  bool registered_ = false;
  bool counted_ = false;

  // Client input: bytes read but not yet consumed start at inStart_.
  std::string in_;
  std::size_t inStart_ = 0;

  // The unit of work being formed: raw client messages to forward, and what they are.
  std::string batch_;
  sql::Classification batchClass_;
  bool batchHasStatement_ = false;
  bool skipUntilSync_ = false;  // after an error pgsplit raised itself inside a batch
  std::string copyOut_;         // CopyData gathered for one write to the backend
  sql::Classification unnamedStatement_;
  bool unnamedPending_ = false;  // an unnamed statement was parsed and not yet bound
  bool boundUnnamed_ = false;    // ... and the backend it lives on is still attached
  bool copyWriting_ = false;     // CopyData is being written to the active backend
  std::string errorState_;       // SQLSTATE text of an error pgsplit answers itself
  std::unordered_map<std::string, sql::Classification> namedStatements_;

  // Backends: per node, the one this session holds (session mode, transactions, pins).
  std::vector<pool::NodePool*> pools_;
  std::vector<backend::BackendConnection::Ptr> held_;
  backend::BackendConnection::Ptr active_;  // the one whose replies are being relayed
  bool relayRunning_ = false;
  bool relayFlushing_ = false;  // the relay holds reply bytes not yet written to the client
  int pendingSyncs_ = 0;        // units sent to active_ whose ReadyForQuery is still to come
  bool batchOpen_ = false;      // part of a batch went out on Flush; its Sync is still to come
  // Read-your-writes (see docs/design.md): when this session's last write was acknowledged,
  // and the primary's WAL position sampled after it, which replicas must have replayed.
  bool writeInFlight_ = false;
  bool wrote_ = false;
  routing::Clock::time_point lastWriteAt_{};
  std::uint64_t requiredLsn_ = 0;
  void noteWriteTarget(const sql::Classification& cls, const backend::BackendConnection& target);
  void applyReadYourWrites(routing::SessionView& view, const routing::NodeSnapshot& snap);
  bool pinned_ = false;
  const char* pinReason_ = nullptr;
  bool sessionMode_ = false;

  // Wake-up signals between the two coroutines (a timer cancelled = an event).
  asio::steady_timer clientSignal_;  // the relay settled or the session ends
  asio::steady_timer relaySignal_;   // a backend was attached or the session ends
  asio::steady_timer writeSignal_;   // a client write finished
  bool writing_ = false;
  std::string scratch_;  // messages pgsplit builds itself
};

}  // namespace pgsplit::session
