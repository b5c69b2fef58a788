#pragma once
// The health of one resource from its probe results: consecutive results flip
// the status (`healthy_threshold` passes, `unhealthy_threshold` failures, as in
// Envoy), a pass slower than `degraded_latency` counts as degraded, and probes are
// spread with jitter so that resources created together do not probe in lockstep.
// Plain C++, tested without actors.

#include <chrono>
#include <cstdint>

#include "messages/health_status.hpp"

namespace custodian {

struct health_policy {
  std::chrono::milliseconds interval{10'000};
  /// Share of the interval by which each probe is moved earlier or later, in [0, 1].
  double jitter = 0.1;
  /// Passes in a row that make an unhealthy resource healthy again.
  uint32_t healthy_threshold = 2;
  /// Failures in a row that make a resource unhealthy.
  uint32_t unhealthy_threshold = 3;
  /// A pass slower than this is degraded; 0 = latency is not judged.
  std::chrono::microseconds degraded_latency{0};

  bool operator==(const health_policy&) const = default;
};

/// Delay until the next probe: the interval moved by up to ±jitter of itself;
/// `unit_draw` is in [0, 1) (0.5 = no change).
std::chrono::milliseconds probe_delay(const health_policy& policy, double unit_draw);

/// Probes a resource may refuse in a row (busy with another call, or in a state
/// that takes none) as no verdict; each further refusal counts as a failed probe,
/// so that a resource stuck in such a state is judged, not skipped for ever.
inline constexpr uint32_t max_refused_probes = 3;

class health_tracker {
public:
  explicit health_tracker(health_policy policy = {}) : policy_(policy) {}

  /// Records one probe; returns true if the status changed. A resource not yet
  /// judged becomes healthy (or degraded) at its first pass.
  /// A pass is degraded when slower than the policy allows or when a driver stage
  /// says so (`degraded_by_driver`).
  bool record(bool passed, std::chrono::microseconds latency, bool degraded_by_driver = false);
  /// Records a failed probe that found the connection closed (the server ended
  /// it): no later probe can pass on it, so the resource is unhealthy at once
  /// whatever the threshold. Returns true if the status changed.
  bool record_closed();

  health_status status() const { return status_; }
  /// Failures in a row so far (what quarantine counts).
  uint32_t consecutive_failures() const { return failures_; }

private:
  health_policy policy_;
  health_status status_ = health_status::unknown;
  uint32_t passes_ = 0;
  uint32_t failures_ = 0;
};

} // namespace custodian
