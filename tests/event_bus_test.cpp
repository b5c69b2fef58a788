// The event bus: seq order, filters, bounded buffers that drop the oldest and count
// the drops, acked batches, and subscribers that die.

#include <memory>
#include <vector>

#include "tests/support/deterministic_fixture.hpp"
#include "tests/support/event_recorder.hpp"

using namespace custodian;
using namespace custodian::test;

namespace {

struct bus_fixture : deterministic_fixture {
  /// A subscriber that records every batch and acks it at once if `auto_ack`.
  event_sink_actor recorder(std::shared_ptr<recording> rec, bool auto_ack) {
    auto sink = spawn_recorder(sys, bus, std::move(rec), auto_ack);
    track(sink);
    return sink;
  }

  uint64_t subscribe(event_filter filter, const event_sink_actor& sink) {
    auto r = call<uint64_t>(bus, subscribe_atom::value, std::move(filter), sink);
    REQUIRE(r.value);
    return *r.value;
  }

  void publish(std::string kind, std::string pool = "p", std::string resource = "r") {
    caf::anon_send(bus, publish_atom::value,
                   event{0, caf::make_timestamp(), std::move(kind), std::move(pool),
                         std::move(resource), "", "", "{}"});
  }

  event_bus_stats stats() {
    auto r = call<event_bus_stats>(bus, stats_atom::value);
    REQUIRE(r.value);
    return *r.value;
  }
};

} // namespace

