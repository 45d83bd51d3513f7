#include "pgsplit/sql/catalog_board.hpp"

#include <algorithm>

namespace pgsplit::sql {

namespace {

template <typename Map>
std::vector<std::string> keysOf(const Map& map) {
  std::vector<std::string> keys;
  keys.reserve(map.size());
  for (const auto& [key, facts] : map)
    keys.push_back(key);
  return keys;
}

void moveInto(std::unordered_set<std::string>& from, std::vector<std::string>& to) {
  to.insert(to.end(), from.begin(), from.end());
  from.clear();
}

}  // namespace

CatalogBoard::CatalogBoard() : CatalogBoard(Options{}) {}

CatalogBoard::CatalogBoard(Options options)
    : options_(options), overrides_(std::make_shared<FunctionOverrides>()) {}

void CatalogBoard::bump() {
  generation_.fetch_add(1, std::memory_order_acq_rel);
}

ScopeId CatalogBoard::scope(std::string_view database, std::string_view user) {
  if (!options_.lookups) return kNoScope;
  std::lock_guard lock(mutex_);
  for (std::size_t i = 0; i < scopes_.size(); ++i) {
    if (scopes_[i].database == database && scopes_[i].user == user) return static_cast<ScopeId>(i);
  }
  if (scopes_.size() >= options_.maxScopes) return kNoScope;
  Scope s;
  s.database = std::string(database);
  s.user = std::string(user);
  s.snapshot = std::make_shared<CatalogSnapshot>();
  scopes_.push_back(std::move(s));
  return static_cast<ScopeId>(scopes_.size() - 1);
}

std::shared_ptr<const CatalogSnapshot> CatalogBoard::snapshot(ScopeId scope) const {
  std::lock_guard lock(mutex_);
  if (scope >= scopes_.size()) return nullptr;
  return scopes_[scope].snapshot;
}

std::shared_ptr<const FunctionOverrides> CatalogBoard::overrides() const {
  std::lock_guard lock(mutex_);
  return overrides_;
}

void CatalogBoard::setOverrides(std::shared_ptr<const FunctionOverrides> overrides) {
  {
    std::lock_guard lock(mutex_);
    overrides_ = overrides ? std::move(overrides) : std::make_shared<FunctionOverrides>();
  }
  bump();
}

void CatalogBoard::request(ScopeId scope, const Misses& misses) {
  if (misses.empty()) return;
  {
    std::lock_guard lock(mutex_);
    if (scope >= scopes_.size()) return;
    Scope& s = scopes_[scope];
    s.pendingFunctions.insert(misses.functions.begin(), misses.functions.end());
    s.pendingRelations.insert(misses.relations.begin(), misses.relations.end());
  }
  wake_.notify_one();
}

void CatalogBoard::invalidate(std::uint8_t kinds) {
  CatalogChanges c;
  c.kinds = c.whole = kinds;
  invalidate(c);
}

void CatalogBoard::invalidate(const CatalogChanges& c) {
  if (c.empty()) return;
  const std::uint8_t changes = c.kinds;
  // Facts about any object of a named name are stale, whatever its schema (an unqualified
  // name in the DDL may resolve anywhere); so are those of relations that read others.
  std::unordered_set<std::string> functionNames;
  for (const std::string& key : c.functions)
    functionNames.emplace(keyName(key));
  std::unordered_set<std::string> relationNames;
  for (const std::string& key : c.relations)
    relationNames.emplace(keyName(key));
  {
    std::lock_guard lock(mutex_);
    const Clock::time_point now = Clock::now();
    for (Scope& s : scopes_) {
      auto next = std::make_shared<CatalogSnapshot>(*s.snapshot);
      if ((c.whole & kFunctionsChange) != 0) {
        next->functions = std::make_shared<CatalogSnapshot::FunctionMap>();
      } else if ((changes & kFunctionsChange) != 0) {
        auto map = std::make_shared<CatalogSnapshot::FunctionMap>();
        for (const auto& [key, facts] : *s.snapshot->functions) {
          if (functionNames.count(std::string(keyName(key))) == 0) map->emplace(key, facts);
        }
        next->functions = std::move(map);
      }
      if ((c.whole & kRelationsChange) != 0) {
        next->relations = std::make_shared<CatalogSnapshot::RelationMap>();
      } else {
        auto map = std::make_shared<CatalogSnapshot::RelationMap>();
        for (const auto& [key, facts] : *s.snapshot->relations) {
          if (!facts.dependent && relationNames.count(std::string(keyName(key))) == 0) {
            map->emplace(key, facts);
          }
        }
        next->relations = std::move(map);
      }
      s.snapshot = std::move(next);
    }
    if ((changes & kFunctionsChange) != 0) {
      ++functionEpoch_;
      functionsSettleAt_ = now + options_.settle;
    }
    if ((changes & (kFunctionsChange | kRelationsChange)) != 0) {  // views call functions
      ++relationEpoch_;
      relationsSettleAt_ = now + options_.settle;
    }
    refreshAt_ = std::min(refreshAt_, now + options_.recheck);
    bump();
  }
  wake_.notify_one();
}

void CatalogBoard::refreshAll() {
  {
    std::lock_guard lock(mutex_);
    refreshAt_ = Clock::now();
  }
  wake_.notify_one();
}

std::vector<CatalogWork> CatalogBoard::waitForWork(Clock::time_point until) {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    const Clock::time_point now = Clock::now();
    const bool functionsReady = now >= functionsSettleAt_;
    const bool relationsReady = now >= relationsSettleAt_;
    Clock::time_point next = until;
    bool refresh = false;
    if (refreshAt_ <= now) {
      if (functionsReady && relationsReady) {
        refresh = true;
        refreshAt_ = Clock::time_point::max();
      } else {
        next = std::min(next, std::max(functionsSettleAt_, relationsSettleAt_));
      }
    } else {
      next = std::min(next, refreshAt_);
    }

    std::vector<CatalogWork> out;
    for (std::size_t i = 0; i < scopes_.size(); ++i) {
      Scope& s = scopes_[i];
      CatalogWork w;
      w.scope = static_cast<ScopeId>(i);
      w.refresh = refresh;
      w.functionEpoch = functionEpoch_;
      w.relationEpoch = relationEpoch_;
      if (refresh) {
        w.functions = keysOf(*s.snapshot->functions);
        w.relations = keysOf(*s.snapshot->relations);
        moveInto(s.pendingFunctions, w.functions);
        moveInto(s.pendingRelations, w.relations);
      } else if (now < s.retryAt) {
        if (!s.pendingFunctions.empty() || !s.pendingRelations.empty()) {
          next = std::min(next, s.retryAt);
        }
        continue;
      } else {
        if (functionsReady) {
          moveInto(s.pendingFunctions, w.functions);
        } else if (!s.pendingFunctions.empty()) {
          next = std::min(next, functionsSettleAt_);
        }
        if (relationsReady) {
          moveInto(s.pendingRelations, w.relations);
        } else if (!s.pendingRelations.empty()) {
          next = std::min(next, relationsSettleAt_);
        }
      }
      if (w.functions.empty() && w.relations.empty()) continue;
      w.database = s.database;
      w.user = s.user;
      out.push_back(std::move(w));
    }
    if (!out.empty() || now >= until) return out;
    wake_.wait_until(lock, next);
  }
  return {};
}

