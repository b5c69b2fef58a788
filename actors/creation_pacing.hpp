#pragma once
// How a pool spaces out resource creations after failures, and whether its
// backend is known down meanwhile. Plain C++ with the time passed in.
//
// A failure that costs the server next to nothing (nothing listens, the server
// is starting up or shutting down) is tried again at once when an acquire asks,
// and by itself every `base` otherwise: a pool is back within one connect of the
// server's return. Any other failure (rejected credentials, a timeout) backs off
// exponentially, so a wrong password is never retried in a tight loop. While the
// backend is known down, acquires are told why at once instead of waiting out
// their timeout.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "actors/backoff_schedule.hpp"

namespace custodian {

class creation_pacing {
public:
  using time_point = std::chrono::steady_clock::time_point;

  explicit creation_pacing(backoff_policy backoff = {}) : backoff_(backoff) {}

  /// A changed policy applies from the next failure on.
  void configure(backoff_policy backoff) { backoff_ = backoff; }

  /// A creation succeeded: the backend works, the next failure starts afresh.
  void succeeded();

  /// A creation failed at `now` with `reason`; `cheap` when it cost the server
  /// nothing (drivers::cheap_to_retry). Returns the delay after which the pool
  /// tries again by itself; `unit_draw` in [0, 1) draws the jitter.
  std::chrono::milliseconds failed(time_point now, std::string reason, bool cheap,
                                   double unit_draw);

  /// Whether a creation may start at `now`: once the delay has passed, or at once
  /// for an acquire that asks (`on_demand`) after a cheap failure.
  bool may_create(time_point now, bool on_demand) const;

  /// The last creation failed and none succeeded since.
  bool backend_down() const noexcept { return failures_ > 0; }
  /// Creations that failed in a row.
  uint32_t failures_in_row() const noexcept { return failures_; }
  /// Why the last creation failed; kept after a success for reports.
  const std::string& last_error() const noexcept { return last_error_; }
  /// Forgets the failures (a pool that starts over with a new supervisor).
  void reset();

private:
  backoff_policy backoff_;
  uint32_t failures_ = 0;
  /// Failures that were not cheap, in a row: they alone grow the delay.
  uint32_t costly_failures_ = 0;
  bool last_cheap_ = false;
  std::optional<time_point> next_at_;
  std::string last_error_;
};

} // namespace custodian
