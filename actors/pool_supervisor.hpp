#pragma once
// The pool supervisor: the owner of one pool's resource actors. The pool asks it
// for each resource. It is linked to its pool and ends every resource when it
// ends, so a pool that fails takes its resources down with it. It only monitors
// its resources: one that crashes, or is killed outright, ends alone, and its
// pool, which monitors it too, takes its lease back and replaces it.

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
