#pragma once
// Registers every message type and the error category with an actor system config,
// under the same names on every node.

namespace caf {
class actor_system_config;
}

namespace custodian {

void register_message_types(caf::actor_system_config& cfg);

} // namespace custodian
