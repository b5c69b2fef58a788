// A pool with a quarantine, on the deterministic scheduler: failures in a row are
// counted per resource, a resource below the threshold is recovered in place, one
// at the threshold is ejected and never handed out until the quarantine brings it
// back (or gives it up: then it is replaced), max_ejection_percent keeps the rest
// in the pool as degraded, and operators quarantine and release by hand.

#include "tests/support/pool_fixture.hpp"

using namespace custodian;
using namespace custodian::test;
using namespace std::chrono_literals;

namespace {

pool_config with_quarantine(pool_config c, uint32_t consecutive_failures,
                            double max_ejection_percent = 50.0) {
  quarantine_config q;
  q.policy.consecutive_failures = consecutive_failures;
  q.policy.base_ejection = 100ms;
  q.policy.max_ejection = 1'000ms;
  q.policy.jitter = 0.0;
  q.policy.max_attempts = 2;
  q.policy.max_ejection_percent = max_ejection_percent;
  q.attempt_timeout = 500ms;
  c.quarantine = q;
  return c;
}

/// Breaks the resource of `h` with an exec through the pool; the holder keeps the
/// (now taken back) lease.
void break_in_use(pool_fixture& f, const pool_actor& p, const pool_fixture::held& h) {
  break_every_exec(*f.sim, h.granted.resource);
  CHECK(exec_on(f, p, h.granted.id).failed_with(errc::driver_error));
  f.settle();
}

/// A backend that went away: every connect is refused and every exec breaks.
drivers::sim_script gone() {
  drivers::sim_script s;
  s.fail_connects = 1'000;
  s.exec_pattern = "-";
  s.exec_error = drivers::driver_errc::broken;
  return s;
}

/// Lets `d` pass in steps of 50 ms, running whatever became due.
void pass(pool_fixture& f, caf::timespan d) {
  for (caf::timespan t{0}; t < d; t += 50ms) {
    f.advance(50ms);
    f.settle();
  }
}

std::vector<quarantine_entry> entries(pool_fixture& f, const pool_actor& p) {
  auto r = f.call<std::vector<quarantine_entry>>(p, quarantine_atom::value);
  REQUIRE(r.value);
  return *r.value;
}

} // namespace

TEST_CASE_FIXTURE(pool_fixture, "a failure below the threshold recovers the resource in place") {
  auto p = make_pool(with_quarantine(pool_cfg(1, 1), 2));
  auto h = acquire(p);
  break_in_use(*this, p, h);
  auto s = stats(p);
  CHECK(s.failed == 1);
  CHECK(s.quarantined == 0);
  CHECK(s.closed == 0); // initialized again, not replaced
  CHECK(s.idle == 1);
  sim->set_script(h.granted.resource, {});
  auto next = acquire(p);
  CHECK(next.granted.resource == h.granted.resource);
  CHECK(exec_on(*this, p, next.granted.id).value);
}

TEST_CASE_FIXTURE(pool_fixture,
                  "failures in a row eject a resource that is never handed out until it recovers") {
  auto p = make_pool(with_quarantine(pool_cfg(2, 2), 2));
  auto first = acquire(p);
  auto broken = first.granted.resource;
  break_in_use(*this, p, first);
  auto again = acquire(p); // LIFO: the resource recovered in place comes first
  REQUIRE(again.granted.resource == broken);
  break_in_use(*this, p, again);
  auto s = stats(p);
  CHECK(s.quarantined == 1);
  CHECK(s.ejections == 1);
  CHECK(s.idle == 1);
  auto q = entries(*this, p);
  REQUIRE(q.size() == 1);
  CHECK(q[0].resource == broken);
  CHECK(q[0].next_attempt_in_ms == 100);
  // The other resource serves; a second acquire waits rather than get the ejected one.
  auto other = acquire(p);
  CHECK(other.granted.resource != broken);
  auto waiting = ask(p, acquire_atom::value);
  settle();
  CHECK_FALSE(take<lease>(waiting).answered());
  // The recovery attempt initializes it again: it works, and the waiter gets it.
  sim->set_script(broken, {});
  pass(*this, 100ms);
  auto served = take<lease>(waiting);
  REQUIRE_MESSAGE(served.value, describe(served.error));
  CHECK(served.value->resource == broken);
  s = stats(p);
  CHECK(s.quarantined == 0);
  CHECK(s.reinstated == 1);
  CHECK(entries(*this, p).empty());
}

