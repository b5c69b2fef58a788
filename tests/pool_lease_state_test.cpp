// One state machine per resource: a pool's lease puts the resource actor in
// in_use (its holder and lease in its state and history) and the lease's end
// takes it out; each acquire and return is an event that replays through the
// transition table; a probe skips a leased resource.

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "actors/transition_table.hpp"
#include "tests/support/event_recorder.hpp"
#include "tests/support/pool_fixture.hpp"

using namespace custodian;
using namespace custodian::test;
using namespace std::chrono_literals;

namespace {

struct lease_state_fixture : pool_fixture {
  std::shared_ptr<recording> seen = std::make_shared<recording>();

  lease_state_fixture() {
    auto sink = spawn_recorder(sys, bus, seen, true);
    track(sink);
    REQUIRE(call<uint64_t>(bus, subscribe_atom::value, event_filter{}, sink).value);
  }

  resource_status status(const resource_actor& res) {
    auto r = call<resource_status>(res, status_atom::value);
    REQUIRE(r.value);
    return *r.value;
  }

  std::vector<transition_record> history(const resource_actor& res) {
    auto r = call<std::vector<transition_record>>(res, history_atom::value);
    REQUIRE(r.value);
    return *r.value;
  }

  /// The pool tells its resources of their leases within a few ms, in a batch.
  void told() {
    advance(10ms);
    settle();
  }

  std::vector<event> of_kind(const std::string& kind) {
    std::vector<event> out;
    std::copy_if(seen->events.begin(), seen->events.end(), std::back_inserter(out),
                 [&](const event& ev) { return ev.kind == kind; });
    return out;
  }
};

} // namespace

TEST_CASE_FIXTURE(lease_state_fixture,
                  "a leased resource is in_use with its lease and holder, and idle once returned") {
  auto p = make_pool(pool_cfg(1, 2));
  auto h = acquire(p);
  told();
  auto leased = status(h.granted.handle);
  CHECK(leased.state == lifecycle_state::in_use);
  CHECK(leased.lease == h.granted.id);
  CHECK(leased.holder.rfind("actor ", 0) == 0);
  REQUIRE_FALSE(release(p, h.granted.id));
  told();
  auto back = status(h.granted.handle);
  CHECK(back.state == lifecycle_state::idle);
  CHECK(back.lease == 0);
  CHECK(back.holder.empty());
  auto past = history(h.granted.handle);
  REQUIRE(past.size() >= 2);
  auto& lent = past[past.size() - 2];
  auto& returned = past.back();
  CHECK(lent.to == lifecycle_state::in_use);
  CHECK(lent.reason.find("lease " + std::to_string(h.granted.id)) != std::string::npos);
  CHECK(lent.reason.find(leased.holder) != std::string::npos);
  CHECK(returned.from == lifecycle_state::in_use);
  CHECK(returned.to == lifecycle_state::idle);
  CHECK(returned.reason.rfind("returned", 0) == 0);
}

TEST_CASE_FIXTURE(lease_state_fixture,
                  "each acquire and return is published with holder, wait and hold time") {
  auto p = make_pool(pool_cfg(1, 1));
  for (int round = 0; round < 3; ++round) {
    auto h = acquire(p);
    advance(20ms);
    REQUIRE_FALSE(release(p, h.granted.id));
  }
  told();
  auto acquired = of_kind("lease_acquired");
  auto released = of_kind("lease_released");
  REQUIRE(acquired.size() == 3);
  REQUIRE(released.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    CAPTURE(i);
    auto a = nlohmann::json::parse(acquired[i].detail);
    auto r = nlohmann::json::parse(released[i].detail);
    CHECK(acquired[i].pool == "orders");
    CHECK(acquired[i].resource == "orders-1");
    CHECK(acquired[i].to == "in_use");
    CHECK(released[i].from == "in_use");
    CHECK(released[i].to == "idle");
    CHECK(a["lease"] == r["lease"]);
    CHECK(a["holder"].get<std::string>().rfind("actor ", 0) == 0);
    CHECK(a["holder"] == r["holder"]);
    CHECK(a.contains("wait_us"));
    CHECK(r["hold_us"].get<uint64_t>() >= 20'000); // held while 20 ms passed
    CHECK(acquired[i].seq < released[i].seq);
  }
  // The lease's events, with every other transition of the resources, replay
  // through the transition table.
  auto last = replay_transitions(seen->events);
  CHECK(last.at("orders-1") == lifecycle_state::idle);
}

TEST_CASE_FIXTURE(lease_state_fixture, "a lease taken back from a holder that ended moves it out") {
  auto p = make_pool(pool_cfg(1, 1));
  auto h = acquire(p);
  auto res = h.granted.handle;
  h.holder.reset(); // the holder ends with its lease
  told();
  CHECK(status(res).state == lifecycle_state::idle);
  auto released = of_kind("lease_released");
  REQUIRE(released.size() == 1);
  CHECK(nlohmann::json::parse(released[0].detail)["reason"].get<std::string>().find(
          "its holder ended") != std::string::npos);
  CHECK(of_kind("lease_reclaimed").size() == 1);
  replay_transitions(seen->events);
}

TEST_CASE_FIXTURE(lease_state_fixture, "a pool's health checks skip a leased resource") {
  auto p = make_pool(with_health(pool_cfg(1, 1), 1));
  auto h = acquire(p);
  // Every ping would fail now: probes of the leased resource must not count.
  drivers::sim_script failing;
  failing.ping_pattern = "-";
  sim->set_script(h.granted.resource, failing);
  auto pings = sim->counters().pings;
  for (int i = 0; i < 3; ++i) {
    advance(1'000ms);
    settle();
  }
  CHECK(sim->counters().pings == pings);
  CHECK(stats(p).health == pool_health::healthy);
  CHECK(of_kind("health").empty());
  REQUIRE_FALSE(release(p, h.granted.id));
  settle();
  advance(1'000ms);
  settle();
  // Back with the pool, it is probed again, and judged.
  CHECK(sim->counters().pings > pings);
  CHECK_FALSE(of_kind("health").empty());
}
