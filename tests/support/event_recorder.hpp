#pragma once
// Records what the event bus delivers, for tests: a subscriber that keeps every
// event, and the replay of each resource's transitions through the state table.

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <caf/all.hpp>
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "actors/transition_table.hpp"
#include "messages/event_bus_actor.hpp"

namespace custodian::test {

/// What a test subscriber has seen.
struct recording {
  std::vector<event> events;
  uint64_t batches = 0;
  uint64_t dropped_total = 0;
  uint64_t subscription = 0;
};

/// A subscriber that records every batch and acks it at once if `auto_ack`.
inline event_sink_actor spawn_recorder(caf::actor_system& sys, const event_bus_actor& bus,
                                       std::shared_ptr<recording> rec, bool auto_ack) {
  return sys.spawn(
    [rec, auto_ack, bus](event_sink_actor::pointer self) -> event_sink_actor::behavior_type {
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
}

/// Position of the first event in `events` of this kind, pool and target state;
/// the number of events if there is none.
inline std::size_t first_event(const std::vector<event>& events, const std::string& kind,
                               const std::string& pool, const std::string& to) {
  auto i = std::find_if(events.begin(), events.end(), [&](const event& ev) {
    return ev.kind == kind && ev.pool == pool && ev.to == to;
  });
  return static_cast<std::size_t>(i - events.begin());
}

/// Replays every resource's transitions ("transition" events, and the lease
/// events its pool's leases move it with), in seq order, through the state
/// table: each starts where the previous one ended and is a valid transition; a
/// resource restarted by its supervisor starts again from `created`.
/// Returns each resource's last state.
inline std::map<std::string, lifecycle_state> replay_transitions(const std::vector<event>& events) {
  struct track {
    lifecycle_state state = lifecycle_state::created;
    bool recoverable = false;
  };
  std::map<std::string, track> resources;
  uint64_t last_seq = 0;
  for (const auto& ev : events) {
    CHECK_MESSAGE(ev.seq > last_seq, "seq " << ev.seq << " after " << last_seq);
    last_seq = ev.seq;
    if (ev.kind == "resource_restarted") {
      resources.erase(ev.resource); // a fresh actor under the same name
      continue;
    }
    // A thread's take from the shelf is a lease event without a transition.
    auto moves = ev.kind == "transition" ||
                 ((ev.kind == "lease_acquired" || ev.kind == "lease_released") && !ev.from.empty());
    if (!moves)
      continue;
    auto& t = resources[ev.resource];
    CHECK_MESSAGE(ev.from == to_string(t.state), ev.resource << ": " << ev.from << " -> " << ev.to
                                                             << " after " << to_string(t.state));
    auto to = lifecycle_state_from_string(ev.to);
    REQUIRE_MESSAGE(to, ev.to);
    CHECK_MESSAGE(is_valid_transition(t.state, *to, t.recoverable),
                  ev.resource << ": " << ev.from << " -> " << ev.to);
    if (*to == lifecycle_state::failed)
      t.recoverable = nlohmann::json::parse(ev.detail)["recoverable"].get<bool>();
    t.state = *to;
  }
  std::map<std::string, lifecycle_state> last;
  for (const auto& [id, t] : resources)
    last.emplace(id, t.state);
  return last;
}

} // namespace custodian::test
