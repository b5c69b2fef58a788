#pragma once
// The pool supervisor: the owner of one pool's resource actors. The pool asks it
// for each resource; it links every resource and the pool to itself, so a pool
// that fails takes its resources down with it. A resource that crashes ends
// alone: its pool, which monitors it, takes its lease back and replaces it.

#include "actors/resource.hpp"
#include "messages/pool_supervisor_actor.hpp"

namespace caf {
class actor_system;
}

namespace custodian {

/// Spawns the supervisor of a pool whose resources are made from `resource_template`
/// (id and view are set per resource).
pool_supervisor_actor spawn_pool_supervisor(caf::actor_system& sys,
                                            resource_config resource_template,
                                            resource_context ctx);

} // namespace custodian
