#pragma once
// Payloads exchanged with pool actors.

#include <cstdint>
#include <string>

#include <caf/meta/type_name.hpp>

#include "messages/pool_state.hpp"
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

/// Counters and gauges of one pool.
struct pool_stats {
  std::string name;
  pool_state state = pool_state::creating;
  uint64_t size = 0;    ///< resources alive or being created
  uint64_t idle = 0;    ///< ready to be handed out
  uint64_t in_use = 0;  ///< leased
  uint64_t waiters = 0; ///< acquires queued
  uint64_t created = 0; ///< resources that reached ready
  uint64_t closed = 0;  ///< resources retired and drained
  uint64_t creation_failures = 0;
  uint64_t acquired = 0;     ///< leases handed out
  uint64_t timeouts = 0;     ///< acquires that timed out waiting
  uint64_t reclaimed = 0;    ///< leases taken back from holders that died
  uint64_t leaks = 0;        ///< leases reclaimed past their TTL
  uint64_t bad_releases = 0; ///< releases of unknown or already released leases

  bool operator==(const pool_stats&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, pool_stats& x) {
  return f(caf::meta::type_name("custodian.pool_stats"), x.name, x.state, x.size, x.idle, x.in_use,
           x.waiters, x.created, x.closed, x.creation_failures, x.acquired, x.timeouts, x.reclaimed,
           x.leaks, x.bad_releases);
}

} // namespace custodian
