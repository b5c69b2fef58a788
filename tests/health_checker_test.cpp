// The health checker on the deterministic scheduler: probes on its interval,
// statuses that flip at their thresholds and are reported once per change, busy
// resources skipped without counting against them, and unwatched ones left alone.

#include "actors/health_checker.hpp"
#include "tests/support/deterministic_fixture.hpp"

using namespace custodian;
using namespace custodian::test;
using namespace std::chrono_literals;

namespace {

struct checker_fixture : deterministic_fixture {
  std::shared_ptr<std::vector<health_report>> reports =
    std::make_shared<std::vector<health_report>>();

  health_checker_actor make_checker() {
    auto sink = reports;
    auto watcher = sys.spawn([sink]() -> health_watcher_actor::behavior_type {
      return {[sink](const health_report& r) { sink->push_back(r); }};
    });
    track(watcher);
    health_checker_config cfg;
    cfg.policy.interval = 1'000ms;
    cfg.policy.jitter = 0.0;
    cfg.policy.healthy_threshold = 2;
    cfg.policy.unhealthy_threshold = 2;
    cfg.timeout = 500ms;
    auto checker = spawn_health_checker(sys, cfg, watcher);
    track(checker);
    return checker;
  }

  resource_actor ready_resource(const std::string& id) {
    auto res = make_resource(id);
    REQUIRE(call<lifecycle_state>(res, initialize_atom::value).value == lifecycle_state::ready);
    return res;
  }

  /// A checker watching db-1, ready and scripted with `script`.
  health_checker_actor watch_scripted(drivers::sim_script script) {
    sim->set_script("db-1", std::move(script));
    auto res = ready_resource("db-1");
    auto checker = make_checker();
    REQUIRE(call<caf::ok_atom>(checker, watch_atom::value, std::string{"db-1"}, res).value);
    return checker;
  }

