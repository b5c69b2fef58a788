#pragma once
// The health checker of one pool: probes each watched resource (driver ping on a
// blocking worker, through the resource actor) every interval with jitter, bounds
// each probe by its timeout, and tells its watcher whenever a status flips. One
// timer covers every resource. A resource that is busy (leased, in a call,
// initializing) is skipped, not counted as failing: a probe never disturbs a holder.

#include <chrono>

#include "actors/health_tracker.hpp"
#include "messages/health_checker_actor.hpp"

namespace caf {
class actor_system;
}

namespace custodian {

struct health_checker_config {
  health_policy policy;
  /// Bound of one probe.
  std::chrono::milliseconds timeout{2'000};
  /// The pool checks (pings) a resource before it hands it out, unless the
  /// resource was known good within `bypass_window` (returned, created or
  /// checked): one check per burst of acquires, not one per acquire.
  bool on_acquire = false;
  std::chrono::milliseconds bypass_window{500};
  /// Seeds the probe jitter.
  uint64_t seed = 1;

  bool operator==(const health_checker_config&) const = default;
};

health_checker_actor spawn_health_checker(caf::actor_system& sys, health_checker_config cfg,
                                          health_watcher_actor watcher);

} // namespace custodian
