#pragma once
// The typed interface of a pool actor: the authority over its leases.

#include <cstdint>

#include <caf/replies_to.hpp>
#include <caf/timespan.hpp>
#include <caf/typed_actor.hpp>

#include "messages/atoms.hpp"
#include "messages/pool_messages.hpp"

namespace custodian {

using pool_actor = caf::typed_actor<
  /// Leases an idle resource, creates one below max_size, or waits in line (FIFO)
  /// up to the pool's acquire_timeout_ms. Errors: `timeout` (carrying the last
  /// creation error when resources could not be created), `unavailable` (draining,
  /// destroyed, error).
  caf::replies_to<acquire_atom>::with<lease>,
  /// The same with the caller's own timeout.
  caf::replies_to<acquire_atom, caf::timespan>::with<lease>,
  /// Gives a lease back and confirms; `not_found` for an unknown or already
  /// released lease (never a double free).
  caf::replies_to<release_atom, uint64_t>::with<caf::ok_atom>,
  /// Gives a lease back without an answer (the fast path); a bad id is counted in
  /// `bad_releases` and published as a `bad_release` event.
  caf::reacts_to<return_atom, uint64_t>,
  /// active -> suspended: acquires wait, nothing is handed out.
  caf::replies_to<suspend_atom>::with<pool_state>,
  /// suspended -> active: waiters are served.
  caf::replies_to<resume_atom>::with<pool_state>,
  /// No new leases; waits for leased resources (bounded), drains every resource and
  /// replies `destroyed`. Waiters get `unavailable`.
  caf::replies_to<drain_atom>::with<pool_state>,
  /// Counters and gauges.
  caf::replies_to<stats_atom>::with<pool_stats>>;

} // namespace custodian
