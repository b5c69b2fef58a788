#pragma once
// An acquire from a thread that is not an actor, when the pool's shelf had nothing
// for it. A scoped_actor round trip costs ~50 µs here, so the caller sends the pool
// a one-way request carrying a completion (messages/blocking_acquire.hpp names
// it) and waits on an atomic in its slot; the pool fills it in process. In-process
// only: the completion is a pointer, it never crosses the wire.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include <caf/error.hpp>

#include "messages/blocking_acquire.hpp"
#include "messages/errors.hpp"
#include "messages/pool_messages.hpp"

namespace custodian {

namespace drivers {
class connection;
}
class lease_shelf;

/// The caller's side: written once by the pool, then read by the caller.
class acquire_slot {
public:
  /// Blocks until the pool answered. It spins first, since an idle resource comes
  /// back within microseconds; but a thread whose last wait was long (it queued
  /// behind others) barely spins, so that threads waiting in line do not take the
  /// CPU from the ones holding resources.
  void wait() {
    thread_local bool queued_last_time = false;
    auto spin = queued_last_time ? min_spin : max_spin;
    for (int i = 0; i < spin; ++i)
      if (ready_.load(std::memory_order_acquire)) {
        queued_last_time = false;
        return;
      }
    auto t0 = std::chrono::steady_clock::now();
    ready_.wait(0, std::memory_order_acquire);
    queued_last_time = std::chrono::steady_clock::now() - t0 > long_wait;
  }

  bool ok() const { return !error_; }
  lease& granted() { return lease_; }
  std::shared_ptr<drivers::connection>& connection() { return conn_; }
  /// Where the pool lends idle resources to this process's threads; null if it
  /// lends none (see actors/lease_shelf.hpp).
  std::shared_ptr<lease_shelf>& shelf() { return shelf_; }
  const caf::error& error() const { return error_; }

private:
  friend class acquire_completion;

  static constexpr int max_spin = 20'000;
  static constexpr int min_spin = 64;
  /// A wait this long means the caller queued: spinning would not have helped.
  static constexpr std::chrono::microseconds long_wait{200};

  void publish() {
    ready_.store(1, std::memory_order_release);
    ready_.notify_one();
  }

  lease lease_;
  std::shared_ptr<drivers::connection> conn_;
  std::shared_ptr<lease_shelf> shelf_;
  caf::error error_;
  std::atomic<uint32_t> ready_{0};
};

/// The pool's side: answers the caller exactly once. Dropped unanswered (the pool
/// ended, or the request never reached it), it tells the caller the pool is
/// unavailable, so a caller never waits for a pool that is gone.
class acquire_completion {
public:
  /// `holder` names the calling thread in leak reports.
  acquire_completion(std::shared_ptr<acquire_slot> slot, std::string holder)
      : slot_(std::move(slot)), holder_(std::move(holder)) {}

  acquire_completion(const acquire_completion&) = delete;
  acquire_completion& operator=(const acquire_completion&) = delete;

  ~acquire_completion() {
    if (slot_)
      fail(make_error(errc::unavailable, "pool ended before it answered the acquire"));
  }

  void grant(lease granted, std::shared_ptr<drivers::connection> conn,
             std::shared_ptr<lease_shelf> shelf) {
    slot_->lease_ = std::move(granted);
    slot_->conn_ = std::move(conn);
    slot_->shelf_ = std::move(shelf);
    std::exchange(slot_, nullptr)->publish();
  }

  void fail(caf::error err) {
    slot_->error_ = std::move(err);
    std::exchange(slot_, nullptr)->publish();
  }

  const std::string& holder() const { return holder_; }

private:
  std::shared_ptr<acquire_slot> slot_;
  std::string holder_;
};

} // namespace custodian
