#pragma once
// One client connection: startup, authentication, then the query loop that forms units of work,
// routes them, and relays the replies. One coroutine reads the client; while a backend is
// attached, a second one relays that backend's replies to the client. Both run on the worker's
// single thread, so they share state without locks.
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "pgsplit/asio.hpp"
#include "pgsplit/backend/backend_connection.hpp"
#include "pgsplit/protocol/frame.hpp"
#include "pgsplit/protocol/writer.hpp"
#include "pgsplit/session/read_buffer.hpp"
#include "pgsplit/session/effect_ledger.hpp"
#include "pgsplit/session/reply_stream.hpp"
#include "pgsplit/session/signal.hpp"
#include "pgsplit/session/runtime.hpp"
#include "pgsplit/session/statement_cache.hpp"
#include "pgsplit/session/unit_tracker.hpp"
#include "pgsplit/sql/classifier.hpp"
#include "pgsplit/sql/session_effects.hpp"

namespace pgsplit::session {

void logSessionBug(std::uint64_t id, const char* where, std::exception_ptr e);

class ClientSession : public std::enable_shared_from_this<ClientSession>,
                      private ReplyListener,
                      private EffectLedger::Listener {
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

  // --- operations (client_session_ops.cpp), called on the session's worker thread ---
  ClientInfo describe() const;
  // Nothing in flight, no open transaction, no half-formed unit: closing now loses nothing.
  bool idleForShutdown() const;
  // FATAL 57P01 to the client (best effort, never blocks) and close.
  void closeForShutdown();
  // FATAL with this SQLSTATE and message (best effort, never blocks) and close.
  void closeWithFatal(const char* sqlstate, const char* message);
  // A unit in flight or a transaction open, for a client of `database` (any when empty): what
  // PAUSE waits for.
  bool busyForPause(const std::string& database) const;

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
  Task<bool> handleSync(std::string_view raw);
  Task<bool> submitUnit(bool endsWithSync);
  void clearBatch();
  Task<bool> answerLocally(protocol::ErrorSpec error);
  Task<void> waitUntilSettled();
  Task<bool> flushCopy();
  bool busy() const { return pendingSyncs_ > 0 || batchOpen_; }

  // --- writing a unit to its backend (client_unit_write.cpp) ---
  Task<bool> writeUnit(backend::BackendConnection::Ptr target, bool endsWithSync,
                       const sql::Classification& cls);
  // writeUnit's steps. renderUnit: the bytes of the unit for target (the reply bookkeeping done).
  // sendUnitNow: they go out without suspending; true when the unit is done, false when
  // finishUnit must write what is left of out (or pgsplit's own answers that lead the replies).
  std::string_view renderUnit(backend::BackendConnection& target, bool endsWithSync,
                              const sql::Classification& cls);
  bool sendUnitNow(backend::BackendConnection& target, std::string_view& out);
  Task<bool> finishUnit(backend::BackendConnection::Ptr target, std::string_view out);
  // Writes out to a backend; on failure the connection is closed (the relay reports it).
  Task<bool> transmit(backend::BackendConnection::Ptr target, std::string_view out);
  // What the backend's socket takes now, without suspending (out keeps the rest for transmit);
  // false as transmit's.
  bool transmitNow(backend::BackendConnection& target, std::string_view& out);
  // Writes pgsplit's own answers at the head of target's reply queue, if any.
  Task<bool> writeSynthetic(backend::BackendConnection::Ptr target);

  // --- operations hooks on the data path (client_session_ops.cpp) ---
  // PAUSE: waits until the unit being formed may go (false: the session ends).
  Task<bool> passPause();
  // The unit (or the part of it) just rendered for target goes out now: time it (UnitTracker).
  void unitWritten(const backend::BackendConnection& target, bool endsWithSync, bool answered);
  // The unit's entry in the worker's statement statistics (made when the statement is new).
  QueryStatsTable::Ref statementEntry();

  // --- the unit of work being formed, prepared statements, settings (client_batch.cpp) ---
  // One client message of the batch. Messages naming a statement pgsplit manages are rewritten
  // for the backend that runs the batch (render).
  struct BatchOp {
    char type = 0;
    bool duplicate = false;        // a Parse of a name the client already uses: 42P05
    bool usesUnnamed = false;      // Bind or Describe of the unnamed statement
    bool parsesUnnamed = false;    // Parse of the unnamed statement
    bool reservedClose = false;    // Close of a "pgsplit_" name: answered here
    bool restoresStartup = false;  // a lone Query resetting startup parameters (see render)
    // An Execute pgsplit answers itself: 'C' a DEALLOCATE of a statement it manages, 'E' a
    // DEALLOCATE of one of its own names (26000, as if it did not exist).
    char answer = 0;
    std::uint32_t offset = 0;
    std::uint32_t size = 0;
    // The session effects of the statements it runs (EffectLedger sequence numbers).
    std::uint64_t effectsBegin = 0;
    std::uint64_t effectsEnd = 0;
    backend::StatementRef statement;
  };
  void addOp(char type, std::string_view raw, backend::StatementRef statement = nullptr);
  bool noteParse(const protocol::Frame& frame, std::string_view raw);
  bool noteBind(const protocol::Frame& frame, std::string_view raw);
  bool noteDescribeOrClose(const protocol::Frame& frame, std::string_view raw);
  bool noteExecute(const protocol::Frame& frame, std::string_view raw);
  void noteStatement(const sql::Classification& c);
  void noteExecution(const sql::Classification& c, std::size_t settingStatements);
  void noteStartupParameter(std::string_view name, std::string_view value);
  // A lone DEALLOCATE of a statement pgsplit manages: answered here. False: not that.
  Task<bool> answerDeallocate(std::string_view text);
  // SET/RESET/SHOW of pgsplit.min_lsn / pgsplit.write_lsn: answered here. False: not that.
  Task<bool> answerPgsplitCommand(std::string_view text);
  // Records the effects of statements the unit runs in the ledger (and forgets the client's
  // names they deallocate, until the server says otherwise); their sequence numbers.
  // forwarded: the text reaches the server as written.
  std::pair<std::uint64_t, std::uint64_t> noteEffectList(
      const std::vector<sql::SessionEffect>& effects, bool forwarded);
  // SET SESSION CHARACTERISTICS: pins (the routing of the unit that binds or runs it).
  void notePins(const std::vector<sql::SessionEffect>& effects);
  // Whether the client's statement `name` may yet appear or disappear: a unit already sent
  // parses, closes or deallocates it and its reply has not come. The next message naming it
  // waits for that reply (settleNames), as PostgreSQL's answer depends on it.
  bool nameInDoubt(std::string_view name) const;
  bool namesInDoubt() const { return !namesInFlight_.empty() || ledger_.inFlight(); }
  Task<void> settleNames();
  // Statement name a Parse, Bind, Describe or Close names ("" for none or the unnamed one).
  static std::string_view statementNameOf(const protocol::Frame& frame);
  void closeUnit() { ++unitSeq_; }
  // The startup parameters the statements [begin, end) reset; all: RESET ALL / DISCARD ALL.
  std::vector<std::string> startupResets(std::uint64_t begin, std::uint64_t end) const;
  // Appends (pgsplit's own Parse/Bind/Execute) the set_config of each startup value in names,
  // right after the statement that reset them, and marks their records as followed.
  void restoreStartup(backend::BackendConnection& target, const std::vector<std::string>& names,
                      std::uint64_t begin, std::uint64_t end);
  // Every message of the unit is pgsplit's to answer (Close of managed statements + Sync).
  bool answerableLocally() const;
  void abandonBatch();
  // Records the replies the batch expects from `target`; true if what goes out was written into
  // wire_ (rewritten), false if batch_ goes out as it is.
  // (batch, ops: the unit's messages; unit: its number, stamped on every reply it expects.)
  bool renderBatch(backend::BackendConnection& target, bool endsWithSync, const std::string& batch,
                   const std::vector<BatchOp>& ops, std::uint64_t unit);
  // A request the server must fail (the batch or transaction fails as on PostgreSQL), whose
  // error the client gets as `error`: a Parse that cannot succeed.
  void sendFailure(PendingReply e, const protocol::ErrorSpec& error);
  void ensurePrepared(backend::BackendConnection& target, const backend::StatementRef& s);
  // Prepares s on target with `entry` as its reply (closing the LRU statement if over the limit).
  void sendParse(backend::BackendConnection& target, const backend::StatementRef& s,
                 PendingReply entry);
  // Before a Bind/Describe of the unnamed statement parsed in an earlier unit: make `target` hold
  // this client's (or, if it has none, none at all, so the server says it does not exist).
  void ensureUnnamed(backend::BackendConnection& target);
  bool needsUnnamed(const backend::BackendConnection& target) const;
  bool pushReply(PendingReply entry);
  // Settings: the SQL bringing `target` in line with this client's settings, sent ahead of
  // the unit in the same write.
  void syncSettings(backend::BackendConnection& target);
  void applyEffects(std::vector<sql::SessionEffect>& effects, backend::BackendConnection* conn);
  void setSetting(const std::string& name, const std::string* sql);
  void resetAllSettings();

  // --- backends and the relay (client_relay.cpp) ---
  Task<backend::BackendConnection::Ptr> acquire(int node, protocol::ErrorSpec& error,
                                                std::string& errorText);
  // acquire() when it need not suspend: the node's backend is active or held, or its pool has
  // one idle. Null: acquire() must wait (or the session is closed).
  backend::BackendConnection::Ptr acquireNow(int node);
  void attach(backend::BackendConnection::Ptr conn);
  // Relays the active backend's replies to the client; runs for the whole session.
  static Task<void> relay(std::shared_ptr<ClientSession> self);
  Task<bool> relayOnce(backend::BackendConnection::Ptr conn);
  // At ReadyForQuery with nothing outstanding: may the active backend be let go?
  bool releasable(char status) const;
  // The session is over: each backend goes back to its pool, reset if the client left state on it
  // (a transaction: ROLLBACK; session mode or a pin: DISCARD ALL), closed if anything about it is
  // uncertain (a reply not read to its end, a COPY, a batch half sent).
  void returnBackends();
  void wake();
  // Sends the armed unit (see retry_) again, on the primary, from the relay.
  Task<void> retryElsewhere(const char* why);
  // ReplyListener: what the active backend's replies mean for the session.
  bool readyForQuery(const PendingReply& entry, char status, bool failed) override;
  void statementFailed(const PendingReply& entry) override;
  void commandComplete(std::string_view tag, const PendingReply& entry) override;
  void copyInStarted(bool syncQueued) override;
  void errorResponse(std::string_view body, const PendingReply& entry) override;
  bool parameterStatus(std::string_view body, const PendingReply& entry,
                       std::string& replacement) override;
  // EffectLedger::Listener: what the server's answers mean for the session's state.
  void notRun(EffectLedger::Record& record) override;
  void committed(std::vector<sql::SessionEffect>& effects) override;

  // --- routing rules and clusters (client_rules.cpp) ---
  // The rules of the configuration generation in force, as they apply to this client.
  struct RulesView {
    const ConfigGeneration* generation = nullptr;
    const routing::RuleSet* rules = nullptr;
    routing::RuleMask client;  // the rules whose client conditions hold
    std::size_t cluster = 0;   // the cluster the client's database maps to
  };
  // What the rules decided for a unit of work.
  struct UnitRule {
    const routing::Rule* rule = nullptr;  // the deciding rule, if any
    routing::RouteRequest request;
  };
  // Maps the client to its cluster at login; false (and a FATAL to the client) if no
  // [[clusters]] entry serves its database.
  Task<bool> joinCluster();
  const RulesView& rulesNow();  // refreshed when a reload published a new generation
  // After each statement text is classified (the classifier's lastAnalysis() is this text's).
  void noteRules(std::string_view text, const sql::Classification& c);
  void noteUnnamedRules(std::string_view text, const sql::Classification& c);
  void useUnnamedRules();
  // Whether a rule may decide the unit being formed (then it is routed, never pipelined).
  bool unitMayBeRuled() const { return batchRules_ != nullptr && batchRuleMask_.any(); }
  UnitRule ruleForUnit(bool inTransaction);
  // Counts the rule's hit, and a unit it wanted on a replica that the classifier keeps on the
  // primary (logged at warn once per rule when it is a write, not a read the catalog has not
  // vouched for yet: `cls`).
  void noteRuleDecision(const routing::Rule& rule, bool writeGuarded,
                        const sql::Classification* cls = nullptr);
  // A unit refused by pgsplit (a block rule, or a cluster the session's transaction is not on)
  // with `sqlstate` and `message`. Inside a transaction the refusal goes through the
  // transaction's backend, so that the transaction fails as it would on PostgreSQL.
  Task<bool> refuseUnit(const char* sqlstate, std::string message, bool endsWithSync);
  std::string clusterName(std::size_t cluster) const;

  RulesView rulesView_;
  std::string homeClusterName_;
  std::optional<config::IpAddress> clientAddress_;
  const routing::RuleSet* batchRules_ = nullptr;  // the generation the unit's texts were matched in
  routing::RuleMask batchRuleMask_;
  const routing::RuleSet* unnamedRules_ = nullptr;
  routing::RuleMask unnamedRuleMask_;  // what the unnamed statement's text satisfies

  // --- writing to the client: one write at a time ---
  Task<bool> writeClient(std::string_view bytes);
  // writeClient's first step, which never suspends: with no write under way, what the socket
  // takes goes out now (bytes keeps the rest, for writeClient). False: the client is gone.
  bool writeClientNow(std::string_view& bytes);
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
  std::vector<std::pair<std::string, std::string>> startupParameters_;  // as the client sent them
  std::uint32_t cancelPid_ = 0;
  bool registered_ = false;
  bool counted_ = false;

  // Client input: bytes read but not yet consumed start at inStart_.
  ReadBuffer in_;
  std::size_t inStart_ = 0;

  // The unit of work being formed: raw client messages to forward, and what they are.
  std::string batch_;
  std::vector<BatchOp> batchOps_;
  bool batchNeedsRender_ = false;  // some message names a managed statement
  sql::Classification batchClass_;
  bool batchHasStatement_ = false;
  bool batchWrites_ = false;    // a statement that may change data runs in this unit
  bool skipUntilSync_ = false;  // after an error pgsplit raised itself inside a batch
  bool batchPoisons_ =
      false;             // the unit may drop pgsplit's own statements: never pool that backend
  std::string copyOut_;  // CopyData gathered for one write to the backend
  // The client's unnamed statement: PostgreSQL keeps it until the next Parse "", Close, or simple
  // Query. Like named ones it is prepared again on whichever backend needs it (a backend records
  // whose unnamed statement it holds).
  sql::Classification unnamedStatement_;
  std::vector<sql::SessionEffect> unnamedEffects_;
  std::string unnamedBody_;  // its Parse body after the name
  bool unnamedValid_ = false;
  std::uint64_t unnamedGeneration_ = 0;
  bool copyWriting_ = false;  // CopyData is being written to the active backend
  bool copyIn_ = false;       // the active backend reads CopyData (Syncs are ignored)
  bool absorbSync_ = false;   // the next Sync after the copy is answered by an earlier one
  std::string errorState_;    // SQLSTATE text of an error pgsplit answers itself
  // The client's named prepared statements (name -> shared definition).
  std::unordered_map<std::string, backend::StatementRef, StringHash, std::equal_to<>> statements_;
  std::string wire_;             // a rendered batch
  bool lastEndAccepted_ = true;  // the unit's Sync/Query will be answered (not skipped)
  std::string synthOut_;         // pgsplit's own answers written from the client side
  // Units of work are numbered in client order: unitSeq_ is the one being formed; answeredUnit_
  // the last whose answer pgsplit has taken in (its ReadyForQuery; all sent, after settleNames).
  std::uint64_t unitSeq_ = 1;
  std::uint64_t answeredUnit_ = 0;
  // Session effects in flight and the open transaction's settings (see EffectLedger).
  EffectLedger ledger_;
  // Client statement names a Parse creates or a Close drops, by the unit doing it, until that
  // unit is answered (nameInDoubt).
  std::unordered_map<std::string, std::uint64_t, StringHash, std::equal_to<>> namesInFlight_;
  // Portals bound to a statement with session effects (name -> its effects, the binding unit):
  // the effects count when an Execute runs the portal.
  struct BoundEffects {
    std::vector<sql::SessionEffect> effects;
    std::uint64_t unit = 0;
  };
  std::unordered_map<std::string, BoundEffects, StringHash, std::equal_to<>> portalEffects_;

  // Settings: from the startup packet (name -> set_config SQL, and name -> the value as sent),
  // and in force now (name -> SQL).
  std::map<std::string, std::string, std::less<>> startupSettings_;
  std::map<std::string, std::string, std::less<>> startupValues_;
  std::map<std::string, std::string, std::less<>> settings_;
  std::uint64_t settingsVersion_ = 1;
  bool serializableDefault_ = false;  // default_transaction_isolation is serializable
  void settingsChanged();

  // Backends: per node, the one this session holds (session mode, transactions, pins).
  std::vector<pool::NodePool*> pools_;
  std::vector<backend::BackendConnection::Ptr> held_;
  backend::BackendConnection::Ptr active_;  // the one whose replies are being relayed
  bool relayRunning_ = false;
  bool relayFlushing_ = false;  // the relay holds reply bytes not yet written to the client
  ReplyStream replies_;         // the active backend's replies still expected
  std::string relayOut_;        // replies rewritten for the client
  std::size_t carry_ = 0;       // bytes of a partial reply kept at the start of the read buffer
  bool releaseAfterScan_ = false;
  // Transparent retry: an autocommit read sent to a replica is kept (retry_) until a byte of its
  // reply reaches the client. If the replica refuses it as a write (25006, the classifier's
  // safety net) or goes away first, the relay sends it to the primary instead, once.
  struct RetryUnit {
    std::string batch;
    std::vector<BatchOp> ops;
    sql::Classification cls;
    int node = -1;
    std::uint64_t unit = 0;
  };
  RetryUnit retry_;
  bool armed_ = false;        // retry_ is the unit in flight; nothing of its reply went out
  bool retryWanted_ = false;  // its reply says it must run elsewhere
  const char* retryWhy_ = "";
  bool retryNow_ = false;   // ... and its ReadyForQuery is in: send it again
  bool retrying_ = false;   // the relay is doing so: the client side waits
  int pendingSyncs_ = 0;    // units sent to active_ whose ReadyForQuery is still to come
  bool batchOpen_ = false;  // part of a batch went out on Flush; its Sync is still to come
  // Read-your-writes (see docs/design.md): when this session's last write was acknowledged,
  // and the primary's WAL position sampled after it, which replicas must have replayed.
  bool writeInFlight_ = false;
  bool txnWrote_ = false;         // the open transaction wrote: its end counts as the write
  std::size_t writeCluster_ = 0;  // the cluster of the write in flight (or transaction)
  // Per cluster (index = cluster slot): what the session wrote there (another cluster's
  // replicas never hold it).
  std::vector<routing::WriteRecord> writes_;
  // Across connections: after a unit that wrote on the primary, pgsplit asks the primary for its
  // WAL insert position in the same write (see ReplyStream's capturesLsn) and reports it to the
  // client as ParameterStatus pgsplit.write_lsn before the unit's ReadyForQuery; a client that
  // sets pgsplit.min_lsn to such a position reads only from nodes that have replayed it.
  bool captureLsn_ = false;        // the unit being sent gets the position query
  bool unitMayCopy_ = false;       // the unit's text mentions COPY: no query may follow it
  std::uint64_t capturedLsn_ = 0;  // the position after the unit whose ReadyForQuery is next
  std::uint64_t reportedLsn_ = 0;  // the last pgsplit.write_lsn the client was told
  std::uint64_t minLsnFloor_ = 0;  // pgsplit.min_lsn
  bool badMinLsn_ = false;         // the startup packet's pgsplit.min_lsn was not an LSN
  std::string badMinLsnValue_;
  void lsnCaptured(std::string_view lsn, char status, std::string& out) override;
  // Whether the unit about to go to `target` gets the position query (see captureLsn_).
  bool wantsWriteLsn(const backend::BackendConnection& target, bool endsWithSync) const;
  // Appends the position query after the unit rendered into wire_ (or batch_, copied).
  void appendWriteLsnQuery(bool rewritten);
  void noteWriteTarget(const sql::Classification& cls, const backend::BackendConnection& target);
  // The write in flight (or the transaction that wrote) was acknowledged; `lsn` is the primary's
  // position captured after it (0: the health checks' next primary sample will say).
  void noteWriteAcknowledged(std::uint64_t lsn);
  void applyReadYourWrites(routing::SessionView& view, const routing::NodeSnapshot& snap,
                           std::size_t cluster);
  bool pinned_ = false;
  const char* pinReason_ = nullptr;
  bool sessionMode_ = false;  // [pool] mode, or the user's pool_mode

  // idle_in_transaction_timeout_ms: armed whenever the session holds a transaction open with
  // nothing in flight; client input since it was armed defuses it.
  std::chrono::milliseconds idleInTxnTimeout_{0};
  asio::steady_timer idleTxnTimer_;
  std::uint64_t clientReads_ = 0;  // completed reads from the client
  std::uint64_t idleTxnArm_ = 0;   // generation of the armed timer
  bool idleInTransaction() const;
  void armIdleInTransaction();

  // Client reads: a small buffer while the client is idle, a big one while it sends a lot.
  bool lastReadFilled_ = false;

  // Wake-up signals between the two coroutines (a timer cancelled = an event).
  Signal clientSignal_;  // the relay settled or the session ends
  Signal relaySignal_;   // a backend was attached or the session ends
  Signal writeSignal_;   // a client write finished
  std::uint64_t nextWriteTicket_ = 0;
  std::uint64_t servingWriteTicket_ = 0;
  // A write to the client is under way or waiting its turn.
  bool writingClient() const { return nextWriteTicket_ != servingWriteTicket_; }
  std::string scratch_;  // messages pgsplit builds itself

  // Operations: timing of units in flight, PAUSE.
  UnitTracker units_;
  bool heldByPause_ = false;  // the unit being formed waits for RESUME
  bool routingUnit_ = false;  // a unit passed the pause and is being routed (checkout, write)
};

}  // namespace pgsplit::session
