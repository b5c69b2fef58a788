#pragma once
// The typed interfaces of a health checker, which probes the resources of one
// pool, and of the actor it reports to.

#include <string>
#include <vector>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "messages/atoms.hpp"
#include "messages/health_messages.hpp"
#include "messages/resource_actor.hpp"

namespace custodian {

/// Receives a report whenever a resource's health status changes.
using health_watcher_actor = caf::typed_actor<caf::reacts_to<health_report>>;

using health_checker_actor = caf::typed_actor<
  /// Starts probing a resource (status `unknown` until its first probe).
  caf::replies_to<watch_atom, std::string, resource_actor>::with<caf::ok_atom>,
  /// Stops probing a resource; unknown ids are ignored.
  caf::reacts_to<unwatch_atom, std::string>,
  /// The health of every watched resource, by id.
  caf::replies_to<status_atom>::with<std::vector<health_report>>>;

} // namespace custodian
