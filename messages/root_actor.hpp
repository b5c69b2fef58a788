#pragma once
// The typed interface of the root of the supervision tree, which the runtime owns.

#include <cstdint>

#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/timespan.hpp>
#include <caf/typed_actor.hpp>

#include "messages/atoms.hpp"
#include "messages/event_bus_actor.hpp"
#include "messages/registry_actor.hpp"
#include "messages/resource_actor.hpp"

namespace custodian {

/// How a shutdown went: children (resources and the registry's pools) that drained
/// in time, and children that were stopped without draining (their handles are
/// closed by their blocking workers all the same).
struct shutdown_report {
  uint64_t drained = 0;
  uint64_t forced = 0;
  bool operator==(const shutdown_report&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, shutdown_report& x) {
  return f(caf::meta::type_name("custodian.shutdown_report"), x.drained, x.forced);
}

using root_actor = caf::typed_actor<
  /// The node's event bus.
  caf::replies_to<caf::get_atom>::with<event_bus_actor>,
  /// Adopts a resource into the tree: the root monitors it, keeps its handle,
  /// drains it at shutdown and stops it when the tree stops.
  caf::replies_to<adopt_atom, resource_actor>::with<caf::ok_atom>,
  /// Adopts the registry into the tree: the root monitors it, drains its pools (in
  /// reverse dependency order) at shutdown and stops it when the tree stops.
  caf::replies_to<adopt_atom, registry_actor>::with<caf::ok_atom>,
  /// Adopts any other actor (event sinks, helpers): stopped when the tree stops.
  caf::replies_to<adopt_atom, caf::actor>::with<caf::ok_atom>,
  /// Drains every resource, and the registry's pools in reverse dependency order, in
  /// parallel, waiting at most the given time; replies the report and stops the
  /// whole tree.
  caf::replies_to<shutdown_atom, caf::timespan>::with<shutdown_report>>;

} // namespace custodian
