#include "pgsplit/session/pause_board.hpp"

namespace pgsplit::session {

bool PauseBoard::holds(std::string_view database) const {
  std::lock_guard lock(mutex_);
  return all_ || databases_.find(database) != databases_.end();
}

void PauseBoard::pause(const std::string& database) {
  std::lock_guard lock(mutex_);
  if (database.empty())
    all_ = true;
  else
    databases_.insert(database);
  active_.store(true, std::memory_order_release);
}

PauseBoard::ResumeResult PauseBoard::resume(const std::string& database) {
  std::lock_guard lock(mutex_);
  ResumeResult result = ResumeResult::NotPaused;
  if (database.empty()) {
    if (all_ || !databases_.empty()) result = ResumeResult::Resumed;
    all_ = false;
    databases_.clear();
  } else if (databases_.erase(database) > 0) {
    result = ResumeResult::Resumed;
  } else if (all_) {
    result = ResumeResult::OnlyAllPaused;
  }
  active_.store(all_ || !databases_.empty(), std::memory_order_release);
  return result;
}

PauseBoard::State PauseBoard::state() const {
  std::lock_guard lock(mutex_);
  return {all_, std::vector<std::string>(databases_.begin(), databases_.end())};
}

}  // namespace pgsplit::session
