#pragma once
// The failover workload, as the peers run it: `clients` threads, each running one
// operation per slot on a fixed schedule. Client i's slots are at
// base + i * period / clients + period * k, so that the clients are spread evenly;
// slots missed while an operation was still running are skipped, so a slow
// failure is never followed by a burst. Every operation is stamped in wall-clock ms.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <functional>
#include <limits>
#include <mutex>
#include <thread>
#include <vector>

#include "bench/failover_record.hpp"
#include "bench/wall_clock.hpp"

namespace custodian::bench {

/// What an operation tells its loop: ok, or where and why it failed.
struct op_outcome {
  bool ok = true;
  std::string at;
  std::string error;
};

class fixed_rate_clients {
public:
  /// The stamps of a client's last successful operation.
  struct last_ok {
    double start = -std::numeric_limits<double>::infinity();
    double end = -std::numeric_limits<double>::infinity();
  };

  fixed_rate_clients(int clients, int period_ms, std::function<op_outcome()> operation)
      : period_(period_ms), operation_(std::move(operation)), last_(clients) {
    double base0 = wall_ms() + 1;
    for (int id = 0; id < clients; ++id)
      threads_.emplace_back(
        [this, id, base = base0 + double(id) * period_ms / clients] { loop(id, base); });
  }

  ~fixed_rate_clients() { stop(); }

  fixed_rate_clients(const fixed_rate_clients&) = delete;
  fixed_rate_clients& operator=(const fixed_rate_clients&) = delete;

  /// Waits until `done(last successes of every client)` holds or `deadline_ms`
  /// (wall clock) passes; whether it held. Each operation's end wakes it.
  bool wait_until(const std::function<bool(const std::vector<last_ok>&)>& done,
                  double deadline_ms) {
    std::unique_lock<std::mutex> lock{mtx_};
    for (;;) {
      if (done(last_))
        return true;
      double left = deadline_ms - wall_ms();
      if (left <= 0)
        return false;
      changed_.wait_for(lock, std::chrono::duration<double, std::milli>{left});
    }
  }

  /// Stops the loops after their operation in progress; every operation recorded.
  std::vector<op_record> stop() {
    {
      std::lock_guard<std::mutex> guard{mtx_};
      stopping_ = true;
    }
    changed_.notify_all();
    for (auto& t : threads_)
      if (t.joinable())
        t.join();
    std::lock_guard<std::mutex> guard{mtx_};
    return ops_;
  }

private:
  void loop(int id, double base) {
    for (long k = 0;;) {
      {
        std::unique_lock<std::mutex> lock{mtx_};
        double slot = base + double(k) * period_;
        // The schedule itself: wait for the slot (or the stop).
        while (!stopping_ && wall_ms() < slot)
          changed_.wait_for(lock, std::chrono::duration<double, std::milli>{slot - wall_ms()});
        if (stopping_)
          return;
      }
      double start = wall_ms();
      auto outcome = operation_();
      double end = wall_ms();
      {
        std::lock_guard<std::mutex> guard{mtx_};
        ops_.push_back(
          op_record{id, start, end, outcome.ok, std::move(outcome.at), std::move(outcome.error)});
        if (outcome.ok)
          last_[static_cast<std::size_t>(id)] = {start, end};
      }
      changed_.notify_all();
      k = std::max(k + 1, static_cast<long>(std::ceil((end - base) / period_)));
    }
  }

  double period_;
  std::function<op_outcome()> operation_;
  std::mutex mtx_;
  std::condition_variable changed_;
  bool stopping_ = false;
  std::vector<last_ok> last_;
  std::vector<op_record> ops_;
  std::vector<std::thread> threads_;
};

} // namespace custodian::bench
