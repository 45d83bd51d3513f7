#pragma once
// The statements clients of one worker prepared, by text: each distinct text is classified once
// and gets one server-side name that every backend of the worker uses for it, so a backend's
// prepared statements serve every client in transaction pooling. Names are unique in the whole
// process, not per worker: a backend connection can move to another worker (pool hand-over)
// with the statements it holds, and the new worker's names must not collide with them.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "pgsplit/backend/server_state.hpp"

namespace pgsplit::session {

// Lets unordered maps keyed by std::string be searched with a string_view (no allocation).
struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

class StatementCache {
 public:
  explicit StatementCache(std::size_t limit = 10000) : limit_(limit) {}

  // The definition for a Parse body (query\0, int16 count, int32 types) whose query is `query`.
  backend::StatementRef intern(std::string_view body, std::string_view query);
  std::size_t size() const { return map_.size(); }

 private:
  std::unordered_map<std::string, backend::StatementRef, StringHash, std::equal_to<>> map_;
  std::size_t limit_;
};

}  // namespace pgsplit::session
