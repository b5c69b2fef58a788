#pragma once
// The typed interfaces of a supervisor, which starts, monitors and restarts an
// ordered list of children with OTP's semantics, and of the actor it reports to.
// In-process only: a child spec carries its start function.

#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "messages/atoms.hpp"
#include "messages/supervisor_messages.hpp"

namespace custodian {

/// Hears of every restart of a supervisor and of its escalation.
using supervisor_watcher_actor =
  caf::typed_actor<caf::reacts_to<child_restarted>, caf::reacts_to<supervisor_escalated>>;

using supervisor_actor = caf::typed_actor<
  /// Starts one more child, after the others, and replies its handle;
  /// `bad_request` if the id is taken or the spec has no start function,
  /// `unavailable` if the child did not start.
  caf::replies_to<start_atom, child_spec>::with<caf::actor>,
  /// Stops a child and forgets it, replying once it has ended (killed after its
  /// shutdown time); `not_found` naming the id if there is no such child.
  caf::replies_to<stop_atom, std::string>::with<caf::ok_atom>,
  /// Every child, in start order (OTP's which_children).
  caf::replies_to<children_atom>::with<std::vector<child_info>>>;

} // namespace custodian
