#pragma once
// Times one session's units of work, from being written to a backend until their
// ReadyForQuery has been written to the client, and hands each result to the worker: the
// latency histograms per node and route, the statement statistics (SHOW QUERIES), and the
// slow-statement log.
//
// The clock is read once when a unit is sent (the read that ends a pool checkout serves for the
// unit it was made for) and once per relay write that delivers answers, for all the units it
// answers: never per message. A unit sent in parts (Flush, then the rest up to Sync) is timed
// from its first part; units pgsplit answers itself are not timed.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "pgsplit/session/query_stats.hpp"
#include "pgsplit/session/reply_stream.hpp"

namespace pgsplit::session {

class WorkerContext;

class UnitTracker {
 public:
  using Clock = std::chrono::steady_clock;

  // A statement the unit being formed executes (its fingerprint; 0: unknown). The unit's key
  // combines its statements, repeats of one statement counting once.
  void noteStatement(std::uint64_t fingerprint) {
    if (fingerprint == 0 || fingerprint == last_) return;
    key_ = key_ == 0 ? fingerprint : mix(key_, fingerprint);
    last_ = fingerprint;
  }
  std::uint64_t key() const { return key_; }
  // The unit being formed will not be sent.
  void abandon() {
    key_ = last_ = 0;
    checkoutConn_ = nullptr;
  }

  // A connection was just checked out for the unit being formed, at `at`: that is its send time.
  void checkedOut(const void* conn, Clock::time_point at) {
    checkoutConn_ = conn;
    checkoutAt_ = at;
  }
  // ... but not for a unit of the client (a retry sent again on another node).
  void forgetCheckout() { checkoutConn_ = nullptr; }

  // A unit, or a part of one, was written to `conn` (node `node`). flushPart: a part sent on
  // Flush, the rest still to come. answered: the unit ends with a Sync (or is a Query, a
  // FunctionCall) whose ReadyForQuery the client gets. statement: the unit's entry in the
  // worker's QueryStatsTable, if it has one.
  void sent(const void* conn, std::size_t node, bool replica, bool flushPart, bool answered,
            QueryStatsTable::Ref statement);
  // The oldest unit in flight got its ReadyForQuery (its bytes are still to reach the client).
  void answered() {
    if (!inFlight_.empty()) answered_.push_back(inFlight_.pop());
  }
  // The oldest unit in flight will never be answered (a Sync the server ignores in COPY).
  void forget() {
    if (!inFlight_.empty()) inFlight_.pop();
  }
  // Nothing in flight is answered any more (pgsplit answered for it).
  void clear() {
    inFlight_.clear();
    answered_.clear();
    partSent_ = false;
  }
  bool hasAnswered() const { return !answered_.empty(); }
  // The answered units' replies reached the client: their times go to the worker.
  void delivered(WorkerContext& worker, std::uint64_t sessionId);

 private:
  struct Unit {
    Clock::time_point sentAt{};
    QueryStatsTable::Ref statement;
    std::uint32_t node = 0;
    bool replica = false;
  };
  static std::uint64_t mix(std::uint64_t a, std::uint64_t b) {
    return (a ^ (b + 0x9E3779B97F4A7C15ULL + (a << 6) + (a >> 2))) * 0xFF51AFD7ED558CCDULL;
  }

  std::uint64_t key_ = 0;
  std::uint64_t last_ = 0;
  const void* checkoutConn_ = nullptr;
  Clock::time_point checkoutAt_{};
  bool partSent_ = false;  // the first part of a unit went out on Flush
  Clock::time_point partSentAt_{};
  RingQueue<Unit> inFlight_;
  std::vector<Unit> answered_;
};

}  // namespace pgsplit::session
