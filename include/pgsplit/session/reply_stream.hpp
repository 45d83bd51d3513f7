#pragma once
// The replies of one backend, matched to the requests that caused them. pgsplit sometimes sends
// requests the client did not (a Parse of a statement this backend lacks, the SETs that bring the
// backend in line with the client's settings, a Close to make room) and answers some of the
// client's itself (a Parse the backend already holds, a Close of a statement that stays cached).
// ReplyStream keeps the queue of replies still expected, in order, and, scanning only message
// headers, relays what the client asked for in bulk, drops the replies it did not ask for, and
// inserts pgsplit's own answers at their place. Pure: no I/O, no clock, byte-level testable.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "pgsplit/backend/server_state.hpp"

namespace pgsplit::session {

// One request whose reply is still to come, in the order the requests went out.
struct PendingReply {
  // The frontend message: 'P' Parse, 'B' Bind, 'D' Describe, 'E' Execute, 'C' Close, 'S' Sync,
  // 'Q' Query, 'F' FunctionCall.
  char request = 0;
  bool forClient = true;       // false: pgsplit's own request; its replies are dropped
  bool errorAsNotice = false;  // (pgsplit's own) an error reaches the client as a notice
  bool replaceError = false;   // its (certain) ErrorResponse is replaced by payload
  // (client Sync/Query) its ReadyForQuery waits for the next entry, a capturesLsn Query, and goes
  // to the client after that query's answer (see ReplyListener::lsnCaptured).
  bool holdsReady = false;
  // (pgsplit's own Query, after a unit that wrote) SELECT pg_current_wal_insert_lsn(): its rows
  // are read, not relayed; its ReadyForQuery releases the held one.
  bool capturesLsn = false;
  // Not sent: pgsplit answers it itself, in order: '1' ParseComplete, '3' CloseComplete, 'C'
  // CommandComplete or 'E' ErrorResponse (payload is the whole message for 'C' and 'E').
  char synthetic = 0;
  // The client's unit of work it belongs to (client requests), and the session effects
  // (EffectLedger sequence numbers [effectsBegin, effectsEnd)) of the statements it runs.
  std::uint64_t unit = 0;
  std::uint64_t effectsBegin = 0;
  std::uint64_t effectsEnd = 0;
  backend::StatementRef statement;  // the named statement this request prepares or closes
  std::string clientName;           // the client's name for it (client Parse/Close)
  std::string payload;
};

class ReplyListener {
 public:
  // ReadyForQuery ended `entry` (a Sync, Query or FunctionCall); failed: an ErrorResponse came
  // since the previous ReadyForQuery. True stops the scan right after this message.
  virtual bool readyForQuery(const PendingReply& entry, char status, bool failed) = 0;
  // A request with a statement did not take effect: it failed, or was skipped after an error.
  virtual void statementFailed(const PendingReply& entry) = 0;
  // CommandComplete of a client request (tag without its NUL), from the server or pgsplit.
  virtual void commandComplete(std::string_view tag, const PendingReply& entry) = 0;
  // The backend entered COPY FROM STDIN. syncQueued: the request was an extended-protocol Execute
  // whose Sync was already sent: the server ignores that Sync (it reads CopyData now) and answers
  // the next one with the ReadyForQuery that Sync expects.
  virtual void copyInStarted(bool syncQueued) = 0;
  // Every ErrorResponse for a request (body complete), before it is relayed.
  virtual void errorResponse(std::string_view body, const PendingReply& entry) = 0;
  // A ParameterStatus (body complete) while a client request is answered: true to send the
  // client `replacement` (a whole message) instead.
  virtual bool parameterStatus(std::string_view body, const PendingReply& entry,
                               std::string& replacement) = 0;
  // A capturesLsn query answered: lsn is its value ("" if it failed), status the held
  // ReadyForQuery's. Whatever is appended to out reaches the client just before that
  // ReadyForQuery (a ParameterStatus); readyForQuery() for the held entry follows.
  virtual void lsnCaptured(std::string_view lsn, char status, std::string& out) {
    (void)lsn;
    (void)status;
    (void)out;
  }

