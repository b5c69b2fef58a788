#pragma once
// A lock for critical sections of a few hundred nanoseconds that threads of the
// embedding application take on their hot path (the lease shelf). A contended
// std::mutex puts the loser to sleep in the kernel, and waking it costs tens of
// microseconds on a VM; this spins a little, then yields, so that a holder that
// was preempted gets the CPU back.

#include <atomic>
#include <thread>

namespace custodian {

class spin_lock {
public:
  void lock() noexcept {
    for (int tries = 0;; ++tries) {
      if (!locked_.exchange(true, std::memory_order_acquire))
        return;
      while (locked_.load(std::memory_order_relaxed))
        if (++tries > spins_before_yield)
          std::this_thread::yield();
    }
  }

  void unlock() noexcept { locked_.store(false, std::memory_order_release); }

private:
  static constexpr int spins_before_yield = 100;
  std::atomic<bool> locked_{false};
};

} // namespace custodian
