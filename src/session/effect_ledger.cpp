#include "pgsplit/session/effect_ledger.hpp"

namespace pgsplit::session {

using sql::EffectKind;

namespace {

bool isSetting(EffectKind k) {
  return k == EffectKind::Set || k == EffectKind::Reset || k == EffectKind::ResetAll ||
         k == EffectKind::DiscardAll;
}

}  // namespace

std::uint64_t EffectLedger::add(sql::SessionEffect effect, std::uint64_t unit) {
  Record r;
  r.effect = std::move(effect);
  r.unit = unit;
  records_.push_back(std::move(r));
  return next() - 1;
}

EffectLedger::Record* EffectLedger::find(std::uint64_t seq) {
  if (seq < base_ || seq >= next()) return nullptr;
  return &records_[static_cast<std::size_t>(seq - base_)];
}

const EffectLedger::Record* EffectLedger::find(std::uint64_t seq) const {
  if (seq < base_ || seq >= next()) return nullptr;
  return &records_[static_cast<std::size_t>(seq - base_)];
}

EffectLedger::Level& EffectLedger::top() {
  if (levels_.empty()) levels_.emplace_back();
  return levels_.back();
}

int EffectLedger::levelOf(std::string_view savepoint) const {
  for (std::size_t i = levels_.size(); i-- > 1;)
    if (levels_[i].savepoint == savepoint) return static_cast<int>(i);
  return -1;
}

void EffectLedger::commit(Listener& listener) {
  std::vector<sql::SessionEffect> effects;
  for (auto& level : levels_)
    for (auto& e : level.effects)
      effects.push_back(std::move(e));
  levels_.clear();
  if (!effects.empty()) listener.committed(effects);
}

void EffectLedger::ran(Record& r) {
  r.state = Record::State::Ran;
  const sql::SessionEffect& e = r.effect;
  if (isSetting(e.kind)) {
    top().effects.push_back(e);
    return;
  }
  switch (e.kind) {
    case EffectKind::Savepoint:
      top();  // the transaction's own level comes first
      levels_.push_back({e.name, {}});
      break;
    case EffectKind::Release: {
      // The savepoint and every one after it merge into the level below. A name not known
      // here was set before anything pgsplit tracks: everything is above it.
      const int at = levelOf(e.name);
      const std::size_t into = at > 0 ? static_cast<std::size_t>(at) - 1 : 0;
      for (std::size_t i = into + 1; i < levels_.size(); ++i)
        for (auto& moved : levels_[i].effects)
          levels_[into].effects.push_back(std::move(moved));
      if (!levels_.empty()) levels_.resize(into + 1);
      break;
    }
    case EffectKind::RollbackTo: {
      // Undoes what came after the savepoint; the savepoint itself stays.
      const int at = levelOf(e.name);
      if (at < 0) {
        levels_.clear();
      } else {
        levels_.resize(static_cast<std::size_t>(at) + 1);
        levels_.back().effects.clear();
      }
      break;
    }
    default:
      break;  // Deallocate, DeallocateAll (not transactional: they stand), Unsupported, None
  }
}

void EffectLedger::commandComplete(std::string_view tag, std::uint64_t begin, std::uint64_t end,
                                   Listener& listener) {
  if (begin < base_) begin = base_;
  if (end > next()) end = next();
  for (std::uint64_t seq = begin; seq < end; ++seq) {
    Record& r = records_[static_cast<std::size_t>(seq - base_)];
    if (r.state != Record::State::Pending || !sql::tagMatches(r.effect, tag)) continue;
    // Statements recorded before it in this request did not run as recorded (misread text):
    // they count as not run.
    for (std::uint64_t k = begin; k < seq; ++k) {
      Record& skipped = records_[static_cast<std::size_t>(k - base_)];
      if (skipped.state == Record::State::Pending) skipped.state = Record::State::Skipped;
    }
    if (r.effect.kind == EffectKind::Commit || r.effect.kind == EffectKind::Rollback) {
      r.state = Record::State::Ran;
      if (tag == "COMMIT")
        commit(listener);
      else
        levels_.clear();
      return;
    }
    ran(r);
    return;
  }
  if (tag == "COMMIT")
    commit(listener);
  else if (tag == "ROLLBACK")
    levels_.clear();
}

void EffectLedger::giveBack(std::size_t from, std::size_t to, Listener& listener) {
  for (std::size_t i = to; i-- > from;)
    if (records_[i].state != Record::State::Ran) listener.notRun(records_[i]);
}

void EffectLedger::unitEnded(std::uint64_t unit, char status, bool failed, Listener& listener) {
  std::size_t n = 0;
  while (n < records_.size() && records_[n].unit <= unit)
    ++n;
  giveBack(0, n, listener);
  records_.erase(records_.begin(), records_.begin() + static_cast<std::ptrdiff_t>(n));
  base_ += n;
  if (status != 'I' || levels_.empty()) return;
  // The transaction is over (an implicit one ends with its unit): it committed unless it failed.
  if (failed)
    levels_.clear();
  else
    commit(listener);
}

void EffectLedger::abandon(std::uint64_t unit, Listener& listener) {
  std::size_t from = records_.size();
  while (from > 0 && records_[from - 1].unit == unit)
    --from;
  giveBack(from, records_.size(), listener);
  records_.erase(records_.begin() + static_cast<std::ptrdiff_t>(from), records_.end());
}

bool EffectLedger::mayForget(std::uint64_t unit, std::string_view name) const {
  for (const Record& r : records_) {
    if (r.unit >= unit) break;
    if (r.state != Record::State::Pending) continue;
    const EffectKind k = r.effect.kind;
    if (k == EffectKind::DeallocateAll || k == EffectKind::DiscardAll) return true;
    if (k == EffectKind::Deallocate && r.effect.name == name) return true;
  }
  return false;
}

bool EffectLedger::lastResets(std::uint64_t unit, std::string_view name) const {
  bool resets = false;
  for (const Record& r : records_) {
    if (r.unit != unit || r.state != Record::State::Ran) continue;
    const EffectKind k = r.effect.kind;
    if (k == EffectKind::ResetAll || k == EffectKind::DiscardAll)
      resets = true;
    else if ((k == EffectKind::Set || k == EffectKind::Reset) && r.effect.name == name)
      resets = k == EffectKind::Reset;
  }
  return resets;
}

}  // namespace pgsplit::session
