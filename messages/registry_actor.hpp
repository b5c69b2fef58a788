#pragma once
// The typed interface of the registry: the owner of the node's pools by name and
// of the dependency graph between them.

#include <memory>
#include <string>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/replies_to.hpp>
#include <caf/timespan.hpp>
#include <caf/typed_actor.hpp>

#include "messages/atoms.hpp"
#include "messages/pool_actor.hpp"
#include "messages/registry_messages.hpp"

namespace custodian {

struct pool_config;

/// Pools to add. In-process only: a config holds its driver instance.
using pool_configs = std::shared_ptr<const std::vector<pool_config>>;

using registry_actor = caf::typed_actor<
  /// Adds pools, validated as a whole with those already there: replies their
  /// handles in the batch's order. Each is spawned waiting (acquires wait in line)
  /// and started once every hard dependency is active. `bad_config` names what is
  /// wrong (an empty or taken name, an unhealthy_share outside (0, 1], an unknown
  /// dependency, a cycle), and then nothing is started; `unavailable` once the
  /// registry is stopping.
  caf::replies_to<add_atom, pool_configs>::with<std::vector<pool_actor>>,
  /// The pool of this name. `not_found` naming it; `unavailable` if it ended.
  caf::replies_to<caf::get_atom, std::string>::with<pool_actor>,
  /// Every pool in start order: state, own health, availability and root cause.
  caf::replies_to<status_atom>::with<std::vector<pool_summary>>,
  /// Applies a pool's new config: its dependencies are checked with the rest of
  /// the graph first (`bad_config` naming an unknown pool or a cycle; then nothing
  /// changes), the cascade is computed again, and the pool applies the rest (see
  /// the pool's `configure_atom`). `not_found` for an unknown pool.
  caf::replies_to<configure_atom, pool_update>::with<caf::ok_atom>,
  /// Removes pool `name`: drained within the given time, or stopped at once when
  /// `force` is set or the time runs out; replies whether it drained. `conflict`
  /// naming the pools that depend on it (hard or soft: a dependant would be left
  /// with a dangling dependency); `not_found` for an unknown pool.
  caf::replies_to<remove_atom, std::string, bool, caf::timespan>::with<bool>,
  /// Drains every pool, each once its dependants are done (dependants before what
  /// they depend on), all within the given time: a pool not drained by then is
  /// stopped. Replies which drained and which were forced; adds are refused from
  /// here on.
  caf::replies_to<drain_atom, caf::timespan>::with<drain_report>>;

} // namespace custodian

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(custodian::pool_configs)
