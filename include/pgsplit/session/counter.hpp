#pragma once
// A counter of one worker. Only the worker's thread writes it (a relaxed load + store: a plain
// add, no locked instruction); scrapes read it from any thread with a relaxed load and sum over
// the workers.
#include <atomic>
#include <cstdint>

namespace pgsplit::session {

class Counter {
 public:
  void add(std::uint64_t n = 1) {
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  std::uint64_t get() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

}  // namespace pgsplit::session
