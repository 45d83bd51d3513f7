#pragma once
// A wake-up between the coroutines of one session (same executor, one thread): wait() suspends
// until the next notify(), which wakes every waiter; a notify() with nobody waiting is dropped
// (waiters re-check their condition in a loop, as with a cancelled timer). Unlike a steady_timer
// used this way, waiting costs no timerfd_settime system call and no timer queue: the handler is
// kept here and posted on notify().
#include <memory>
#include <vector>

#include "pgsplit/asio.hpp"

namespace pgsplit::session {

class Signal {
 public:
  explicit Signal(asio::any_io_executor executor) : executor_(std::move(executor)) {}
  Signal(const Signal&) = delete;
  Signal& operator=(const Signal&) = delete;

  // (Not a coroutine itself: the awaitable Asio makes is returned as it is, one frame fewer.)
  Task<void> wait() {
    return asio::async_initiate<const asio::use_awaitable_t<>&, void()>(
        [this](auto handler) {
          waiters_.push_back(std::make_unique<Waiter<decltype(handler)>>(std::move(handler)));
        },
        asio::use_awaitable);
  }

  void notify() {
    for (auto& w : waiters_)
      asio::post(executor_, [w = std::move(w)]() mutable { w->resume(); });
    waiters_.clear();
  }

  bool waiting() const { return !waiters_.empty(); }

 private:
  struct WaiterBase {
    virtual ~WaiterBase() = default;
    virtual void resume() = 0;
  };
  template <typename Handler>
  struct Waiter final : WaiterBase {
    explicit Waiter(Handler h) : handler(std::move(h)) {}
    void resume() override { std::move(handler)(); }
    Handler handler;
  };

  asio::any_io_executor executor_;
  std::vector<std::unique_ptr<WaiterBase>> waiters_;
};

}  // namespace pgsplit::session
