#pragma once
// PAUSE / RESUME (admin console), PgBouncer's semantics: while a pause holds a client's database,
// the client's next unit of work that would start outside a transaction waits (the client is not
// told; it just waits) until RESUME. Units in flight and open transactions go on; PAUSE itself
// returns once none is left. Sessions look at active() only: one relaxed load per unit.
#include <atomic>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace pgsplit::session {

class PauseBoard {
 public:
  // Something is paused (the only check on the data path).
  bool active() const { return active_.load(std::memory_order_acquire); }
  // A pause holds `database` (takes the lock: call only when active()).
  bool holds(std::string_view database) const;

  // Pauses one database, or every one when `database` is empty.
  void pause(const std::string& database);
  enum class ResumeResult { Resumed, NotPaused, OnlyAllPaused };
  // Lifts the pause of one database (OnlyAllPaused: everything is paused, which only a RESUME
  // without a database lifts), or every pause when `database` is empty.
  ResumeResult resume(const std::string& database);

  struct State {
    bool all = false;
    std::vector<std::string> databases;
  };
  State state() const;

 private:
  mutable std::mutex mutex_;
  std::atomic<bool> active_{false};
  bool all_ = false;
  std::set<std::string, std::less<>> databases_;
};

}  // namespace pgsplit::session
