#pragma once
// The root of the supervision tree: owns the event bus, the registry of pools and
// every resource the runtime adds, and takes them all down on shutdown, drained
// first.

#include "messages/root_actor.hpp"

namespace caf {
class actor_system;
}

namespace custodian {

root_actor spawn_root_supervisor(caf::actor_system& sys);

} // namespace custodian
