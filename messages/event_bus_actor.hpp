#pragma once
// The typed interfaces of the event bus and of its subscribers.

#include <cstdint>
#include <vector>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "messages/atoms.hpp"
#include "messages/event.hpp"

namespace custodian {

/// A subscriber receives batches and acks each one to the bus with
/// `(ack_atom, subscription)`; the bus sends the next batch only after the ack.
using event_sink_actor = caf::typed_actor<caf::reacts_to<event_batch>>;

using event_bus_actor = caf::typed_actor<
  /// Assigns the next seq and buffers the event for every matching subscriber.
  caf::reacts_to<publish_atom, event>,
  /// The same for several events of one publisher, in order.
  caf::reacts_to<publish_atom, std::vector<event>>,
  /// Registers a sink; replies the subscription id. The bus monitors the sink and
  /// forgets it when it dies.
  caf::replies_to<subscribe_atom, event_filter, event_sink_actor>::with<uint64_t>,
  /// The sink has processed the last batch of this subscription.
  caf::reacts_to<ack_atom, uint64_t>,
  /// Removes a subscription; replies `not_found` for an unknown id.
  caf::replies_to<unsubscribe_atom, uint64_t>::with<bool>,
  /// Replies once every subscriber has received and acked every event published
  /// before the flush (shutdown uses it so that no event is lost at the end).
  caf::replies_to<flush_atom>::with<caf::ok_atom>,
  /// Counters of the bus.
  caf::replies_to<stats_atom>::with<event_bus_stats>>;

} // namespace custodian
