#pragma once
// The typed interfaces around a pool supervisor: the generic supervisor, with
// the pool's resources as its children, and the pool as the actor that hears
// each resource's fresh handle when it is started again after a crash.
// In-process only: a resource lives on the node of its pool.

#include <memory>
#include <string>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "messages/atoms.hpp"
#include "messages/resource_actor.hpp"
#include "messages/supervisor_actor.hpp"

namespace custodian {

class connection_view;
using connection_view_ptr = std::shared_ptr<connection_view>;

using pool_supervisor_actor = supervisor_actor;

/// Hears that the resource with this id was started again, as this actor (state
/// `created`).
using resource_restart_watcher =
  caf::typed_actor<caf::reacts_to<spawn_atom, std::string, resource_actor>>;

} // namespace custodian
