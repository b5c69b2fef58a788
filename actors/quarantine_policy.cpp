#include "actors/quarantine_policy.hpp"

#include <algorithm>

#include "actors/backoff_schedule.hpp"

namespace custodian {

std::chrono::milliseconds ejection_delay(const quarantine_policy& policy, uint32_t attempt,
                                         double unit_draw) {
  // The same doubling as connect retries: attempt k is retry k + 1.
  return backoff_delay(backoff_policy{policy.base_ejection, policy.max_ejection, policy.jitter},
                       attempt + 1, unit_draw);
}

bool may_eject(const quarantine_policy& policy, std::size_t pool_size, std::size_t ejected) {
  auto percent = std::clamp(policy.max_ejection_percent, 0.0, 100.0);
  return static_cast<double>(ejected + 1) * 100.0 <= percent * static_cast<double>(pool_size);
}

} // namespace custodian
