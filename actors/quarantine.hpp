#pragma once
// The quarantine supervisor: takes failing resources out of service and tries to
// bring them back. Recovery attempt k comes after min(base_ejection × 2^k,
// max_ejection) less jitter; an attempt re-initializes a failed resource or pings
// a working one, bounded by `attempt_timeout` (a hanging probe must not leave a
// resource half-open for ever); after `max_attempts` the resource is given up.
// Whoever ejected a resource hears the outcome. One timer covers every resource.

#include <chrono>

#include "actors/quarantine_policy.hpp"
#include "messages/quarantine_actor.hpp"

namespace caf {
class actor_system;
}

namespace custodian {

struct quarantine_config {
  quarantine_policy policy;
  /// Bound of one recovery attempt.
  std::chrono::milliseconds attempt_timeout{5'000};
  /// Seeds the jitter of the delays.
  uint64_t seed = 1;

  bool operator==(const quarantine_config&) const = default;
};

quarantine_actor spawn_quarantine(caf::actor_system& sys, quarantine_config cfg);

} // namespace custodian
