#pragma once
// The typed interface of a resource actor: one resource, one driver handle, one
// lifecycle state machine. Every operation replies with the state it reached or an
// error; an operation that is not valid in the current state replies
// `errc::invalid_transition` ("from -> to") and changes nothing.

#include <string>
#include <vector>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "messages/atoms.hpp"
#include "messages/lifecycle_state.hpp"
#include "messages/resource_messages.hpp"

namespace custodian {

using resource_actor = caf::typed_actor<
  /// created | failed(recoverable) -> initializing -> ready. Replies `ready` once
  /// connected; `timeout` (now failed, recoverable) if a connect exceeded
  /// init.timeout_ms; `driver_error` (failed, not recoverable) once retries are spent.
  caf::replies_to<initialize_atom>::with<lifecycle_state>,
  /// ready | idle -> in_use.
  caf::replies_to<acquire_atom>::with<lifecycle_state>,
  /// in_use -> idle.
  caf::replies_to<release_atom>::with<lifecycle_state>,
  /// ready | idle -> in_use: a pool lent it (told one-way, within a few ms of
  /// the lease and before any other request of the pool's; the pool does not
  /// wait). Ignored in any other state: the pool learns of that by the lease's
  /// first use.
  caf::reacts_to<acquire_atom, lease_note>,
  /// in_use -> idle: that lease ended (returned or taken back). Ignored for any
  /// other lease, or in any other state.
  caf::reacts_to<release_atom, lease_end>,
  /// ready | idle -> maintenance -> ready (driver reset). Replies `ready`, or
  /// `driver_error` / `timeout` with the resource failed (recoverable).
  caf::replies_to<maintain_atom>::with<lifecycle_state>,
  /// ready | idle | failed -> draining -> cleanup -> terminated. Waits for the active
  /// driver call (bounded by the drain timeout), closes the handle (bounded by the
  /// cleanup timeout) and replies `terminated`.
  caf::replies_to<drain_atom>::with<lifecycle_state>,
  /// in_use -> failed(recoverable): the holder reports the resource broken (reason).
  caf::replies_to<fail_atom, std::string>::with<lifecycle_state>,
  /// Runs a driver request (JSON text) while in_use; replies the driver's JSON
  /// response, `driver_error`, `timeout`, or `unavailable` if a call is in flight.
  /// A broken connection or a timed-out call moves the resource to failed(recoverable).
  caf::replies_to<exec_atom, std::string>::with<std::string>,
  /// Connectivity probe while ready | idle; `unavailable` if a call is in flight,
  /// `leased` while in_use (a holder has it: nothing to judge).
  caf::replies_to<ping_atom>::with<ping_result>,
  /// Snapshot of the resource; valid in every state.
  caf::replies_to<status_atom>::with<resource_status>,
  /// The bounded transition history, oldest first; valid in every state.
  caf::replies_to<history_atom>::with<std::vector<transition_record>>>;

} // namespace custodian
