#pragma once
// The typed interfaces of the quarantine supervisor and of those who eject
// resources into it.

#include <string>
#include <vector>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "messages/atoms.hpp"
#include "messages/quarantine_messages.hpp"
#include "messages/resource_actor.hpp"

namespace custodian {

/// Hears what became of the resources it ejected.
using quarantine_watcher_actor = caf::typed_actor<caf::reacts_to<quarantine_outcome>>;

using quarantine_actor = caf::typed_actor<
  /// Takes a resource out of service (reason): recovery is attempted after the
  /// policy's delays; the watcher hears the outcome. Ejecting a resource already in
  /// quarantine changes nothing.
  caf::replies_to<eject_atom, std::string, resource_actor, std::string,
                  quarantine_watcher_actor>::with<caf::ok_atom>,
  /// An operator returns a resource to service now; `not_found` if it is not in
  /// quarantine.
  caf::replies_to<release_atom, std::string>::with<caf::ok_atom>,
  /// Every resource in quarantine.
  caf::replies_to<status_atom>::with<std::vector<quarantine_entry>>>;

} // namespace custodian
