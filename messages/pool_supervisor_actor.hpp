#pragma once
// The typed interface of a pool supervisor: the owner of one pool's resource
// actors. The pool asks it for each resource it needs; a pool's resources end
// with its supervisor. In-process only: a resource lives on the node of its pool.

#include <memory>
#include <string>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "messages/atoms.hpp"
#include "messages/resource_actor.hpp"

namespace custodian {

class connection_view;

using connection_view_ptr = std::shared_ptr<connection_view>;

using pool_supervisor_actor = caf::typed_actor<
  /// Spawns a resource (state `created`) with this id from the pool's resource
  /// template, showing its connection in the view.
  caf::replies_to<spawn_atom, std::string, connection_view_ptr>::with<resource_actor>>;

} // namespace custodian

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(custodian::connection_view_ptr)
