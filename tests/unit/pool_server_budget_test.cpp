// ServerBudget: the process-wide limit per (node, database, user) and the arrival-order queue of
// clients waiting for a slot, with real threads and real io_contexts (no sockets needed).
#include "pgsplit/pool/server_budget.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <random>
#include <thread>
#include <vector>

namespace pgsplit::pool {
namespace {

using Clock = ServerBudget::Clock;

TEST(ServerBudget, SlotsUpToTheLimitThenNone) {
  ServerBudget b(2, 3);
  EXPECT_TRUE(b.tryAcquire());
  EXPECT_TRUE(b.tryAcquire());
  EXPECT_TRUE(b.tryAcquire());
  EXPECT_FALSE(b.tryAcquire());
  EXPECT_EQ(b.open(), 3u);
  b.release();
  EXPECT_EQ(b.open(), 2u);
  EXPECT_TRUE(b.tryAcquire());
}

TEST(ServerBudget, EnqueueTakesAFreeSlotAtOnce) {
  ServerBudget b(1, 1);
  EXPECT_EQ(b.enqueue(0, Clock::now()), 0u);  // 0: a slot was free, taken for the caller
  EXPECT_EQ(b.open(), 1u);
  EXPECT_EQ(b.waiting(), 0u);
}

TEST(ServerBudget, WaitersBlockNewcomersAndAreServedInArrivalOrder) {
  ServerBudget b(2, 1);
  ASSERT_TRUE(b.tryAcquire());
  const auto t0 = Clock::now();
  const std::uint64_t first = b.enqueue(1, t0);
  const std::uint64_t second = b.enqueue(0, t0 + std::chrono::milliseconds(1));
  ASSERT_NE(first, 0u);
  ASSERT_NE(second, 0u);
  EXPECT_LT(first, second);
  EXPECT_EQ(b.waiting(), 2u);
  // Nobody overtakes the queue, even when a slot is free for an instant.
  EXPECT_FALSE(b.tryAcquire());
  // No pool attached for worker 1 (unit test): its granted slot is freed again, and the next
  // waiter (worker 0, no pool either) gets the same treatment; the queue empties in order.
  b.release();
  EXPECT_EQ(b.waiting(), 0u);
  EXPECT_EQ(b.open(), 0u);
}

TEST(ServerBudget, WithdrawLeavesTheQueue) {
  ServerBudget b(2, 1);
  ASSERT_TRUE(b.tryAcquire());
  const std::uint64_t t = b.enqueue(0, Clock::now());
  ASSERT_NE(t, 0u);
  EXPECT_TRUE(b.withdraw(t));
  EXPECT_FALSE(b.withdraw(t));  // already gone
  EXPECT_EQ(b.waiting(), 0u);
  EXPECT_TRUE(b.tryAcquire() == false);  // still full: 1 open
  b.release();
  EXPECT_TRUE(b.tryAcquire());
}

TEST(ServerBudget, RemoteWaiterFirstOnlyPastTheMargin) {
  ServerBudget b(2, 1);
  ASSERT_TRUE(b.tryAcquire());
  const auto t0 = Clock::now();
  ASSERT_NE(b.enqueue(1, t0), 0u);
  const auto margin = std::chrono::milliseconds(20);
  // Worker 0's waiter came 5 ms after worker 1's: within the margin, worker 0 serves its own.
  EXPECT_FALSE(b.remoteWaiterFirst(0, t0 + std::chrono::milliseconds(5), margin));
  // 50 ms after: worker 1's client goes first.
  EXPECT_TRUE(b.remoteWaiterFirst(0, t0 + std::chrono::milliseconds(50), margin));
  // Worker 1's own waiter is never "remote" for worker 1.
  EXPECT_FALSE(b.remoteWaiterFirst(1, t0 + std::chrono::milliseconds(50), margin));
}

TEST(ServerBudget, WarmSlotsStopAtMinIdleAndAtTheLimit) {
  ServerBudget b(2, 3);
  EXPECT_TRUE(b.tryAcquireWarm(2));
  EXPECT_TRUE(b.tryAcquireWarm(2));
  EXPECT_FALSE(b.tryAcquireWarm(2));  // two being opened already
  b.warmDone();
  b.setIdle(0, 1);
  EXPECT_FALSE(b.tryAcquireWarm(2));  // one idle + one opening
  b.warmDone();
  b.setIdle(1, 1);
  EXPECT_FALSE(b.tryAcquireWarm(2));  // two idle
  EXPECT_EQ(b.idleTotal(), 2u);
  EXPECT_TRUE(b.tryAcquireWarm(5));   // the third slot
  EXPECT_FALSE(b.tryAcquireWarm(5));  // the limit
  EXPECT_EQ(b.open(), 3u);
}

TEST(ServerBudget, RaisedLimitFreesSlotsLoweredOneIsOverLimit) {
  ServerBudget b(1, 2);
  ASSERT_TRUE(b.tryAcquire());
  ASSERT_TRUE(b.tryAcquire());
  b.setLimit(1);
  EXPECT_TRUE(b.overLimit());
  b.release();
  EXPECT_FALSE(b.overLimit());
  b.setLimit(4);
  EXPECT_TRUE(b.tryAcquire());
  EXPECT_EQ(b.open(), 2u);
}

// Threads take and give back slots as fast as they can, some through the queue; at no instant are
// more slots held than the limit, and every slot comes back.
TEST(ServerBudget, NeverAboveTheLimitUnderContention) {
  constexpr unsigned kWorkers = 4;
  constexpr std::uint32_t kLimit = 3;
  ServerBudget b(kWorkers, kLimit);
  std::atomic<int> held{0};
  std::atomic<int> maxHeld{0};
  std::atomic<int> served{0};
  auto hold = [&] {
    const int now = held.fetch_add(1) + 1;
    int seen = maxHeld.load();
    while (now > seen && !maxHeld.compare_exchange_weak(seen, now)) {
    }
    std::this_thread::yield();
    held.fetch_sub(1);
    served.fetch_add(1);
    b.release();
  };
  std::vector<std::thread> threads;
  for (unsigned w = 0; w < kWorkers; ++w) {
    threads.emplace_back([&, w] {
      std::mt19937 rng(w);
      for (int i = 0; i < 5000; ++i) {
        if (b.tryAcquire()) {
          hold();
          continue;
        }
        // The slow path without a pool: a ticket that is not granted at once is withdrawn (a
        // granted one with no pool attached is freed by the budget itself).
        const std::uint64_t t = b.enqueue(w, Clock::now());
        if (t == 0) {
          hold();
        } else {
          b.withdraw(t);
        }
        if (rng() % 8 == 0) std::this_thread::yield();
      }
    });
  }
  for (auto& t : threads)
    t.join();
  EXPECT_LE(maxHeld.load(), static_cast<int>(kLimit));
  EXPECT_GT(served.load(), 0);
  EXPECT_EQ(b.open(), 0u);
  EXPECT_EQ(b.waiting(), 0u);
}

}  // namespace
}  // namespace pgsplit::pool
