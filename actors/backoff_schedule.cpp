#include "actors/backoff_schedule.hpp"

#include <algorithm>

namespace custodian {

std::chrono::milliseconds backoff_delay(const backoff_policy& policy, uint32_t attempt,
                                        double unit_draw) {
  auto cap = std::max(policy.max.count(), int64_t{0});
  auto delay = std::max(policy.base.count(), int64_t{0});
  // Doubling stops at the cap, so large attempt numbers cannot overflow.
  for (uint32_t i = 1; i < attempt && delay < cap; ++i)
    delay *= 2;
  delay = std::min(delay, cap);
  auto jitter = std::clamp(policy.jitter, 0.0, 1.0) * std::clamp(unit_draw, 0.0, 1.0);
  return std::chrono::milliseconds{
    static_cast<int64_t>(static_cast<double>(delay) * (1.0 - jitter))};
}

} // namespace custodian
