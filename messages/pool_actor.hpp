#pragma once
// The typed interface of a pool actor: the authority over its leases.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/replies_to.hpp>
#include <caf/timespan.hpp>
#include <caf/typed_actor.hpp>

#include "messages/atoms.hpp"
#include "messages/blocking_acquire.hpp"
#include "messages/pool_messages.hpp"
#include "messages/quarantine_messages.hpp"
#include "messages/registry_messages.hpp"

namespace custodian {

struct pool_config;

/// A pool's new config. In-process only: a config holds its driver instance.
using pool_update = std::shared_ptr<const pool_config>;

/// Hears of every change of a pool's state or own health (the registry).
using pool_watcher_actor = caf::typed_actor<caf::reacts_to<pool_report>>;

using pool_actor = caf::typed_actor<
  /// Leases an idle resource, creates one below max_size, or waits in line (FIFO)
  /// up to the pool's acquire_timeout_ms. Errors: `timeout` (carrying the last
  /// creation error when resources could not be created), `unavailable` (draining,
  /// destroyed, error).
  caf::replies_to<acquire_atom>::with<lease>,
  /// The same with the caller's own timeout. A caller whose request has a timeout
  /// passes it here: the pool cannot see a request time out at the caller, and
  /// would keep a lease for it until it dies or the lease's TTL passes.
  caf::replies_to<acquire_atom, caf::timespan>::with<lease>,
  /// The same for a caller that is not an actor (in-process only): the answer,
  /// with the driver connection, goes into the completion it carries.
  caf::reacts_to<acquire_atom, caf::timespan, blocking_acquire>,
  /// Gives a lease back and confirms; `not_found` for an unknown or already
  /// released lease (never a double free).
  caf::replies_to<release_atom, uint64_t>::with<caf::ok_atom>,
  /// Gives a lease back without an answer (the fast path); a bad id is counted in
  /// `bad_releases` and published as a `bad_release` event.
  caf::reacts_to<return_atom, uint64_t>,
  /// Runs a driver request (JSON text) on the resource of an open lease. Errors:
  /// `not_found` for an unknown lease; `unavailable` when the lease was taken back
  /// (its resource failed, it leaked) — the message says why — or an exec on the
  /// same lease is in flight; the driver's errors otherwise. A failure that breaks
  /// the resource ends the lease: the resource is replaced.
  caf::replies_to<exec_atom, uint64_t, std::string>::with<std::string>,
  /// The holder reports the resource of its lease broken (reason): the lease ends
  /// and the resource is replaced. `not_found` for an unknown lease, `unavailable`
  /// for one taken back already.
  caf::replies_to<fail_atom, uint64_t, std::string>::with<caf::ok_atom>,
  /// Sets min_idle and max_size. Growing creates at once; shrinking retires idle
  /// resources first and leased ones as they come back. `bad_request` unless
  /// 1 <= max_size and min_idle <= max_size. Replies the stats after the change.
  caf::replies_to<resize_atom, uint32_t, uint32_t>::with<pool_stats>,
  /// active -> suspended: acquires wait, nothing is handed out.
  caf::replies_to<suspend_atom>::with<pool_state>,
  /// suspended -> active: waiters are served.
  caf::replies_to<resume_atom>::with<pool_state>,
  /// No new leases; waits for leased resources (bounded), drains every resource and
  /// replies `destroyed`. Waiters get `unavailable`.
  caf::replies_to<drain_atom>::with<pool_state>,
  /// Counters and gauges.
  caf::replies_to<stats_atom>::with<pool_stats>,
  /// An operator puts resource `id` in quarantine (reason): an idle one at once, a
  /// leased one when it comes back (never taken from its holder). Not bounded by
  /// max_ejection_percent. `not_found` for a resource the pool does not have,
  /// `unavailable` for one being created or retired.
  caf::replies_to<quarantine_atom, std::string, std::string>::with<caf::ok_atom>,
  /// An operator returns resource `id` from quarantine to service now;
  /// `not_found` if it is not in quarantine.
  caf::replies_to<release_atom, std::string>::with<caf::ok_atom>,
  /// The pool's resources in quarantine: since when, attempts, next attempt.
  caf::replies_to<quarantine_atom>::with<std::vector<quarantine_entry>>,
  /// An operator has idle resource `id` maintained (the driver's reset) before it
  /// is handed out again. `not_found` for a resource the pool does not have,
  /// `unavailable` for one that is not idle (leased, being created, ...).
  caf::replies_to<maintain_atom, std::string>::with<caf::ok_atom>,
  /// The pool's resources: id, state in the pool, health, outdated.
  caf::replies_to<resources_atom>::with<std::vector<resource_summary>>,
  /// Applies a new config of this pool. Sizes, timeouts, thresholds, health and
  /// quarantine policies apply at once (limits of resources already made, such as
  /// their lifetime, apply to the next ones). A new driver is rolled in: one
  /// resource of the new config comes up (one above max_size at most) before each
  /// outdated one is retired, so acquires never lack a working resource; a leased
  /// one is retired when it comes back. Dependencies are the registry's.
  /// `bad_request` for another pool's config; `invalid_transition` while draining.
  caf::replies_to<configure_atom, pool_update>::with<caf::ok_atom>,
  /// Starts a pool spawned waiting for its dependencies (state `creating`, where
  /// acquires wait in line): it warms min_idle, then serves. Replies the state it
  /// entered; `invalid_transition` unless it was waiting.
  caf::replies_to<start_atom>::with<pool_state>,
  /// Sets the watcher, which gets a `pool_report` on every change of the pool's
  /// state or own health. Replies the current report.
  caf::replies_to<watch_atom, pool_watcher_actor>::with<pool_report>,
  /// The pool's availability as its dependencies make it (from the registry).
  /// While a hard dependency is down, acquires and waiters fail at once with
  /// `dependency_unavailable` naming the root cause; leases out stay valid. Its
  /// own trouble never refuses acquires: it keeps trying to recover.
  caf::reacts_to<availability_notice>>;

} // namespace custodian

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(custodian::pool_update)
