#include "pgsplit/sql/caching_classifier.hpp"

#include <bit>
#include <cstring>

#include "final_mix.hpp"
#include "pgsplit/sql/normalizer.hpp"

namespace pgsplit::sql {

namespace {

constexpr std::size_t kMaxScopesPerWorker = 4096;

std::uint64_t load64(const char* p) {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

constexpr std::uint64_t kPrime1 = 0x9E3779B185EBCA87ULL;
constexpr std::uint64_t kPrime2 = 0xC2B2AE3D27D4EB4FULL;
constexpr std::uint64_t kPrime3 = 0x165667B19E3779F9ULL;
constexpr std::uint64_t kPrime4 = 0x85EBCA77C2B2AE63ULL;

std::uint64_t lane(std::uint64_t acc, std::uint64_t word) {
  return std::rotl(acc + word * kPrime2, 31) * kPrime1;
}

std::size_t roundUpPow2(std::size_t n) {
  std::size_t p = 16;
  while (p < n)
    p <<= 1;
  return p;
}

}  // namespace

std::uint64_t hashText(std::string_view text) {
  const char* p = text.data();
  std::size_t n = text.size();
  // Four independent lanes keep the multiplier busy: about a byte per cycle on 1 KB texts.
  std::uint64_t a = kPrime1 + kPrime2, b = kPrime2, c = 0, d = 0 - kPrime1;
  while (n >= 32) {
    a = lane(a, load64(p));
    b = lane(b, load64(p + 8));
    c = lane(c, load64(p + 16));
    d = lane(d, load64(p + 24));
    p += 32;
    n -= 32;
  }
  std::uint64_t h = std::rotl(a, 1) + std::rotl(b, 7) + std::rotl(c, 12) + std::rotl(d, 18);
  h += kPrime4 * text.size();
  while (n >= 8) {
    h = std::rotl(h ^ lane(0, load64(p)), 27) * kPrime1 + kPrime4;
    p += 8;
    n -= 8;
  }
  std::uint64_t tail = 0;
  std::memcpy(&tail, p, n);
  h = std::rotl(h ^ (tail * kPrime3), 23) * kPrime2 + kPrime3;
  return detail::finalMix(h);
}

struct CachingClassifier::Entry {
  std::uint64_t hash = 0;         // the table's key: hashText(text), or the shape's check
  std::uint64_t fingerprint = 0;  // statementFingerprint(text)
  std::string text;               // text entries only
  Analysis analysis;
  // The last resolution against the catalog, valid while the board's generation holds.
  ScopeId memoScope = kNoScope;
  std::uint64_t memoGeneration = 0;
  Classification memo;
  bool referenced = false;  // CLOCK: used since the hand last passed
  bool used = false;
};

namespace {

// Whether an analysis holds for every text of its shape, whatever their constants: a plain read
// or a plain write (DML, CALL, DO, LOCK, ...), each decided by its tokens alone. Not SET or
// RESET (a value may make it pin), transaction control (BEGIN ISOLATION LEVEL ..., PREPARE
// TRANSACTION 'gid'), DDL (CREATE FUNCTION bodies, and the catalog facts it makes stale), a
// pin, a hint, nor a verdict that read a constant's value (EXPLAIN (ANALYZE 'off')).
bool holdsForShape(const Analysis& a) {
  const Classification& c = a.classification;
  if (a.readsConstants || c.pins || c.setsSessionState || c.hint != Hint::None ||
      c.txnStart != TxnStart::None || !a.catalogChanges.empty()) {
    return false;
  }
  return c.kinds != 0 && (c.kinds & ~(kReadStatement | kWriteStatement)) == 0;
}

}  // namespace

CachingClassifier::CachingClassifier(CatalogBoard* board, ClassifierCounters* counters,
                                     std::size_t capacity, std::size_t shapeCapacity)
    : board_(board),
      counters_(counters),
      texts_(capacity, stats_.evictions),
      shapes_(capacity > 0 ? shapeCapacity : 0, stats_.shapeEvictions) {
  if (board_ != nullptr) {
    generation_ = board_->generation();
    overrides_ = board_->overrides();
  }
}

CachingClassifier::~CachingClassifier() = default;

Classification CachingClassifier::classify(std::string_view text, std::string_view database,
                                           std::string_view user) {
  const ScopeId scope =
      (board_ != nullptr && board_->lookupsEnabled()) ? scopeOf(database, user) : kNoScope;
  return classifyIn(text, scope);
}

Classification CachingClassifier::classify(std::string_view text) {
  return classifyIn(text, kNoScope);
}

Classification CachingClassifier::classifyIn(std::string_view text, ScopeId scope) {
  syncWithBoard();
  if (texts_.capacity() == 0 || text.size() > kMaxCachedText) {
    bump(stats_.misses);
    uncached_ = analyze(text, overrides_.get());
    last_ = &uncached_;
    Classification c = finish(uncached_, nullptr, scope);
    c.fingerprint = statementFingerprint(text);
    return c;
  }
  const std::uint64_t hash = hashText(text);
  if (Entry* e = texts_.find(hash, [text](const Entry& x) { return x.text == text; })) {
    e->referenced = true;
    bump(stats_.hits);
    last_ = &e->analysis;
    Classification c = finish(e->analysis, e, scope);
    c.fingerprint = e->fingerprint;
    return c;
  }

  // A text of the same shape may have been analysed: one lexer pass instead of an analysis.
  const StatementShape shape = statementShape(text);
  const auto sameShape = [&shape](const Entry& x) { return x.fingerprint == shape.fingerprint; };
  Entry* model = shape.shareable() ? shapes_.find(shape.check, sameShape) : nullptr;
  if (model != nullptr) {
    model->referenced = true;
    bump(stats_.shapeHits);
  } else {
    bump(stats_.misses);
    uncached_ = analyze(text, overrides_.get());
    if (shape.shareable() && holdsForShape(uncached_) && shapes_.admit(shape.check)) {
      model = &shapes_.insert(shape.check);
      model->fingerprint = shape.fingerprint;
      model->analysis = std::move(uncached_);
    }
  }

  // Text seen once (a simple-protocol statement with its literals inline) is not cached:
  // it would push out the statements that do repeat.
  Entry* entry = model;
  if (texts_.admit(hash)) {
    entry = &texts_.insert(hash);
    entry->text.assign(text);
    entry->fingerprint = shape.fingerprint;
    if (model != nullptr) {
      entry->analysis = model->analysis;
      entry->memoScope = model->memoScope;
      entry->memoGeneration = model->memoGeneration;
      entry->memo = model->memo;
    } else {
      entry->analysis = std::move(uncached_);
    }
  }
  last_ = entry != nullptr ? &entry->analysis : &uncached_;
  Classification c = finish(*last_, entry, scope);
  c.fingerprint = shape.fingerprint;
  return c;
}

Classification CachingClassifier::finish(const Analysis& analysis, Entry* entry, ScopeId scope) {
  if (!analysis.catalogChanges.empty() && board_ != nullptr) {
    board_->invalidate(analysis.catalogChanges);
  }
  Classification c;
  if (!analysis.needsCatalog()) {
    c = analysis.classification;
  } else if (scope == kNoScope) {
    c = resolve(analysis, nullptr);
  } else if (entry != nullptr && entry->memoScope == scope &&
             entry->memoGeneration == generation_) {
    c = entry->memo;
  } else {
    Misses misses;
    c = resolve(analysis, snapshotOf(scope), &misses);
    requestMisses(scope, misses);
    if (entry != nullptr) {
      entry->memoScope = scope;
      entry->memoGeneration = generation_;
      entry->memo = c;
    }
  }
  // (The session logs it, with its id, when it routes the unit.)
  if (c.hint == Hint::Replica && !c.readOnly && c.txnStart != TxnStart::ReadOnly &&
      counters_ != nullptr)
    counters_->ignoredReplicaHints.fetch_add(1, std::memory_order_relaxed);
  return c;
}

void CachingClassifier::syncWithBoard() {
  if (board_ == nullptr) return;
  const std::uint64_t generation = board_->generation();
  if (generation == generation_) return;
  generation_ = generation;
  auto overrides = board_->overrides();
  if (overrides != overrides_) {
    overrides_ = std::move(overrides);
    clear();  // every entry was analysed with the old lists
  }
  for (auto& s : snapshots_)
    s.reset();  // fetched again when needed
  requested_.clear();
}

ScopeId CachingClassifier::scopeOf(std::string_view database, std::string_view user) {
  if (lastScope_ < scopes_.size()) {
    const KnownScope& k = scopes_[lastScope_];
    if (k.database == database && k.user == user) return k.id;
  }
  for (std::size_t i = 0; i < scopes_.size(); ++i) {
    if (scopes_[i].database == database && scopes_[i].user == user) {
      lastScope_ = i;
      return scopes_[i].id;
    }
  }
  const ScopeId id = board_->scope(database, user);
  if (scopes_.size() < kMaxScopesPerWorker) {
    scopes_.push_back({std::string(database), std::string(user), id});
    lastScope_ = scopes_.size() - 1;
  }
  return id;
}

const CatalogSnapshot* CachingClassifier::snapshotOf(ScopeId scope) {
  if (scope >= snapshots_.size()) snapshots_.resize(scope + 1);
  auto& s = snapshots_[scope];
  if (!s) s = board_->snapshot(scope);
  return s.get();
}

void CachingClassifier::requestMisses(ScopeId scope, const Misses& misses) {
  if (misses.empty()) return;
  Misses fresh;
  auto note = [&](char kind, const std::string& key, std::vector<std::string>& out) {
    std::string tag(1, kind);
    tag.append(reinterpret_cast<const char*>(&scope), sizeof scope);
    tag += key;
    if (requested_.insert(std::move(tag)).second) out.push_back(key);
  };
  for (const std::string& key : misses.functions)
    note('f', key, fresh.functions);
  for (const std::string& key : misses.relations)
    note('r', key, fresh.relations);
  board_->request(scope, fresh);
}

CachingClassifier::Table::Table(std::size_t capacity, std::atomic<std::uint64_t>& evictions)
    : capacity_(capacity), evictions_(&evictions) {
  if (capacity_ > 0) {
    index_.assign(roundUpPow2(capacity_ * 2), 0);
    seen_.assign(roundUpPow2(capacity_ * 4), 0);
  }
}

CachingClassifier::Table::~Table() = default;

template <class Same>
CachingClassifier::Entry* CachingClassifier::Table::find(std::uint64_t hash, Same same) {
  if (index_.empty()) return nullptr;
  const std::size_t mask = index_.size() - 1;
  for (std::size_t i = hash & mask; index_[i] != 0; i = (i + 1) & mask) {
    Entry& e = entries_[index_[i] - 1];
    if (e.hash == hash && same(e)) return &e;
  }
  return nullptr;
}

// A lossy "seen once" filter: two candidate slots per hash, so two that keep colliding on one
// slot still get in.
bool CachingClassifier::Table::admit(std::uint64_t hash) {
  if (seen_.empty()) return false;
  const std::size_t mask = seen_.size() - 1;
  std::uint64_t& first = seen_[(hash >> 20) & mask];
  std::uint64_t& second = seen_[(hash >> 42) & mask];
  if (first == hash || second == hash) {
    (first == hash ? first : second) = 0;
    return true;
  }
  (first == 0 ? first : second) = hash;
  return false;
}

CachingClassifier::Entry& CachingClassifier::Table::insert(std::uint64_t hash) {
  std::size_t pos;
  if (free_.empty() && entries_.size() < capacity_) {
    entries_.emplace_back();
    pos = entries_.size() - 1;
  } else {
    if (free_.empty()) evictOne();
    pos = free_.back();
    free_.pop_back();
  }
  Entry& e = entries_[pos];
  e.hash = hash;
  e.memoScope = kNoScope;
  e.referenced = false;
  e.used = true;
  ++used_;
  const std::size_t mask = index_.size() - 1;
  std::size_t i = hash & mask;
  while (index_[i] != 0)
    i = (i + 1) & mask;
  index_[i] = static_cast<std::uint32_t>(pos + 1);
  return e;
}

void CachingClassifier::Table::evictOne() {
  for (std::size_t steps = 0; steps <= 2 * entries_.size(); ++steps) {
    if (hand_ >= entries_.size()) hand_ = 0;
    Entry& e = entries_[hand_];
    const std::size_t pos = hand_++;
    if (!e.used) continue;
    if (e.referenced) {
      e.referenced = false;  // a second chance
      continue;
    }
    eraseFromIndex(pos);
    e.used = false;
    e.analysis = {};
    free_.push_back(pos);
    --used_;
    bump(*evictions_);
    return;
  }
}

// Linear probing with backward-shift deletion: no tombstones, lookups stay short.
void CachingClassifier::Table::eraseFromIndex(std::size_t entry) {
  const std::size_t mask = index_.size() - 1;
  std::size_t i = entries_[entry].hash & mask;
  while (index_[i] != entry + 1)
    i = (i + 1) & mask;
  index_[i] = 0;
  for (std::size_t j = (i + 1) & mask; index_[j] != 0; j = (j + 1) & mask) {
    const std::size_t home = entries_[index_[j] - 1].hash & mask;
    // Move j's entry into the hole unless its home lies cyclically in (i, j].
    const bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
    if (stays) continue;
    index_[i] = index_[j];
    index_[j] = 0;
    i = j;
  }
}

void CachingClassifier::Table::clear() {
  entries_.clear();
  free_.clear();
  std::fill(index_.begin(), index_.end(), 0);
  hand_ = 0;
  used_ = 0;
}

void CachingClassifier::clear() {
  texts_.clear();
  shapes_.clear();
}

}  // namespace pgsplit::sql
