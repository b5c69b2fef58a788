#pragma once
// A subscriber of the event bus that records what it is sent, for tests on the
// deterministic scheduler.

#include <cstdint>
#include <memory>
#include <vector>

#include "tests/support/deterministic_fixture.hpp"

namespace custodian::test {

/// What a test subscriber has seen.
struct recording {
  std::vector<event> events;
  uint64_t batches = 0;
  uint64_t dropped_total = 0;
  uint64_t subscription = 0;
};

/// A subscriber that records every batch and acks it at once if `auto_ack`.
inline event_sink_actor spawn_recorder(deterministic_fixture& f, std::shared_ptr<recording> rec,
                                       bool auto_ack) {
  auto sink = f.sys.spawn([rec, auto_ack, bus = f.bus](
                            event_sink_actor::pointer self) -> event_sink_actor::behavior_type {
    return {[=](event_batch& batch) {
      ++rec->batches;
      rec->dropped_total = batch.dropped_total;
      rec->subscription = batch.subscription;
      for (auto& ev : batch.events)
        rec->events.push_back(std::move(ev));
      if (auto_ack)
        self->send(bus, ack_atom::value, batch.subscription);
    }};
  });
  f.track(sink);
  return sink;
}

/// Subscribes `sink` to the fixture's bus; returns the subscription id.
inline uint64_t subscribe(deterministic_fixture& f, event_filter filter,
                          const event_sink_actor& sink) {
  auto r = f.call<uint64_t>(f.bus, subscribe_atom::value, std::move(filter), sink);
  REQUIRE(r.value);
  return *r.value;
}

} // namespace custodian::test