 protected:
  ~ReplyListener() = default;
};

// A FIFO on a reused array: no allocation per request once warm.
template <typename T>
class RingQueue {
 public:
  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }
  T& front() { return items_[head_]; }
  const T& front() const { return items_[head_]; }
  T& operator[](std::size_t i) { return items_[(head_ + i) & (items_.size() - 1)]; }
  void push(T item) {
    if (size_ == items_.size()) grow();
    items_[(head_ + size_) & (items_.size() - 1)] = std::move(item);
    ++size_;
  }
  T pop() {
    T item = std::move(items_[head_]);
    items_[head_] = T{};
    head_ = (head_ + 1) & (items_.size() - 1);
    --size_;
    return item;
  }
  void erase(std::size_t i) {
    for (; i + 1 < size_; ++i)
      (*this)[i] = std::move((*this)[i + 1]);
    (*this)[size_ - 1] = T{};
    --size_;
  }
  void clear() {
    while (!empty())
      pop();
  }

 private:
  void grow() {
    std::vector<T> bigger(items_.empty() ? 16 : items_.size() * 2);
    for (std::size_t i = 0; i < size_; ++i)
      bigger[i] = std::move((*this)[i]);
    items_ = std::move(bigger);
    head_ = 0;
  }
  std::vector<T> items_;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

class ReplyStream {
 public:
  // Interesting messages (ReadyForQuery, ErrorResponse, CommandComplete, ParameterStatus) up to
  // this size are never split: process() leaves a partial one unconsumed for the caller to carry
  // over.
  static constexpr std::size_t kMaxCarry = 8192;

  explicit ReplyStream(std::size_t maxMessageLength = 1u << 30) : maxLength_(maxMessageLength) {}

  enum class Status : std::uint8_t { Ok, Stopped, Malformed };
  struct Result {
    Status status = Status::Ok;
    // Bytes of chunk processed; the rest (a partial message) must be given again with more bytes.
    std::size_t consumed = 0;
    // The client gets `out` instead of chunk[0, consumed).
    bool rewritten = false;
  };

  // Records a request sent to the backend, or answered by pgsplit (synthetic), in stream order.
  // False: the backend is skipping to Sync after an error, so the request gets no reply at all
  // (as PostgreSQL does); the caller undoes what it did for it.
  // Moves from entry only when it returns true.
  bool push(PendingReply&& entry);

  // Processes backend bytes: notifies the listener, and says what the client gets.
  Result process(std::string_view chunk, std::string& out, ReplyListener& listener);

  // At a message boundary with pgsplit's own answers at the head of the queue (nothing from the
  // backend comes before them): appends them to out. True if it did.
  bool takeSynthetic(std::string& out, ReplyListener& listener);
  // Whether takeSynthetic would append anything now.
  bool syntheticReady() const {
    return remaining_ == 0 && !queue_.empty() && queue_.front().synthetic != 0;
  }

  bool idle() const { return queue_.empty() && remaining_ == 0; }
  bool atBoundary() const { return remaining_ == 0; }
  std::size_t pending() const { return queue_.size(); }
  void reset();
  // Forgets the first Sync still expected (the server will never answer it). True if found.
  bool dropQueuedSync();
  // The last request pushed (a client Sync or Query) holds its ReadyForQuery for a capturesLsn
  // query pushed next. False if the last request is not one.
  bool holdLastReady();

 private:
  enum class Action : std::uint8_t { Forward, Drop, AsNotice, Replace, Confused };
  Action decide(char type, std::string_view body, bool whole, ReplyListener& l, bool& stop);
  bool headIsSynthetic() { return !queue_.empty() && queue_.front().synthetic != 0; }
  bool capturing() { return !queue_.empty() && queue_.front().capturesLsn; }
  void emitSynthetic(std::string& out, ReplyListener& l);
  // An error ended an extended-protocol request: it and everything up to the Sync get no reply.
  void skipToSync(ReplyListener& l);
  void popTerminated(char request);

  std::size_t maxLength_;
  RingQueue<PendingReply> queue_;
  std::size_t remaining_ = 0;  // body bytes of the current message still to come
  bool dropping_ = false;      // ... and they are dropped
  bool failed_ = false;        // an error since the last ReadyForQuery
  bool skipping_ = false;      // the backend discards requests until the next Sync we send
  std::string replacement_;    // what Action::Replace puts in place of the server's message
  // A client's ReadyForQuery held for the capturesLsn query that follows it.
  PendingReply held_;
  bool holding_ = false;
  char heldStatus_ = 'I';
  bool heldFailed_ = false;
  std::string captured_;  // the capturesLsn query's value
};

}  // namespace pgsplit::session
