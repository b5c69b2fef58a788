// A pool with health checks, on the deterministic scheduler: unhealthy idle
// resources are retired and replaced, a leased one when it comes back, and
// degraded ones are handed out only when no healthy one is idle.

#include "tests/support/pool_fixture.hpp"

using namespace custodian;
using namespace custodian::test;
using namespace std::chrono_literals;

namespace {

void failing_pings(drivers::sim_driver& sim, const std::string& resource) {
  drivers::sim_script s;
  s.ping_pattern = "-";
  sim.set_script(resource, s);
}

/// What the pool's health checker would send.
void report(pool_fixture& f, const pool_actor& p, std::string resource, health_status status) {
  caf::anon_send(caf::actor_cast<health_watcher_actor>(p),
                 health_report{std::move(resource), status, 0, 0, ""});
  f.run();
}

} // namespace

TEST_CASE_FIXTURE(pool_fixture, "an unhealthy idle resource is retired and replaced") {
  failing_pings(*sim, "orders-1");
  auto p = make_pool(with_health(pool_cfg(2, 4), 2));
  advance(1'000ms);
  settle();
  CHECK(stats(p).unhealthy == 0); // one failure is below the threshold
  advance(1'000ms);
  settle();
  auto s = stats(p);
  CHECK(s.unhealthy == 1);
  CHECK(s.idle == 2);
  CHECK(s.created == 3);
  // The survivors are what acquire hands out.
  auto a = acquire(p);
  auto b = acquire(p);
  CHECK(a.granted.resource != "orders-1");
  CHECK(b.granted.resource != "orders-1");
}

TEST_CASE_FIXTURE(pool_fixture, "a resource found unhealthy while leased goes when it comes back") {
  failing_pings(*sim, "orders-1");
  auto p = make_pool(with_health(pool_cfg(1, 1), 1));
  // The probe starts while the resource is idle; the pool leases it meanwhile.
  advance(1'000ms);
  auto holder = make_sender();
  auto pending = ask_from(holder, p, acquire_atom::value);
  run();
  auto granted = take<lease>(pending);
  REQUIRE(granted.value);
  settle(); // the probe fails now
  auto s = stats(p);
  CHECK(s.in_use == 1);
  CHECK(s.unhealthy == 0); // never taken from its holder
  CHECK_FALSE(release(p, granted.value->id));
  settle();
  s = stats(p);
  CHECK(s.unhealthy == 1);
  CHECK(s.idle == 1);
  CHECK(acquire(p).granted.resource == "orders-2");
}

TEST_CASE_FIXTURE(pool_fixture, "degraded resources are handed out only when no healthy one is idle") {
  auto p = make_pool(with_health(pool_cfg(2, 2), 3));
  // LIFO would hand out orders-2 first; degraded, it comes last.
  report(*this, p, "orders-2", health_status::degraded);
  auto first = acquire(p);
  CHECK(first.granted.resource == "orders-1");
  auto second = acquire(p);
  CHECK(second.granted.resource == "orders-2");
  CHECK_FALSE(release(p, first.granted.id));
  CHECK_FALSE(release(p, second.granted.id));
  report(*this, p, "orders-2", health_status::healthy);
  CHECK(acquire(p).granted.resource == "orders-2"); // LIFO again
}

TEST_CASE_FIXTURE(pool_fixture, "on_acquire checks a resource unless it was good within the window") {
  auto cfg = with_health(pool_cfg(1, 1), 3);
  cfg.health->policy.interval = 60'000ms; // no periodic probe during the test
  cfg.health->on_acquire = true;
  cfg.health->bypass_window = 500ms;
  auto p = make_pool(cfg);
  auto fresh = acquire(p); // created just now: no check
  CHECK(sim->counters().pings == 0);
  CHECK_FALSE(release(p, fresh.granted.id));
  advance(600ms);
  auto checked = acquire(p);
  CHECK(sim->counters().pings == 1);
  CHECK(checked.granted.resource == "orders-1");
  CHECK_FALSE(release(p, checked.granted.id));
  // A resource that fails its check is replaced, and the requester served.
  failing_pings(*sim, "orders-1");
  advance(600ms);
  auto replaced = acquire(p);
  CHECK(replaced.granted.resource == "orders-2");
  auto s = stats(p);
  CHECK(s.validation_failures == 1);
  CHECK(s.timeouts == 0);
}
