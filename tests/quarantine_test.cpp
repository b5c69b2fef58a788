// The quarantine supervisor on the deterministic scheduler: recovery attempts on
// the backoff schedule, a resource given up after max_attempts, an attempt that
// hangs bounded by its timeout, and an operator's release.

#include "actors/quarantine.hpp"
#include "tests/support/deterministic_fixture.hpp"

using namespace custodian;
using namespace custodian::test;
using namespace std::chrono_literals;

namespace {

struct quarantine_fixture : deterministic_fixture {
  std::shared_ptr<std::vector<quarantine_outcome>> outcomes =
    std::make_shared<std::vector<quarantine_outcome>>();
  quarantine_watcher_actor watcher;
  quarantine_actor q;

  quarantine_fixture() {
    auto sink = outcomes;
    watcher = sys.spawn([sink]() -> quarantine_watcher_actor::behavior_type {
      return {[sink](const quarantine_outcome& o) { sink->push_back(o); }};
    });
    track(watcher);
    quarantine_config cfg;
    cfg.policy.base_ejection = 100ms;
    cfg.policy.max_ejection = 1'000ms;
    cfg.policy.jitter = 0.0;
    cfg.policy.max_attempts = 3;
    cfg.attempt_timeout = 200ms;
    q = spawn_quarantine(sys, cfg);
    track(q);
  }

  resource_actor ready_resource(const std::string& id, drivers::sim_script script) {
    auto res = make_resource(id);
    REQUIRE(call<lifecycle_state>(res, initialize_atom::value).value == lifecycle_state::ready);
    sim->set_script(id, std::move(script));
    return res;
  }

  void eject(const std::string& id, const resource_actor& res) {
    REQUIRE(call<caf::ok_atom>(q, eject_atom::value, id, res, std::string{"probes failed"}, watcher)
              .value);
  }

  std::vector<quarantine_entry> entries() {
    auto r = call<std::vector<quarantine_entry>>(q, status_atom::value);
    REQUIRE(r.value);
    return *r.value;
  }
};

drivers::sim_script pings(std::string pattern) {
  drivers::sim_script s;
  s.ping_pattern = std::move(pattern);
  return s;
}

} // namespace

TEST_CASE_FIXTURE(quarantine_fixture, "recovery is attempted after 100, 200 and 400 ms") {
  auto res = ready_resource("db-1", pings("--+"));
  eject("db-1", res);
  auto e = entries();
  REQUIRE(e.size() == 1);
  CHECK(e[0].reason == "probes failed");
  CHECK(e[0].next_attempt_in_ms == 100);
  advance(99ms);
  settle();
  CHECK(sim->counters().pings == 0);
  advance(1ms);
  settle(); // attempt 1 fails
  CHECK(sim->counters().pings == 1);
  CHECK(entries()[0].attempts == 1);
  CHECK(entries()[0].next_attempt_in_ms == 200);
  advance(200ms);
  settle(); // attempt 2 fails
  advance(399ms);
  settle();
  CHECK(sim->counters().pings == 2);
  advance(1ms);
  settle(); // attempt 3 passes
  REQUIRE(outcomes->size() == 1);
  CHECK((*outcomes)[0] == quarantine_outcome{"db-1", true, 3, "recovered on attempt 3"});
  CHECK(entries().empty());
}

TEST_CASE_FIXTURE(quarantine_fixture, "a failed resource is initialized again to recover") {
  drivers::sim_script breaks;
  breaks.exec_pattern = "-";
  breaks.exec_error = drivers::driver_errc::broken;
  auto res = ready_resource("db-1", breaks);
  call<lifecycle_state>(res, acquire_atom::value);
  call<std::string>(res, exec_atom::value, std::string{"{}"});
  REQUIRE(state_of(res) == lifecycle_state::failed);
  eject("db-1", res);
  advance(100ms);
  settle();
  REQUIRE(outcomes->size() == 1);
  CHECK((*outcomes)[0].recovered);
  CHECK(state_of(res) == lifecycle_state::ready);
  CHECK(sim->counters().opens == 2);
}

TEST_CASE_FIXTURE(quarantine_fixture,
                  "a resource that never recovers is given up after max_attempts") {
  auto res = ready_resource("db-1", pings("-"));
  eject("db-1", res);
  for (auto step : {100ms, 200ms, 400ms}) {
    advance(step);
    settle();
  }
  REQUIRE(outcomes->size() == 1);
  CHECK_FALSE((*outcomes)[0].recovered);
  CHECK((*outcomes)[0].attempts == 3);
  CHECK((*outcomes)[0].reason.find("gave up after 3 recovery attempts") == 0);
  CHECK(entries().empty());
}

TEST_CASE_FIXTURE(quarantine_fixture, "an attempt that hangs fails at its timeout") {
  drivers::sim_script hangs;
  hangs.hang[static_cast<std::size_t>(drivers::sim_op::ping)] = 1h;
  auto res = ready_resource("db-1", hangs);
  eject("db-1", res);
  advance(100ms);       // attempt 1: its ping is posted, and hangs until released
  advance(200ms);       // the attempt's bound passes while the driver still hangs
  sim->release_hangs(); // so that what follows can run the blocking jobs
  auto e = entries();
  REQUIRE(e.size() == 1);
  CHECK(e[0].attempts == 1);
  CHECK(e[0].next_attempt_in_ms == 200); // scheduled again, not stuck
  CHECK(outcomes->empty());
}

TEST_CASE_FIXTURE(quarantine_fixture, "an operator releases a resource from quarantine") {
  auto res = ready_resource("db-1", pings("-"));
  eject("db-1", res);
  eject("db-1", res); // ejecting again changes nothing
  CHECK(entries().size() == 1);
  CHECK(call<caf::ok_atom>(q, release_atom::value, std::string{"db-1"}).value);
  REQUIRE(outcomes->size() == 1);
  CHECK((*outcomes)[0] == quarantine_outcome{"db-1", true, 0, "released by an operator"});
  CHECK(
    call<caf::ok_atom>(q, release_atom::value, std::string{"db-1"}).failed_with(errc::not_found));
  advance(1'000ms);
  settle();
  CHECK(sim->counters().pings == 0); // no attempt after the release
}

TEST_CASE_FIXTURE(quarantine_fixture,
                  "a resource ejected again while an earlier attempt is out keeps one schedule") {
  auto res = ready_resource("db-1", pings("-"));
  eject("db-1", res);
  advance(100ms); // attempt 1 of the first stay: its ping waits on the executor
  CHECK(call<caf::ok_atom>(q, release_atom::value, std::string{"db-1"}).value);
  eject("db-1", res);
  settle(); // the earlier attempt fails now: not this stay's
  auto e = entries();
  REQUIRE(e.size() == 1);
  CHECK(e[0].attempts == 0);
  CHECK(e[0].next_attempt_in_ms == 100);
  // This stay runs its own schedule to the end, and nothing is left behind.
  for (int i = 0; i < 20; ++i) {
    advance(100ms);
    settle();
  }
  REQUIRE(outcomes->size() == 2);
  CHECK((*outcomes)[1].recovered == false);
  CHECK((*outcomes)[1].attempts == 3);
  CHECK(entries().empty());
  advance(1'000ms);
  settle();
}
