#pragma once
// The event bus: assigns every event its seq and delivers matching events to
// subscribers in acked batches, through a bounded buffer per subscriber that
// drops the oldest events (and counts them) instead of growing.

#include "messages/event_bus_actor.hpp"

namespace caf {
class actor_system;
}

namespace custodian {

event_bus_actor spawn_event_bus(caf::actor_system& sys);

} // namespace custodian
