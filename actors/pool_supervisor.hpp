#pragma once
// The supervisor of one pool's resources: the generic supervisor with the pool's
// strategy and restart intensity. Each resource is a permanent child: one that
// crashes, is killed or is stopped by anyone but its pool is started again with
// a fresh driver handle (its pool hears of it, takes its lease back and
// initializes it); the pool retires a resource by stopping the child. More
// restarts than the intensity allows end the supervisor and its resources: the
// pool goes to `error` and tries again later with a new supervisor.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "actors/backoff_schedule.hpp"
#include "actors/resource.hpp"
#include "messages/pool_supervisor_actor.hpp"
#include "messages/restart_policy.hpp"

namespace caf {
class actor_system;
}

namespace custodian {

struct supervision_config {
  /// Which resources start again when one ends: itself (one_for_one), all
  /// (one_for_all), or itself and those created after it (rest_for_one).
  restart_strategy strategy = restart_strategy::one_for_one;
  /// More restarts than this within `period` put the pool in `error`.
  uint32_t max_restarts = 10;
  std::chrono::milliseconds period{10'000};
  /// How long a pool in `error` waits before it tries again, growing with each
  /// failed try.
  backoff_policy retry{std::chrono::milliseconds{1'000}, std::chrono::milliseconds{30'000}, 0.2};
};

/// Spawns the supervisor of pool `pool`; `watcher` (the pool) hears of its
/// restarts and of its escalation.
pool_supervisor_actor spawn_pool_supervisor(caf::actor_system& sys, const std::string& pool,
                                            const supervision_config& cfg,
                                            supervisor_watcher_actor watcher);

/// How one resource is started: from the pool's template with this id, showing
/// its connection in `view`. Every start after the first tells `watcher` the
/// fresh handle (the first is the answer to the pool's start request).
child_spec resource_child(std::shared_ptr<const resource_config> resource_template,
                          resource_context ctx, std::string id, connection_view_ptr view,
                          resource_restart_watcher watcher);

} // namespace custodian
