#pragma once
// The pool actor: the authority over one pool's leases. It hands out idle
// resources, creates new ones below max_size, queues the rest in arrival order
// with their own deadlines (one timer per pool, not per request), and takes
// leases back from holders that die or keep them past their TTL.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/dependency_graph.hpp"
#include "actors/health_checker.hpp"
#include "actors/pool_supervisor.hpp"
#include "actors/quarantine.hpp"
#include "actors/resource.hpp"
#include "messages/pool_actor.hpp"

namespace caf {
class actor_system;
}

namespace custodian {

struct pool_config {
  std::string name;
  std::shared_ptr<drivers::driver> driver;
  /// Resources created at start and kept ready.
  uint32_t min_idle = 0;
  uint32_t max_size = 8;
  /// How long an acquire waits in line unless it brings its own timeout.
  std::chrono::milliseconds acquire_timeout{5'000};
  /// A lease held longer is reclaimed and reported as a leak; 0 = no limit.
  std::chrono::milliseconds lease_ttl{0};
  /// A resource older than this is retired (never while leased) and replaced;
  /// 0 = no limit. Checked at acquire, at release and by the pool's sweep.
  std::chrono::milliseconds max_lifetime{0};
  /// Each resource's lifetime is shortened by a random share up to this, so that
  /// resources created together do not all retire together.
  double lifetime_jitter = 0.025;
  /// An idle resource unused this long is closed while more than min_idle are
  /// idle; 0 = never.
  std::chrono::milliseconds idle_timeout{0};
  /// Hand out the most recently returned resource first (warm caches); false = FIFO.
  bool lifo = true;
  /// Probes the pool's resources when set: an unhealthy idle resource is retired
  /// and replaced (a leased one when it comes back), and degraded ones are handed
  /// out only when no healthy one is idle.
  std::optional<health_checker_config> health;
  /// Counts each resource's consecutive failures (init, ping, exec, a failed
  /// probe) when set. Below `consecutive_failures` a failed resource is probed in
  /// place (initialized again if broken) and is back in line if it works; at the
  /// threshold it is ejected into the pool's quarantine, which tries to recover it
  /// on its backoff schedule and gives it up after `max_attempts` (the pool then
  /// replaces it). Beyond `max_ejection_percent` it stays in the pool as degraded
  /// if it still answers, else it is replaced. A clean return, a successful exec
  /// through the pool or a healthy report resets the count. Without it a failed
  /// resource is replaced at once; operators can still quarantine by hand.
  std::optional<quarantine_config> quarantine;
  /// Pools this one needs (config `depends_on`). It starts once its hard
  /// dependencies are active; while one of them is down its acquires fail with
  /// `dependency_unavailable`. A soft dependency that is down only degrades it.
  std::vector<dependency> depends_on;
  /// The share of its resources reported unhealthy at which the pool counts as
  /// unhealthy itself, making its hard dependants unavailable; in (0, 1].
  double unhealthy_share = 0.5;
  /// How the pool's resources are restarted when they crash, and when the pool
  /// gives up on them (`error`) and tries again.
  supervision_config supervision;
  /// How long drain waits for leased resources to come back.
  std::chrono::milliseconds drain_timeout{30'000};
  /// Template of every resource: init policy and timeouts (id, pool and driver are
  /// set by the pool).
  resource_config resource;
};

/// When a pool starts warming and serving.
enum class pool_start : uint8_t {
  now,
  /// On `start_atom`: the registry starts a pool once its hard dependencies are
  /// active. Until then acquires wait in line.
  on_request,
};

/// Spawns a pool in state `creating`; once started it warms `min_idle` resources,
/// then serves.
pool_actor spawn_pool(caf::actor_system& sys, pool_config cfg, resource_context ctx,
                      pool_start start = pool_start::now);

} // namespace custodian
