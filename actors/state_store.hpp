#pragma once
// The state store actor: every read and write of the node's persistence goes
// through it. It runs detached (a thread of its own), so its blocking SQLite
// calls never hold up CAF's cooperative scheduler; it replies only after the
// transaction has committed.

#include <caf/expected.hpp>

#include "actors/store_backend.hpp"
#include "messages/state_store_actor.hpp"

namespace caf {
class actor_system;
}

namespace custodian {

/// Opens the store on the caller's thread, then spawns the actor that owns it.
/// An unopenable store (unwritable path, not a SQLite file, a newer schema) is a
/// store_error naming the path and the cause: the node prints it and exits.
caf::expected<state_store_actor> spawn_state_store(caf::actor_system& sys,
                                                   const state_store_config& cfg);

} // namespace custodian
