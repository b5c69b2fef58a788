#pragma once
// What a supervisor restarts when a child ends, with OTP's semantics: which
// children (one_for_one, one_for_all, rest_for_one), whether a child is restarted
// at all (permanent, transient, temporary), and when restarting has gone on too
// long (more than max_restarts within period: the supervisor gives up and fails
// to its parent). Plain C++, tested without actors.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

#include "messages/restart_policy.hpp"

namespace custodian {

/// The children (indices in start order, `ended` among them) that the end of
/// child `ended` affects under `strategy`: those a restart stops.
std::vector<std::size_t> affected_children(restart_strategy strategy, std::size_t count,
                                           std::size_t ended);

/// The children (indices in start order) to stop and start again when child
/// `ended` stopped, `abnormally` or not; empty if the ended child is not
/// restarted. Temporary children are stopped with the others but not started.
std::vector<std::size_t> children_to_restart(restart_strategy strategy,
                                             const std::vector<restart_type>& children,
                                             std::size_t ended, bool abnormally);

/// Counts restarts in a sliding window.
class restart_intensity {
public:
  using time_point = std::chrono::steady_clock::time_point;

  restart_intensity(uint32_t max_restarts, std::chrono::milliseconds period)
      : max_restarts_(max_restarts), period_(period) {}

  /// Records a restart at `now`; false if it is one too many: more than
  /// max_restarts within the period, so the supervisor must escalate.
  bool allow(time_point now);

private:
  uint32_t max_restarts_;
  std::chrono::milliseconds period_;
  std::deque<time_point> recent_;
};

} // namespace custodian
