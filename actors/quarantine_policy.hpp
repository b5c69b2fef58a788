#pragma once
// When quarantine ejects a resource and when it tries to bring it back: after
// `consecutive_failures` failures; recovery attempt k after
// min(base_ejection × 2^k, max_ejection) less jitter; terminated after
// `max_attempts`; and never more than `max_ejection_percent` of a pool ejected at
// once (beyond it a failing resource stays in, as degraded, like Envoy). Plain
// C++, tested without actors.

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace custodian {

struct quarantine_policy {
  uint32_t consecutive_failures = 5;
  std::chrono::milliseconds base_ejection{30'000};
  std::chrono::milliseconds max_ejection{300'000};
  uint32_t max_attempts = 5;
  double max_ejection_percent = 50.0;
  /// Share of each delay that jitter may take away, in [0, 1].
  double jitter = 0.1;

  bool operator==(const quarantine_policy&) const = default;
};

/// Delay before recovery attempt `attempt` (0 = the first); `unit_draw` in [0, 1).
std::chrono::milliseconds ejection_delay(const quarantine_policy& policy, uint32_t attempt,
                                         double unit_draw);

/// Whether one more resource of a pool of `pool_size` may be ejected while
/// `ejected` already are.
bool may_eject(const quarantine_policy& policy, std::size_t pool_size, std::size_t ejected);

} // namespace custodian
