#pragma once
// Exponential backoff with jitter, as a pure function: the caller supplies the
// random draw, so schedules are exact in tests.

#include <chrono>
#include <cstdint>

namespace custodian {

struct backoff_policy {
  std::chrono::milliseconds base{100};
  std::chrono::milliseconds max{10'000};
  /// Share of the delay that jitter may take away, in [0, 1].
  double jitter = 0.2;
};

/// Delay before retry `attempt` (1 = first retry): min(base * 2^(attempt-1), max),
/// shortened by `jitter * unit_draw` of itself, where `unit_draw` is in [0, 1).
/// Jitter only shortens, so `max` stays a true upper bound.
std::chrono::milliseconds backoff_delay(const backoff_policy& policy, uint32_t attempt,
                                        double unit_draw);

} // namespace custodian