TEST_CASE_FIXTURE(bus_fixture, "seq is strictly increasing and a fast subscriber gets everything") {
  auto rec = std::make_shared<recording>();
  subscribe({}, recorder(rec, true));
  for (int i = 0; i < 1'000; ++i)
    publish("k" + std::to_string(i));
  run();
  REQUIRE(rec->events.size() == 1'000);
  for (std::size_t i = 0; i < rec->events.size(); ++i) {
    CHECK(rec->events[i].seq == i + 1);
    CHECK(rec->events[i].kind == "k" + std::to_string(i));
  }
  CHECK(rec->dropped_total == 0);
  auto st = stats();
  CHECK(st.published == 1'000);
  CHECK(st.last_seq == 1'000);
  CHECK(st.dropped == 0);
}

TEST_CASE_FIXTURE(bus_fixture, "a slow subscriber loses the oldest events and learns how many") {
  auto slow = std::make_shared<recording>();
  auto fast = std::make_shared<recording>();
  event_filter bounded;
  bounded.capacity = 4;
  bounded.max_batch = 2;
  auto slow_id = subscribe(bounded, recorder(slow, false));
  subscribe({}, recorder(fast, true));
  for (int i = 0; i < 20; ++i)
    publish("k");
  run();
  // The first event went out at once; the slow sink has not acked it, so 19 more
  // met a buffer of 4: the 15 oldest were dropped.
  REQUIRE(slow->events.size() == 1);
  CHECK(slow->events[0].seq == 1);
  CHECK(fast->events.size() == 20);
  CHECK(stats().dropped == 15);
  caf::anon_send(bus, ack_atom::value, slow_id);
  run();
  REQUIRE(slow->events.size() == 3);
  CHECK(slow->events[1].seq == 17);
  CHECK(slow->events[2].seq == 18);
  CHECK(slow->dropped_total == 15);
  caf::anon_send(bus, ack_atom::value, slow_id);
  run();
  REQUIRE(slow->events.size() == 5);
  CHECK(slow->events[4].seq == 20);
  caf::anon_send(bus, ack_atom::value, slow_id);
  run();
  CHECK(slow->batches == 3); // nothing left to send
}

TEST_CASE_FIXTURE(bus_fixture, "filters select by kind, pool and resource") {
  auto by_kind = std::make_shared<recording>();
  auto by_pool = std::make_shared<recording>();
  auto by_resource = std::make_shared<recording>();
  event_filter kinds;
  kinds.kinds = {"transition", "init_retry"};
  event_filter pool;
  pool.pool = "orders";
  event_filter resource;
  resource.resource = "orders-1";
  subscribe(kinds, recorder(by_kind, true));
  subscribe(pool, recorder(by_pool, true));
  subscribe(resource, recorder(by_resource, true));
  publish("transition", "orders", "orders-1");
  publish("other", "orders", "orders-2");
  publish("init_retry", "cache", "cache-1");
  publish("other", "cache", "orders-1");
  run();
  CHECK(by_kind->events.size() == 2);
  CHECK(by_pool->events.size() == 2);
  CHECK(by_resource->events.size() == 2);
  CHECK(by_resource->events[1].seq == 4);
}

TEST_CASE_FIXTURE(bus_fixture, "a subscriber that dies is unsubscribed") {
  auto rec = std::make_shared<recording>();
  auto sink = recorder(rec, true);
  subscribe({}, sink);
  CHECK(stats().subscribers == 1);
  caf::anon_send_exit(sink, caf::exit_reason::kill);
  run();
  CHECK(stats().subscribers == 0);
  publish("k");
  run();
  CHECK(stats().published == 1);
}

TEST_CASE_FIXTURE(bus_fixture, "bad subscriptions and unknown ids get typed errors") {
  auto rec = std::make_shared<recording>();
  auto sink = recorder(rec, true);
  event_filter zero;
  zero.capacity = 0;
  CHECK(call<uint64_t>(bus, subscribe_atom::value, zero, sink).failed_with(errc::bad_request));
  CHECK(call<uint64_t>(bus, subscribe_atom::value, event_filter{}, event_sink_actor{})
          .failed_with(errc::bad_request));
  CHECK(call<bool>(bus, unsubscribe_atom::value, uint64_t{42}).failed_with(errc::not_found));
  auto id = subscribe({}, sink);
  CHECK(call<bool>(bus, unsubscribe_atom::value, id).value == true);
  publish("k");
  run();
  CHECK(rec->events.empty());
  // An ack for a subscription that is gone is ignored.
  caf::anon_send(bus, ack_atom::value, id);
  run();
  CHECK(stats().subscribers == 0);
}

TEST_CASE_FIXTURE(bus_fixture,
                  "a resource's transitions arrive in order and replay through the table") {
  auto rec = std::make_shared<recording>();
  subscribe({}, recorder(rec, true));
  drivers::sim_script script;
  script.fail_connects = 1;
  script.connect_error = drivers::driver_errc::exception; // retried by the resource itself
  sim->set_script("db-1", script);
  auto res = make_resource("db-1");
  auto init = ask(res, initialize_atom::value);
  settle();
  advance(std::chrono::milliseconds{100});
  settle();
  REQUIRE(take<lifecycle_state>(init).value == lifecycle_state::ready);
  call<lifecycle_state>(res, acquire_atom::value);
  call<lifecycle_state>(res, fail_atom::value, std::string{"lost"});
  call<lifecycle_state>(res, initialize_atom::value);
  call<lifecycle_state>(res, drain_atom::value);
  std::size_t transitions = 0;
  bool saw_retry = false;
  for (auto& ev : rec->events) {
    CHECK(ev.resource == "db-1");
    CHECK(ev.pool == "test");
    if (ev.kind == "init_retry")
      saw_retry = true;
    if (ev.kind == "transition")
      ++transitions;
  }
  CHECK(saw_retry);
  // created -> initializing -> ready -> in_use -> failed -> initializing -> ready
  //   -> draining -> cleanup -> terminated
  CHECK(transitions == 9);
  auto last = replay_transitions(rec->events);
  CHECK(last.at("db-1") == lifecycle_state::terminated);
}

TEST_CASE_FIXTURE(bus_fixture, "flush answers once every subscriber has acked what was published") {
  auto slow = std::make_shared<recording>();
  auto slow_id = subscribe({}, recorder(slow, false));
  CHECK(call<caf::ok_atom>(bus, flush_atom::value).value); // nothing pending
  publish("a");
  publish("b");
  auto p = ask(bus, flush_atom::value);
  run();
  CHECK_FALSE(take<caf::ok_atom>(p).answered()); // "a" is out, unacked; "b" waits
  caf::anon_send(bus, ack_atom::value, slow_id);
  run();
  CHECK_FALSE(take<caf::ok_atom>(p).answered()); // "b" is out, unacked
  caf::anon_send(bus, ack_atom::value, slow_id);
  run();
  CHECK(take<caf::ok_atom>(p).value);
  CHECK(slow->events.size() == 2);
}