  /// One probe interval passes and every probe it started completes.
  void next_probe() {
    advance(1'000ms);
    settle();
  }

  health_report status_of(const health_checker_actor& checker, const std::string& id) {
    auto all = call<std::vector<health_report>>(checker, status_atom::value);
    REQUIRE(all.value);
    for (auto& r : *all.value)
      if (r.resource == id)
        return r;
    FAIL("not watched: " << id);
    return {};
  }
};

} // namespace

TEST_CASE_FIXTURE(checker_fixture, "statuses flip at their thresholds and are reported once each") {
  drivers::sim_script flaky;
  flaky.ping_pattern = "+---++";
  auto checker = watch_scripted(flaky);
  CHECK(status_of(checker, "db-1").status == health_status::unknown);
  next_probe(); // +
  CHECK(status_of(checker, "db-1").status == health_status::healthy);
  next_probe(); // - (one failure is below the threshold)
  CHECK(status_of(checker, "db-1").status == health_status::healthy);
  CHECK(status_of(checker, "db-1").consecutive_failures == 1);
  next_probe(); // -
  auto down = status_of(checker, "db-1");
  CHECK(down.status == health_status::unhealthy);
  CHECK(down.last_error.find("ping") != std::string::npos);
  next_probe(); // -
  next_probe(); // + (one pass is not enough to come back)
  CHECK(status_of(checker, "db-1").status == health_status::unhealthy);
  next_probe(); // +
  CHECK(status_of(checker, "db-1").status == health_status::healthy);
  // The watcher heard of each change once: healthy, unhealthy, healthy.
  REQUIRE(reports->size() == 3);
  CHECK((*reports)[0].status == health_status::healthy);
  CHECK((*reports)[1].status == health_status::unhealthy);
  CHECK((*reports)[2].status == health_status::healthy);
  CHECK(sim->counters().pings == 6);
}

TEST_CASE_FIXTURE(checker_fixture, "a leased resource is not probed and not counted against") {
  auto res = ready_resource("db-1");
  // Leased as a pool leases it: told one-way.
  caf::anon_send(res, acquire_atom::value, lease_note{7, "actor 42", 0});
  run();
  REQUIRE(call<resource_status>(res, status_atom::value).value->state == lifecycle_state::in_use);
  auto checker = make_checker();
  call<caf::ok_atom>(checker, watch_atom::value, std::string{"db-1"}, res);
  for (int i = 0; i < 3; ++i)
    next_probe();
  auto r = status_of(checker, "db-1");
  CHECK(r.status == health_status::unknown);
  CHECK(r.consecutive_failures == 0);
  CHECK(sim->counters().pings == 0);
  CHECK(reports->empty());
  // Back in the pool, it is probed again.
  caf::anon_send(res, release_atom::value, lease_end{7, "returned"});
  run();
  next_probe();
  CHECK(status_of(checker, "db-1").status == health_status::healthy);
}

TEST_CASE_FIXTURE(checker_fixture, "an unwatched resource is probed no more") {
  auto res = ready_resource("db-1");
  auto checker = make_checker();
  call<caf::ok_atom>(checker, watch_atom::value, std::string{"db-1"}, res);
  next_probe();
  CHECK(sim->counters().pings == 1);
  caf::anon_send(checker, unwatch_atom::value, std::string{"db-1"});
  run();
  for (int i = 0; i < 3; ++i)
    next_probe();
  CHECK(sim->counters().pings == 1);
  auto all = call<std::vector<health_report>>(checker, status_atom::value);
  REQUIRE(all.value);
  CHECK(all.value->empty());
}

TEST_CASE_FIXTURE(checker_fixture,
                  "a resource watched again while a probe is in flight keeps one schedule") {
  auto res = ready_resource("db-1");
  auto checker = make_checker();
  call<caf::ok_atom>(checker, watch_atom::value, std::string{"db-1"}, res);
  advance(1'000ms); // the probe starts; its ping waits on the executor
  caf::anon_send(checker, unwatch_atom::value, std::string{"db-1"});
  call<caf::ok_atom>(checker, watch_atom::value, std::string{"db-1"}, res);
  // The earlier watch's probe ends now: not this watch's to record.
  CHECK(status_of(checker, "db-1").status == health_status::unknown);
  for (int i = 0; i < 3; ++i)
    next_probe();
  CHECK(sim->counters().pings == 4); // one per interval, never two
  caf::anon_send(checker, unwatch_atom::value, std::string{"db-1"});
  run();
  next_probe(); // nothing left scheduled for it
  CHECK(sim->counters().pings == 4);
}

TEST_CASE_FIXTURE(checker_fixture,
                  "a driver's own stage makes a resource degraded, or unhealthy when it fails") {
  drivers::sim_script staged;
  staged.check_pattern = "~~--+";
  auto checker = watch_scripted(staged);
  next_probe(); // ~
  auto r = status_of(checker, "db-1");
  CHECK(r.status == health_status::degraded);
  CHECK(r.last_error == "sim: scripted degradation");
  next_probe(); // ~
  next_probe(); // - (one failure is below the threshold)
  CHECK(status_of(checker, "db-1").status == health_status::degraded);
  next_probe(); // -
  r = status_of(checker, "db-1");
  CHECK(r.status == health_status::unhealthy);
  CHECK(r.last_error.find("sim: scripted stage failure") != std::string::npos);
  REQUIRE(reports->size() == 2);
  CHECK((*reports)[0].status == health_status::degraded);
  CHECK((*reports)[1].status == health_status::unhealthy);
}

TEST_CASE_FIXTURE(checker_fixture, "a resource stuck in a state that refuses probes is judged") {
  auto res = ready_resource("db-1");
  // Failed and never recovered: every ping is refused.
  REQUIRE(call<lifecycle_state>(res, acquire_atom::value).value);
  REQUIRE(call<lifecycle_state>(res, fail_atom::value, std::string{"broken"}).value ==
          lifecycle_state::failed);
  auto checker = make_checker();
  call<caf::ok_atom>(checker, watch_atom::value, std::string{"db-1"}, res);
  // A few refusals are no verdict (a call that ends soon, say)...
  for (uint32_t i = 0; i < max_refused_probes; ++i)
    next_probe();
  CHECK(status_of(checker, "db-1").status == health_status::unknown);
  CHECK(status_of(checker, "db-1").consecutive_failures == 0);
  // ...each one after that is a failed probe.
  next_probe();
  CHECK(status_of(checker, "db-1").consecutive_failures == 1);
  next_probe();
  auto r = status_of(checker, "db-1");
  CHECK(r.status == health_status::unhealthy);
  CHECK(r.last_error.find("refused 5 probes in a row") != std::string::npos);
  REQUIRE(reports->size() == 1);
  CHECK(sim->counters().pings == 0);
}
