#pragma once
// A pool's own health from its state and its resources: what the registry
// cascades to the pools that depend on it. Plain C++, tested without actors.

#include <cstddef>

#include "messages/pool_health.hpp"
#include "messages/pool_state.hpp"

namespace custodian {

/// What a pool's health is judged from.
struct pool_health_facts {
  pool_state state = pool_state::active;
  /// Resources that reached ready and are not retiring: idle, leased, being
  /// checked or in quarantine.
  std::size_t resources = 0;
  /// Of them, those that do not work (in quarantine, or reported unhealthy) and
  /// those reported degraded.
  std::size_t unhealthy = 0;
  std::size_t degraded = 0;
  /// The pool's last creation failed and none succeeded since: it needed a
  /// resource and could not make one (its database is down, say).
  bool creations_failing = false;
};

/// Unhealthy when the pool is in `error`, when creations keep failing and none of
/// its resources works, or when the unhealthy share of its resources reaches
/// `unhealthy_share`; degraded when some are unhealthy or degraded below that;
/// healthy otherwise.
pool_health judge_pool_health(const pool_health_facts& facts, double unhealthy_share);

} // namespace custodian
