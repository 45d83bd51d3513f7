#pragma once
// The session effects of statements sent to a backend (SET, RESET, DEALLOCATE, DISCARD ALL,
// SAVEPOINT...), kept until the server says whether each statement ran. A statement ran when its
// CommandComplete arrives with its tag; what is still open when its unit's ReadyForQuery arrives
// never ran (an error stopped the text, or the server skipped to Sync). Settings that ran count
// when their transaction commits, followed statement by statement through SAVEPOINT, RELEASE
// and ROLLBACK TO as PostgreSQL keeps them; DEALLOCATE is not transactional and stands once it
// ran. Pure: no I/O, no session; what it decides goes to a listener. Byte-level tests feed it
// through ReplyStream (tests/unit/session_effect_ledger_test.cpp).
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pgsplit/backend/server_state.hpp"
#include "pgsplit/sql/session_effects.hpp"

namespace pgsplit::session {

class EffectLedger {
 public:
  // One statement's effect in flight. The session keeps in it what noting the statement took
  // away from the client's prepared statement names, to give it back if the statement never ran.
  struct Record {
    sql::SessionEffect effect;
    std::uint64_t unit = 0;  // the unit of work that runs it
    enum class State : std::uint8_t { Pending, Ran, Skipped } state = State::Pending;
    backend::StatementRef removed;  // Deallocate: the client's statement of that name
    std::vector<std::pair<std::string, backend::StatementRef>> removedAll;  // ... ALL
    // DeallocateAll / DiscardAll: the backend's prepared set before the statement.
    std::optional<backend::PreparedSet> backendPrepared;
  };

  class Listener {
   public:
    // A statement that never ran: give back what noting it took.
    virtual void notRun(Record& record) = 0;
    // A transaction committed: the session-level effects that ran in it and stand, in order.
    virtual void committed(std::vector<sql::SessionEffect>& effects) = 0;

   protected:
    ~Listener() = default;
  };

  // Records an effect of a statement in `unit`; returns its sequence number (from 1, in order).
  std::uint64_t add(sql::SessionEffect effect, std::uint64_t unit);
  // The record with sequence number seq, if it is still kept.
  Record* find(std::uint64_t seq);
  const Record* find(std::uint64_t seq) const;
  // The sequence number the next add() returns.
  std::uint64_t next() const { return base_ + records_.size(); }
  bool empty() const { return records_.empty() && levels_.empty(); }
  // Statements whose effects the server has not settled yet.
  bool inFlight() const { return !records_.empty(); }
  // The open transaction holds settings (or savepoints) that may yet commit.
  bool inTransaction() const { return !levels_.empty(); }

  // CommandComplete `tag` of a request whose statements' effects are [begin, end): the first
  // open record there whose tag it is ran (records passed over never ran). A COMMIT or ROLLBACK
  // with no record (COMMIT needs none: its tag is its own) ends the transaction all the same.
  void commandComplete(std::string_view tag, std::uint64_t begin, std::uint64_t end,
                       Listener& listener);
  // ReadyForQuery ended `unit` (and every unit before it) with transaction status `status`
  // ('I', 'T', 'E'); failed: an error came since the previous ReadyForQuery. Records of those
  // units that did not run are given back (latest first); at 'I' the transaction is over: its
  // settings commit unless it failed.
  void unitEnded(std::uint64_t unit, char status, bool failed, Listener& listener);
  // `unit` will get no reply at all (nothing was sent, or the server skips it): its records are
  // given back (latest first).
  void abandon(std::uint64_t unit, Listener& listener);

  // Whether a statement of a unit before `unit` may yet forget `name` (a DEALLOCATE of it, or a
  // DEALLOCATE ALL / DISCARD ALL), the server not having said yet.
  bool mayForget(std::uint64_t unit, std::string_view name) const;
  // Whether, among the statements of `unit` that ran, the last one that set parameter `name`
  // reset it (RESET, SET ... TO DEFAULT, RESET ALL, DISCARD ALL).
  bool lastResets(std::uint64_t unit, std::string_view name) const;
  // Savepoint levels of the open transaction that hold effects (tests).
  std::size_t levels() const { return levels_.size(); }

 private:
  struct Level {
    std::string savepoint;  // "" for the transaction itself
    std::vector<sql::SessionEffect> effects;
  };
  void ran(Record& r);
  void commit(Listener& listener);
  void giveBack(std::size_t from, std::size_t to, Listener& listener);
  Level& top();
  // The innermost level of that savepoint name (never the transaction's own), or -1.
  int levelOf(std::string_view savepoint) const;

  std::deque<Record> records_;  // records_[i] has sequence number base_ + i
  std::uint64_t base_ = 1;
  std::vector<Level> levels_;  // the open transaction's settings, by savepoint
};

}  // namespace pgsplit::session