TEST_CASE_FIXTURE(pool_fixture, "a resource that never recovers is given up and replaced") {
  auto p = make_pool(with_quarantine(pool_cfg(1, 2), 1));
  auto h = acquire(p);
  sim->set_script(h.granted.resource, gone());
  CHECK(exec_on(*this, p, h.granted.id).failed_with(errc::driver_error));
  settle();
  CHECK(stats(p).quarantined == 1);
  // Attempts after 100 and 200 ms, each bounded by 500 ms; then it is given up.
  pass(*this, 2'000ms);
  auto s = stats(p);
  CHECK(s.quarantined == 0);
  CHECK(s.reinstated == 0);
  CHECK(s.closed == 1);
  CHECK(s.idle == 1);
  CHECK(acquire(p).granted.resource != h.granted.resource);
}

TEST_CASE_FIXTURE(pool_fixture,
                  "beyond max_ejection_percent a failing resource stays in as degraded") {
  auto p = make_pool(with_quarantine(pool_cfg(2, 2), 1, 50.0));
  auto a = acquire(p);
  auto b = acquire(p);
  break_in_use(*this, p, a);
  CHECK(stats(p).quarantined == 1); // one of two: 50 %
  break_in_use(*this, p, b);
  auto s = stats(p);
  CHECK(s.quarantined == 1); // a second would be 100 %
  CHECK(s.ejections == 1);
  CHECK(s.degraded == 1);
  CHECK(s.idle == 1);
  sim->set_script(b.granted.resource, {});
  auto again = acquire(p);
  CHECK(again.granted.resource == b.granted.resource);
  CHECK(exec_on(*this, p, again.granted.id).value);
  CHECK(stats(p).degraded == 0); // it works again
}

TEST_CASE_FIXTURE(pool_fixture, "a degraded resource that no longer answers is replaced") {
  auto p = make_pool(with_quarantine(pool_cfg(2, 2), 1, 50.0));
  auto a = acquire(p);
  auto b = acquire(p);
  break_in_use(*this, p, a);
  sim->set_script(b.granted.resource, gone());
  CHECK(exec_on(*this, p, b.granted.id).failed_with(errc::driver_error));
  pass(*this, 600ms); // its last chance: initialized again, which fails
  auto s = stats(p);
  CHECK(s.ejections == 1);
  CHECK(s.degraded == 0);
  CHECK(s.closed == 1);
  CHECK(s.created == 3);
}

TEST_CASE_FIXTURE(pool_fixture, "a clean return resets the count of failures") {
  auto p = make_pool(with_quarantine(pool_cfg(1, 1), 2));
  auto h = acquire(p);
  break_in_use(*this, p, h);
  sim->set_script(h.granted.resource, {});
  auto used = acquire(p);
  CHECK(exec_on(*this, p, used.granted.id).value);
  CHECK_FALSE(release(p, used.granted.id));
  auto again = acquire(p);
  break_in_use(*this, p, again);
  auto s = stats(p);
  CHECK(s.failed == 2);
  CHECK(s.quarantined == 0); // one failure in a row, not two
  CHECK(s.idle == 1);
}

TEST_CASE_FIXTURE(pool_fixture, "an operator quarantines and releases a resource by hand") {
  auto p = make_pool(pool_cfg(2, 2)); // no automatic quarantine
  auto idle = acquire(p);
  auto id = idle.granted.resource;
  CHECK_FALSE(release(p, idle.granted.id));
  auto put = call<caf::ok_atom>(p, quarantine_atom::value, id, std::string{"suspicious latency"});
  CHECK(put.value);
  auto s = stats(p);
  CHECK(s.quarantined == 1);
  CHECK(s.idle == 1);
  auto q = entries(*this, p);
  REQUIRE(q.size() == 1);
  CHECK(q[0].reason == "by an operator: suspicious latency");
  auto other = acquire(p);
  CHECK(other.granted.resource != id);
  auto back = call<caf::ok_atom>(p, release_atom::value, id);
  CHECK(back.value);
  s = stats(p);
  CHECK(s.quarantined == 0);
  CHECK(s.reinstated == 1);
  CHECK(s.idle == 1);
  CHECK(call<caf::ok_atom>(p, release_atom::value, id).failed_with(errc::not_found));
  auto unknown =
    call<caf::ok_atom>(p, quarantine_atom::value, std::string{"orders-99"}, std::string{"?"});
  CHECK(unknown.failed_with(errc::not_found));
  CHECK(mentions(unknown.error, "orders-99"));
}

TEST_CASE_FIXTURE(pool_fixture, "a leased resource quarantined by hand goes when it comes back") {
  auto p = make_pool(pool_cfg(1, 1));
  auto h = acquire(p);
  CHECK(
    call<caf::ok_atom>(p, quarantine_atom::value, h.granted.resource, std::string{"check"}).value);
  CHECK(stats(p).quarantined == 0); // never taken from its holder
  CHECK(exec_on(*this, p, h.granted.id).value);
  CHECK_FALSE(release(p, h.granted.id));
  auto s = stats(p);
  CHECK(s.quarantined == 1);
  CHECK(s.in_use == 0);
}

TEST_CASE_FIXTURE(pool_fixture, "a pool drains with resources in quarantine") {
  auto p = make_pool(with_quarantine(pool_cfg(2, 2), 1));
  auto h = acquire(p);
  break_in_use(*this, p, h);
  REQUIRE(stats(p).quarantined == 1);
  auto drained = call<pool_state>(p, drain_atom::value);
  CHECK(drained.value == pool_state::destroyed);
  auto s = stats(p);
  CHECK(s.size == 0);
  CHECK(s.quarantined == 0);
  CHECK(entries(*this, p).empty());
}

TEST_CASE_FIXTURE(pool_fixture, "failed health probes count as failures in a row") {
  auto c = with_quarantine(pool_cfg(2, 2), 3);
  health_checker_config h;
  h.policy.interval = 1'000ms;
  h.policy.jitter = 0.0;
  h.policy.unhealthy_threshold = 2;
  h.timeout = 500ms;
  c.health = h;
  drivers::sim_script dead;
  dead.ping_pattern = "-";
  sim->set_script("orders-1", dead);
  auto p = make_pool(c);
  advance(1'000ms);
  settle();
  CHECK(stats(p).quarantined == 0); // one failed probe is below the health threshold
  // The second makes it unhealthy (two failures); the probe in place is the third.
  advance(1'000ms);
  settle();
  auto s = stats(p);
  CHECK(s.quarantined == 1);
  CHECK(s.unhealthy == 0); // ejected, not retired
  CHECK(acquire(p).granted.resource == "orders-2");
  // Its pings keep failing: after two attempts it is given up and replaced.
  pass(*this, 1'000ms);
  s = stats(p);
  CHECK(s.quarantined == 0);
  CHECK(s.closed == 1);
  CHECK(s.created == 3);
}

TEST_CASE_FIXTURE(pool_fixture,
                  "a failed resource busy with another call is probed again, not counted twice") {
  auto p = make_pool(with_quarantine(pool_cfg(1, 1), 2));
  auto h = acquire(p);
  advance(10ms); // the pool tells the resource of its lease
  run();
  // A call in flight (it hangs): an exec straight on the leased resource.
  auto call_in_flight = ask(h.granted.handle, exec_atom::value, std::string{"{}"});
  run();
  CHECK(call<caf::ok_atom>(p, fail_atom::value, h.granted.id, std::string{"odd reply"}).value);
  // settle() above ran the hanging call: the probe found the resource busy and
  // waits one check timeout before it probes again.
  auto s = stats(p);
  CHECK(s.quarantined == 0);
  CHECK(s.idle == 0);
  pass(*this, 500ms);
  s = stats(p);
  CHECK(s.quarantined == 0);
  CHECK(s.closed == 0);
  CHECK(s.idle == 1);
}
