#pragma once
// Payloads exchanged with pool actors.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "messages/health_status.hpp"
#include "messages/pool_health.hpp"
#include "messages/pool_state.hpp"
#include "messages/registry_messages.hpp"
#include "messages/resource_actor.hpp"

namespace custodian {

/// A resource handed out by a pool. Give it back with `release` (checked) or
/// `return` (one-way) and its id.
struct lease {
  uint64_t id = 0;
  std::string pool;
  std::string resource;
  resource_actor handle;

  bool operator==(const lease&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, lease& x) {
  return f(caf::meta::type_name("custodian.lease"), x.id, x.pool, x.resource, x.handle);
}

/// One resource as its pool sees it.
struct resource_summary {
  std::string id;
  /// creating, idle, validating, leased, recovering, quarantined or retiring.
  std::string state;
  health_status health = health_status::unknown;
  /// Made from an earlier config: a rolling replace retires it.
  bool outdated = false;

  bool operator==(const resource_summary&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, resource_summary& x) {
  return f(caf::meta::type_name("custodian.resource_summary"), x.id, x.state, x.health, x.outdated);
}

/// Upper bounds (µs) of the acquire wait histogram's buckets; one more bucket
/// counts the waits above the last bound.
inline constexpr std::array<uint64_t, 12> acquire_wait_bounds_us{
  1, 10, 50, 100, 250, 500, 1'000, 2'500, 5'000, 10'000, 50'000, 250'000};

/// A pool's pings or execs, as its driver counted them (drivers/call_metrics.hpp's
/// call_figures, mirrored here in plain vectors).
struct call_stats {
  /// Calls by outcome; index i is drivers::call_outcome_name(i).
  std::vector<uint64_t> outcomes;
  /// Calls by latency: bucket i counts those up to drivers::call_latency_bounds_us[i];
  /// the last bucket, the longer ones.
  std::vector<uint64_t> latency_histogram;
  /// The sum of their latencies (µs), for the histogram's mean.
  uint64_t latency_total_us = 0;

  bool operator==(const call_stats&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, call_stats& x) {
  return f(caf::meta::type_name("custodian.call_stats"), x.outcomes, x.latency_histogram,
           x.latency_total_us);
}

/// Counters and gauges of one pool.
struct pool_stats {
  std::string name;
  pool_state state = pool_state::creating;
  uint32_t min_idle = 0;
  uint32_t max_size = 0;
  uint64_t size = 0;        ///< resources alive or being created
  uint64_t idle = 0;        ///< ready to be handed out
  uint64_t in_use = 0;      ///< leased
  uint64_t waiters = 0;     ///< acquires queued
  uint64_t quarantined = 0; ///< resources in quarantine: held, never handed out
  uint64_t degraded = 0;    ///< resources handed out only when no healthy one is idle
  uint64_t outdated = 0;    ///< resources a rolling replace has yet to replace
  uint64_t created = 0;     ///< resources that reached ready
  uint64_t closed = 0;      ///< resources retired and drained
  uint64_t creation_failures = 0;
  uint64_t acquired = 0;     ///< leases handed out
  uint64_t timeouts = 0;     ///< acquires that timed out waiting
  uint64_t reclaimed = 0;    ///< leases taken back from holders that died or at drain
  uint64_t leaks = 0;        ///< leases reclaimed past their TTL
  uint64_t bad_releases = 0; ///< releases of unknown or already released leases
  uint64_t failed = 0;       ///< resources that failed while leased
  uint64_t expired = 0;      ///< resources retired at max_lifetime
  uint64_t idle_closed = 0;  ///< resources closed after idle_timeout
  uint64_t unhealthy = 0;    ///< resources retired because their probes failed
  /// Idle resources that failed the check made after another resource failed.
  uint64_t validation_failures = 0;
  uint64_t ejections = 0;  ///< resources put in quarantine (by failures or by hand)
  uint64_t reinstated = 0; ///< resources back in service from quarantine
  uint64_t restarts = 0;   ///< resources started again by the pool's supervisor
  /// Idle resources found closed (by the server) when they were about to be handed out.
  uint64_t dead_on_acquire = 0;
  /// Returned resources reset first because their holder left state behind.
  uint64_t reset_on_return = 0;
  /// Acquires answered with a lease, by wait: bucket i counts waits up to
  /// acquire_wait_bounds_us[i]; the last bucket, the longer ones.
  std::vector<uint64_t> acquire_wait_histogram;
  /// The sum of those waits (µs), for the histogram's mean.
  uint64_t acquire_wait_total_us = 0;
  /// Health probes (every ping) and execs on the pool's connections.
  call_stats probes;
  call_stats execs;
  /// Its own health, and its availability once its dependencies count.
  pool_health health = pool_health::healthy;
  availability avail;

  bool operator==(const pool_stats&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, pool_stats& x) {
  return f(caf::meta::type_name("custodian.pool_stats"), x.name, x.state, x.min_idle, x.max_size,
           x.size, x.idle, x.in_use, x.waiters, x.quarantined, x.degraded, x.outdated, x.created,
           x.closed, x.creation_failures, x.acquired, x.timeouts, x.reclaimed, x.leaks,
           x.bad_releases, x.failed, x.expired, x.idle_closed, x.unhealthy, x.validation_failures,
           x.ejections, x.reinstated, x.restarts, x.dead_on_acquire, x.reset_on_return,
           x.acquire_wait_histogram, x.acquire_wait_total_us, x.probes, x.execs, x.health, x.avail);
}

} // namespace custodian
