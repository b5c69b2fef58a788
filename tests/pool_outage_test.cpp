// A pool whose backend is down, on the deterministic scheduler: acquires hear the
// driver's reason at once instead of waiting out their timeout; a refused connect
// (cheap) is tried again as soon as an acquire asks, so the pool is back within
// one connect of the backend's return; rejected credentials back off, whatever
// the acquirers do.

#include "tests/support/pool_fixture.hpp"

using namespace custodian;
using namespace custodian::test;
using namespace std::chrono_literals;

namespace {

drivers::sim_script failing_connects(drivers::driver_errc why) {
  drivers::sim_script s;
  s.fail_connects = 1'000'000;
  s.connect_error = why;
  return s;
}

/// An acquire that waits at most 1 s, answered after the actors ran.
reply<lease> try_acquire(pool_fixture& f, const pool_actor& p,
                         const std::shared_ptr<caf::scoped_actor>& holder) {
  auto pending = f.ask_from(holder, p, acquire_atom::value, caf::timespan{1s});
  f.settle();
  return f.take<lease>(pending);
}

} // namespace

TEST_CASE_FIXTURE(pool_fixture,
                  "outage: a refused connect fails the waiting acquire at once with its reason") {
  sim->set_default_script(failing_connects(drivers::driver_errc::refused));
  auto p = make_pool(pool_cfg(0, 2));
  auto holder = make_sender();
  auto r = try_acquire(*this, p, holder); // no time passes: not a timeout
  REQUIRE(r.failed_with(errc::unavailable));
  CHECK(mentions(r.error, "backend down"));
  CHECK(mentions(r.error, "connect failed: refused"));
  CHECK(sim->counters().connect_attempts == 1); // the resource did not retry it
  CHECK(stats(p).timeouts == 0);
}

TEST_CASE_FIXTURE(
  pool_fixture,
  "outage: while connects are refused each acquire tries one, and the first that works serves it") {
  sim->set_default_script(failing_connects(drivers::driver_errc::refused));
  auto p = make_pool(pool_cfg(0, 2));
  auto holder = make_sender();
  for (int i = 1; i <= 3; ++i) {
    CHECK(try_acquire(*this, p, holder).failed_with(errc::unavailable));
    CHECK(sim->counters().connect_attempts == static_cast<uint64_t>(i));
  }
  // The backend is back: the next acquire connects at once, no backoff to wait out.
  sim->set_default_script({});
  auto r = try_acquire(*this, p, holder);
  REQUIRE_MESSAGE(r.value, describe(r.error));
  CHECK(release(p, r.value->id) == caf::error{});
}

TEST_CASE_FIXTURE(
  pool_fixture,
  "outage: rejected credentials back off and acquires meanwhile fail at once without a login") {
  sim->set_default_script(failing_connects(drivers::driver_errc::auth));
  auto cfg = pool_cfg(0, 2);
  cfg.resource.init.backoff = backoff_policy{100ms, 1'600ms, 0.0};
  auto p = make_pool(cfg);
  auto holder = make_sender();
  auto first = try_acquire(*this, p, holder);
  REQUIRE(first.failed_with(errc::unavailable));
  CHECK(mentions(first.error, "connect failed: auth"));
  // Within the backoff, acquires are answered with the same reason and cost no login.
  for (int i = 0; i < 5; ++i) {
    auto r = try_acquire(*this, p, holder);
    CHECK(r.failed_with(errc::unavailable));
    CHECK(mentions(r.error, "auth"));
  }
  CHECK(sim->counters().connect_attempts == 1);
  // By itself the pool tries again after 100, 200, 400, 800, 1600, 1600 ms...
  for (auto step : {100ms, 200ms, 400ms, 800ms, 1'600ms, 1'600ms}) {
    advance(step);
    settle();
  }
  // ... 7 logins in 4.7 s, however many acquires came.
  CHECK(sim->counters().connect_attempts == 7);
  CHECK(stats(p).creation_failures == 7);
}

TEST_CASE_FIXTURE(pool_fixture,
                  "outage: a pool comes back to min_idle by itself once the backend returns") {
  sim->set_default_script(failing_connects(drivers::driver_errc::refused));
  auto p = make_pool(pool_cfg(2, 4));
  CHECK(stats(p).idle == 0);
  CHECK(sim->counters().connect_attempts == 2); // warming min_idle, before anything failed
  // Then one creation at a time probes the backend, every base interval (100 ms).
  advance(100ms);
  settle();
  advance(100ms);
  settle();
  CHECK(sim->counters().connect_attempts == 4);
  sim->set_default_script({});
  advance(100ms);
  settle();
  auto s = stats(p);
  CHECK(s.idle == 2);
  CHECK(s.size == 2);
  CHECK(sim->open_connections() == 2);
}

TEST_CASE_FIXTURE(
  pool_fixture,
  "outage: an acquire that times out behind a creation in flight names the last creation error") {
  sim->set_default_script(failing_connects(drivers::driver_errc::auth));
  auto p = make_pool(pool_cfg(0, 2));
  auto holder = make_sender();
  CHECK(try_acquire(*this, p, holder).failed_with(errc::unavailable));
  // Past the backoff the pool tries again by itself; that connect hangs (its
  // blocking job is not run), so an acquire waits for it, and times out.
  sim->set_default_script({});
  advance(100ms);
  auto pending = ask_from(holder, p, acquire_atom::value, caf::timespan{500ms});
  run();
  advance(500ms);
  auto r = take<lease>(pending);
  REQUIRE(r.failed_with(errc::timeout));
  CHECK(mentions(r.error, "last creation error"));
  CHECK(mentions(r.error, "auth"));
  settle(); // the hung connect completes; the pool keeps it
  CHECK(stats(p).idle == 1);
}
