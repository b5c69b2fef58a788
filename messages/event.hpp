#pragma once
// Events published on the bus, the subscription filter and the batches delivered
// to subscribers.

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>
#include <caf/timestamp.hpp>

namespace custodian {

/// One thing that happened on the node. `seq` is assigned by the event bus and
/// strictly increasing per node; publishers leave it 0.
struct event {
  uint64_t seq = 0;
  caf::timestamp ts;
  std::string kind;     ///< e.g. "transition", "init_retry"
  std::string pool;     ///< empty when not pool-specific
  std::string resource; ///< empty when not resource-specific
  std::string from;     ///< previous state, for transitions
  std::string to;       ///< new state, for transitions
  std::string detail;   ///< a JSON object as text ("{}" when empty)
  bool operator==(const event&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, event& x) {
  return f(caf::meta::type_name("custodian.event"), x.seq, x.ts, x.kind, x.pool, x.resource, x.from,
           x.to, x.detail);
}

/// What a subscriber wants and how much it may fall behind. Empty fields match all.
struct event_filter {
  std::vector<std::string> kinds;
  std::string pool;
  std::string resource;
  /// Events buffered for this subscriber before the oldest are dropped.
  uint32_t capacity = 4096;
  /// Largest batch delivered at once.
  uint32_t max_batch = 512;
  bool operator==(const event_filter&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, event_filter& x) {
  return f(caf::meta::type_name("custodian.event_filter"), x.kinds, x.pool, x.resource, x.capacity,
           x.max_batch);
}

/// Delivered to a subscriber; the next batch follows only after it acks this one.
struct event_batch {
  uint64_t subscription = 0;
  std::vector<event> events;
  /// Events dropped for this subscriber since it subscribed (oldest first).
  uint64_t dropped_total = 0;
  bool operator==(const event_batch&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, event_batch& x) {
  return f(caf::meta::type_name("custodian.event_batch"), x.subscription, x.events,
           x.dropped_total);
}

/// Counters of the bus as a whole.
struct event_bus_stats {
  uint64_t published = 0;
  uint64_t last_seq = 0;
  uint64_t subscribers = 0;
  uint64_t dropped = 0;
  bool operator==(const event_bus_stats&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, event_bus_stats& x) {
  return f(caf::meta::type_name("custodian.event_bus_stats"), x.published, x.last_seq,
           x.subscribers, x.dropped);
}

} // namespace custodian
