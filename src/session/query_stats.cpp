#include "pgsplit/session/query_stats.hpp"

#include <algorithm>

#include "pgsplit/sql/normalizer.hpp"

namespace pgsplit::session {

QueryStatsTable::QueryStatsTable()
    : entries_(kCapacity),
      calls_(kCapacity, 0),
      index_(kCapacity * 2, 0),
      seen_(kCapacity * 2, 0) {}

std::size_t QueryStatsTable::probe(std::uint64_t key) const {
  const std::size_t mask = index_.size() - 1;
  std::size_t i = key & mask;
  while (index_[i] != 0 && entries_[index_[i] - 1].key != key)
    i = (i + 1) & mask;
  return i;
}

QueryStatsTable::Ref QueryStatsTable::find(std::uint64_t key) const {
  if (key == 0) return {};
  const std::size_t i = probe(key);
  if (index_[i] == 0) return {};
  return {static_cast<std::uint32_t>(index_[i] - 1), key};
}

QueryStatsTable::Ref QueryStatsTable::enter(std::uint64_t key, std::string_view text) {
  if (key == 0) return {};
  std::size_t i = probe(key);
  if (index_[i] != 0) return {static_cast<std::uint32_t>(index_[i] - 1), key};
  std::uint32_t slot;
  if (used_ < kCapacity) {
    slot = static_cast<std::uint32_t>(used_++);
  } else {
    if (!admit(key)) return {};
    slot = victim();
    unindex(slot);
    ++evictions_;
    i = probe(key);  // the removal may have moved entries
  }
  Entry& e = entries_[slot];
  e.key = key;
  calls_[slot] = 0;
  e.totalNanos = 0;
  e.asReplica = 0;
  e.truncated = text.size() > kMaxTextBytes;
  if (e.truncated) {
    std::size_t cut = kMaxTextBytes;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80)
      --cut;  // at a UTF-8 character boundary
    text = text.substr(0, cut);
  }
  e.text.assign(text);
  e.normalized.clear();
  index_[i] = static_cast<std::uint16_t>(slot + 1);
  return {slot, key};
}

void QueryStatsTable::record(Ref ref, std::uint64_t nanos, bool replica) {
  if (!ref.valid() || ref.slot >= entries_.size()) return;
  Entry& e = entries_[ref.slot];
  if (e.key != ref.key) return;
  ++calls_[ref.slot];
  e.totalNanos += nanos;
  if (replica) ++e.asReplica;
}

std::string_view QueryStatsTable::normalizedText(Ref ref) {
  if (!ref.valid() || ref.slot >= entries_.size()) return {};
  Entry& e = entries_[ref.slot];
  if (e.key != ref.key) return {};
  if (e.normalized.empty()) {
    e.normalized = sql::normalizeStatement(e.text);
    if (e.truncated && !e.normalized.ends_with("...")) e.normalized += " ...";
  }
  return e.normalized;
}

std::vector<QueryStatsRow> QueryStatsTable::rows() {
  std::vector<QueryStatsRow> out;
  out.reserve(used_);
  for (std::size_t slot = 0; slot < used_; ++slot) {
    const Entry& e = entries_[slot];
    if (e.key == 0 || calls_[slot] == 0) continue;
    QueryStatsRow r;
    r.key = e.key;
    r.text = std::string(normalizedText({static_cast<std::uint32_t>(slot), e.key}));
    r.calls = calls_[slot];
    r.totalNanos = e.totalNanos;
    r.asReplica = e.asReplica;
    r.asPrimary = r.calls - e.asReplica;
    out.push_back(std::move(r));
  }
  return out;
}

// The least-called entry (a scan of the packed counts: a few hundred nanoseconds, paid only when
// a statement that ran twice enters a full table).
std::uint32_t QueryStatsTable::victim() const {
  return static_cast<std::uint32_t>(std::min_element(calls_.begin(), calls_.end()) -
                                    calls_.begin());
}

// A lossy "seen once" filter: true the second time a key is offered.
bool QueryStatsTable::admit(std::uint64_t key) {
  std::uint64_t& slot = seen_[(key >> 17) & (seen_.size() - 1)];
  if (slot == key) {
    slot = 0;
    return true;
  }
  slot = key;
  return false;
}

// Linear probing with backward-shift deletion (no tombstones).
void QueryStatsTable::unindex(std::size_t slot) {
  const std::size_t mask = index_.size() - 1;
  std::size_t i = probe(entries_[slot].key);
  if (index_[i] == 0) return;
  index_[i] = 0;
  for (std::size_t j = (i + 1) & mask; index_[j] != 0; j = (j + 1) & mask) {
    const std::size_t home = entries_[index_[j] - 1].key & mask;
    // Move j's entry into the hole unless its home lies cyclically in (i, j].
    const bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
    if (stays) continue;
    index_[i] = index_[j];
    index_[j] = 0;
    i = j;
  }
}

}  // namespace pgsplit::session
