#include "pgsplit/session/statement_cache.hpp"

#include <atomic>

namespace pgsplit::session {

namespace {
std::atomic<std::uint64_t> nextServerName{1};  // process-wide: see the header
}  // namespace

backend::StatementRef StatementCache::intern(std::string_view body, std::string_view query) {
  if (auto it = map_.find(body); it != map_.end()) return it->second;
  if (map_.size() >= limit_) {
    // Forget texts no client and no backend holds any more.
    std::erase_if(map_, [](const auto& kv) { return kv.second.use_count() == 1; });
  }
  auto def = std::make_shared<backend::StatementDef>();
  def->serverName =
      "pgsplit_" + std::to_string(nextServerName.fetch_add(1, std::memory_order_relaxed));
  def->body.assign(body);
  def->query = std::string_view(def->body).substr(0, query.size());
  // Catalog-free: only for the session effects. Routing classifies per client (database, user).
  if (sql::classify(def->query).setsSessionState || sql::mentionsSessionControl(def->query))
    def->effects = sql::sessionEffects(def->query);
  backend::StatementRef ref = std::move(def);
  map_.emplace(std::string(body), ref);
  return ref;
}

}  // namespace pgsplit::session