void CatalogBoard::publish(const CatalogWork& work, CatalogFacts facts) {
  std::lock_guard lock(mutex_);
  if (work.scope >= scopes_.size()) return;
  Scope& s = scopes_[work.scope];
  const bool functionsStale = work.functionEpoch != functionEpoch_;
  const bool relationsStale = work.relationEpoch != relationEpoch_;
  // Looked up before a later DDL: ask again once it has settled.
  if (functionsStale) s.pendingFunctions.insert(work.functions.begin(), work.functions.end());
  if (relationsStale) s.pendingRelations.insert(work.relations.begin(), work.relations.end());

  auto next = std::make_shared<CatalogSnapshot>(*s.snapshot);
  next->reachable = true;
  if (!functionsStale && !work.functions.empty()) {
    const bool fresh = work.refresh || next->functions->size() >= options_.maxFacts;
    auto map = fresh ? std::make_shared<CatalogSnapshot::FunctionMap>()
                     : std::make_shared<CatalogSnapshot::FunctionMap>(*next->functions);
    for (auto& [key, f] : facts.functions)
      (*map)[std::move(key)] = f;
    next->functions = std::move(map);
  }
  if (!relationsStale && !work.relations.empty()) {
    const bool fresh = work.refresh || next->relations->size() >= options_.maxFacts;
    auto map = fresh ? std::make_shared<CatalogSnapshot::RelationMap>()
                     : std::make_shared<CatalogSnapshot::RelationMap>(*next->relations);
    for (auto& [key, r] : facts.relations)
      (*map)[std::move(key)] = r;
    next->relations = std::move(map);
  }
  s.snapshot = std::move(next);
  s.retryAt = {};
  bump();
}

void CatalogBoard::failed(const CatalogWork& work, Clock::duration retryAfter) {
  std::lock_guard lock(mutex_);
  if (work.scope >= scopes_.size()) return;
  Scope& s = scopes_[work.scope];
  s.pendingFunctions.insert(work.functions.begin(), work.functions.end());
  s.pendingRelations.insert(work.relations.begin(), work.relations.end());
  s.retryAt = Clock::now() + retryAfter;
  if (s.snapshot->reachable) {
    auto next = std::make_shared<CatalogSnapshot>(*s.snapshot);
    next->reachable = false;
    s.snapshot = std::move(next);
    bump();
  }
}

void CatalogBoard::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
}

bool CatalogBoard::stopping() const {
  std::lock_guard lock(mutex_);
  return stopping_;
}

}  // namespace pgsplit::sql
