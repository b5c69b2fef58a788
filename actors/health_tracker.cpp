#include "actors/health_tracker.hpp"

#include <algorithm>

namespace custodian {

std::chrono::milliseconds probe_delay(const health_policy& policy, double unit_draw) {
  auto interval = static_cast<double>(std::max<int64_t>(policy.interval.count(), 0));
  auto spread = std::clamp(policy.jitter, 0.0, 1.0) * (2.0 * std::clamp(unit_draw, 0.0, 1.0) - 1.0);
  return std::chrono::milliseconds{static_cast<int64_t>(interval * (1.0 + spread))};
}

bool health_tracker::record_closed() {
  auto before = status_;
  failures_ = std::max(failures_ + 1, policy_.unhealthy_threshold);
  passes_ = 0;
  status_ = health_status::unhealthy;
  return status_ != before;
}

bool health_tracker::record(bool passed, std::chrono::microseconds latency,
                            bool degraded_by_driver) {
  auto before = status_;
  if (!passed) {
    ++failures_;
    passes_ = 0;
    if (failures_ >= std::max<uint32_t>(policy_.unhealthy_threshold, 1))
      status_ = health_status::unhealthy;
    return status_ != before;
  }
  ++passes_;
  failures_ = 0;
  // An unhealthy resource must prove itself; any other is judged by this pass.
  if (status_ == health_status::unhealthy &&
      passes_ < std::max<uint32_t>(policy_.healthy_threshold, 1))
    return false;
  auto slow = policy_.degraded_latency.count() > 0 && latency > policy_.degraded_latency;
  status_ = slow || degraded_by_driver ? health_status::degraded : health_status::healthy;
  return status_ != before;
}

} // namespace custodian
