#pragma once
// What a pooled backend connection carries between clients that pgsplit must know about: the
// prepared statements it holds (under pgsplit's names) and the settings applied to it.
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "pgsplit/sql/classifier.hpp"
#include "pgsplit/sql/session_effects.hpp"

namespace pgsplit::backend {

// One statement text a client prepared, shared by every client (of one worker) that prepares the
// same text: it has one name on every backend of that worker. Routing classifies it per client
// (the catalog judging it depends on the client's database and user), a cache hit per Bind.
struct StatementDef {
  std::string serverName;  // "pgsplit_<n>": the name it has on backends
  std::string body;        // the Parse body after the name: query\0, int16 count, int32 types
  std::string_view query;  // view into body
  std::vector<sql::SessionEffect> effects;  // a prepared SET/RESET/DISCARD...
};
using StatementRef = std::shared_ptr<const StatementDef>;

// Statements prepared on one backend, least recently used first out.
class PreparedSet {
 public:
  explicit PreparedSet(std::size_t capacity = 256) : capacity_(capacity ? capacity : 1) {}
  void setCapacity(std::size_t capacity) { capacity_ = capacity ? capacity : 1; }

  // True (and marks it used) if the backend holds the statement.
  bool use(const StatementDef* s) {
    auto it = index_.find(s);
    if (it == index_.end()) return false;
    lru_.splice(lru_.end(), lru_, it->second);
    return true;
  }
  bool contains(const StatementDef* s) const { return index_.count(s) != 0; }
  // Records s as prepared. When that leaves the set over capacity, the least recently used
  // statement is returned: the caller closes it on the backend.
  StatementRef insert(StatementRef s) {
    if (use(s.get())) return nullptr;
    const StatementDef* key = s.get();
    lru_.push_back(std::move(s));
    index_[key] = std::prev(lru_.end());
    if (lru_.size() <= capacity_) return nullptr;
    StatementRef evicted = std::move(lru_.front());
    index_.erase(evicted.get());
    lru_.pop_front();
    return evicted;
  }
  // Puts back a statement whose Close did not happen (no eviction: it is on the server).
  void restore(StatementRef s) {
    if (contains(s.get())) return;
    const StatementDef* key = s.get();
    lru_.push_front(std::move(s));
    index_[key] = lru_.begin();
  }
  // Puts back what a DEALLOCATE ALL that did not run took away (older than what is here now).
  void restoreAll(PreparedSet&& before) {
    for (auto it = before.lru_.rbegin(); it != before.lru_.rend(); ++it)
      restore(*it);
    before.clear();
  }
  void erase(const StatementDef* s) {
    auto it = index_.find(s);
    if (it == index_.end()) return;
    lru_.erase(it->second);
    index_.erase(it);
  }
  void clear() {
    index_.clear();
    lru_.clear();
  }
  std::size_t size() const { return lru_.size(); }

 private:
  std::size_t capacity_;
  std::list<StatementRef> lru_;
  std::unordered_map<const StatementDef*, std::list<StatementRef>::iterator> index_;
};

struct ServerState {
  PreparedSet prepared;
  // Parameters that differ from the login defaults: name -> the SQL that set them.
  std::map<std::string, std::string, std::less<>> settings;
  bool settingsUnknown = false;  // something failed: RESET ALL before the next client's work
  // Whose unnamed statement the backend holds (session id and that session's Parse count);
  // 0: none of any client pgsplit knows about.
  std::uint64_t unnamedOwner = 0;
  std::uint64_t unnamedGeneration = 0;
  // The session (id) and its settings version this backend was last brought in line with.
  std::uint64_t syncedSession = 0;
  std::uint64_t syncedVersion = 0;
};

}  // namespace pgsplit::backend
