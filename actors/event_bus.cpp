#include "actors/event_bus.hpp"

#include <algorithm>
#include <deque>
#include <map>
#include <utility>
#include <vector>

#include <caf/all.hpp>

#include "messages/errors.hpp"

namespace custodian {

namespace {

struct subscription {
  event_sink_actor sink;
  event_filter filter;
  std::deque<event> buffer;
  /// A batch is out and not yet acked: the next one waits.
  bool awaiting_ack = false;
  uint64_t dropped = 0;

  bool matches(const event& ev) const {
    return (filter.pool.empty() || filter.pool == ev.pool) &&
           (filter.resource.empty() || filter.resource == ev.resource) &&
           (filter.kinds.empty() ||
            std::find(filter.kinds.begin(), filter.kinds.end(), ev.kind) != filter.kinds.end());
  }
};

struct event_bus_state {
  static inline const char* name = "custodian.event_bus";
  uint64_t next_seq = 1;
  uint64_t next_subscription = 1;
  uint64_t published = 0;
  uint64_t dropped = 0;
  std::map<uint64_t, subscription> subscriptions;
  std::vector<caf::typed_response_promise<caf::ok_atom>> flushes;

  bool all_delivered() const {
    return std::all_of(subscriptions.begin(), subscriptions.end(), [](const auto& kv) {
      return !kv.second.awaiting_ack && kv.second.buffer.empty();
    });
  }
};

using self_ptr = event_bus_actor::stateful_pointer<event_bus_state>;

/// Answers the flush requests once nothing is buffered or unacked any more.
void settle_flushes(self_ptr self) {
  auto& st = self->state;
  if (st.flushes.empty() || !st.all_delivered())
    return;
  for (auto& promise : st.flushes)
    promise.deliver(caf::ok_atom::value);
  st.flushes.clear();
}

void flush(self_ptr self, uint64_t id, subscription& sub) {
  if (sub.awaiting_ack || sub.buffer.empty())
    return;
  auto n = std::min<std::size_t>(sub.buffer.size(), sub.filter.max_batch);
  event_batch batch{id, {}, sub.dropped};
  batch.events.reserve(n);
  std::move(sub.buffer.begin(), sub.buffer.begin() + static_cast<std::ptrdiff_t>(n),
            std::back_inserter(batch.events));
  sub.buffer.erase(sub.buffer.begin(), sub.buffer.begin() + static_cast<std::ptrdiff_t>(n));
  sub.awaiting_ack = true;
  self->send(sub.sink, std::move(batch));
}

void buffer(self_ptr self, subscription& sub, event ev) {
  if (sub.buffer.size() >= sub.filter.capacity) {
    sub.buffer.pop_front();
    ++sub.dropped;
    ++self->state.dropped;
  }
  sub.buffer.push_back(std::move(ev));
}

void publish(self_ptr self, event ev) {
  auto& st = self->state;
  ev.seq = st.next_seq++;
  ++st.published;
  subscription* last_match = nullptr;
  uint64_t last_id = 0;
  for (auto& [id, sub] : st.subscriptions) {
    if (!sub.matches(ev))
      continue;
    if (last_match) {
      buffer(self, *last_match, ev);
      flush(self, last_id, *last_match);
    }
    last_match = &sub;
    last_id = id;
  }
  // The last match takes the event itself: no copy with a single subscriber.
  if (last_match) {
    buffer(self, *last_match, std::move(ev));
    flush(self, last_id, *last_match);
  }
}

event_bus_actor::behavior_type event_bus(self_ptr self) {
  self->set_down_handler([self](const caf::down_msg& msg) {
    auto& subs = self->state.subscriptions;
    for (auto i = subs.begin(); i != subs.end();)
      i = i->second.sink.address() == msg.source ? subs.erase(i) : std::next(i);
    settle_flushes(self);
  });
  return {
    [self](publish_atom, event& ev) { publish(self, std::move(ev)); },
    [self](publish_atom, std::vector<event>& evs) {
      for (auto& ev : evs)
        publish(self, std::move(ev));
    },
    [self](subscribe_atom, const event_filter& filter,
           const event_sink_actor& sink) -> caf::result<uint64_t> {
      if (!sink)
        return make_error(errc::bad_request, "subscribe: the sink is a null handle");
      if (filter.capacity == 0 || filter.max_batch == 0)
        return make_error(errc::bad_request,
                          "subscribe: capacity and max_batch must be at least 1");
      auto id = self->state.next_subscription++;
      self->monitor(sink);
      self->state.subscriptions.emplace(id, subscription{sink, filter, {}, false, 0});
      return id;
    },
    [self](ack_atom, uint64_t id) {
      auto i = self->state.subscriptions.find(id);
      if (i == self->state.subscriptions.end())
        return; // unsubscribed meanwhile
      i->second.awaiting_ack = false;
      flush(self, id, i->second);
      settle_flushes(self);
    },
    [self](unsubscribe_atom, uint64_t id) -> caf::result<bool> {
      if (self->state.subscriptions.erase(id) == 0)
        return make_error(errc::not_found, "unsubscribe: no subscription " + std::to_string(id));
      settle_flushes(self);
      return true;
    },
    [self](flush_atom) {
      auto promise = self->make_response_promise<caf::ok_atom>();
      self->state.flushes.push_back(promise);
      settle_flushes(self);
      return promise;
    },
    [self](stats_atom) {
      auto& st = self->state;
      return event_bus_stats{st.published, st.next_seq - 1, st.subscriptions.size(), st.dropped};
    },
  };
}

} // namespace

event_bus_actor spawn_event_bus(caf::actor_system& sys) {
  return sys.spawn(event_bus);
}

} // namespace custodian
