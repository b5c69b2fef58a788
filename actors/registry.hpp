#pragma once
// The registry: owns the node's pools by name and the dependency graph between
// them. It starts each pool once its hard dependencies are active, watches every
// pool's own health, cascades it to the dependants as availability (hard: down,
// soft: degraded, with the root cause) and drains the pools in reverse dependency
// order. Pools are monitored, not linked: one that ends counts as in error.

#include "actors/resource.hpp"
#include "messages/registry_actor.hpp"

namespace caf {
class actor_system;
}

namespace custodian {

/// Spawns an empty registry; its pools' resources run with `ctx`.
registry_actor spawn_registry(caf::actor_system& sys, resource_context ctx);

} // namespace custodian
