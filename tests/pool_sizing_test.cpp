// How a pool sizes itself, on the deterministic scheduler: max_lifetime (with its
// jitter, at acquire, at release and by the sweep), idle_timeout, resize, and the
// acquire wait histogram. Leased resources are never taken from their holders.

#include <algorithm>
#include <numeric>
#include <set>

#include "tests/support/pool_fixture.hpp"

using namespace custodian;
using namespace custodian::test;
using namespace std::chrono_literals;

TEST_CASE_FIXTURE(pool_fixture, "an idle resource past its lifetime is replaced right away") {
  auto p = make_pool(with_lifetime(pool_cfg(2, 4), 1'000ms, 0.1));
  advance(899ms); // the jitter shortens a lifetime by 10 % at most
  settle();
  CHECK(stats(p).expired == 0);
  advance(101ms);
  settle();
  auto s = stats(p);
  CHECK(s.expired == 2);
  CHECK(s.closed == 2);
  // Refilled to min_idle at once, with new resources, not at a later sweep.
  CHECK(s.idle == 2);
  CHECK(s.created == 4);
  CHECK(sim->open_connections() == 2);
}

TEST_CASE_FIXTURE(pool_fixture, "lifetimes with jitter end one by one, not all at once") {
  auto p = make_pool(with_lifetime(pool_cfg(8, 8), 1'000ms, 0.5));
  std::set<uint64_t> seen;
  for (int step = 0; step < 24; ++step) {
    advance(50ms);
    settle();
    seen.insert(stats(p).expired);
  }
  // Between 500 and 1,000 ms the 8 first resources retire at several different times.
  CHECK(seen.size() > 3);
  CHECK(stats(p).expired >= 8);
}

TEST_CASE_FIXTURE(pool_fixture, "max_lifetime is enforced at acquire, before any sweep runs") {
  auto p = make_pool(with_lifetime(pool_cfg(1, 2), 1'000ms, 0.0));
  auto holder = make_sender();
  auto pending = ask_from(holder, p, acquire_atom::value);
  // The clock moves before the pool reads the acquire; the sweep comes after it.
  sched.advance_time(1'000ms);
  settle();
  auto r = take<lease>(pending);
  REQUIRE(r.value);
  CHECK(r.value->resource == "orders-2");
  CHECK(stats(p).expired == 1);
}

TEST_CASE_FIXTURE(pool_fixture, "a leased resource outlives its lifetime until it comes back") {
  auto p = make_pool(with_lifetime(pool_cfg(1, 1), 1'000ms, 0.0));
  auto h = acquire(p);
  advance(1'500ms);
  settle();
  auto s = stats(p);
  CHECK(s.expired == 0);
  CHECK(s.in_use == 1);
  CHECK(exec_on(*this, p, h.granted.id).value); // still usable by its holder
  CHECK_FALSE(release(p, h.granted.id));
  settle();
  s = stats(p);
  CHECK(s.expired == 1);
  CHECK(s.in_use == 0);
  CHECK(s.idle == 1); // replaced up to min_idle
}

TEST_CASE_FIXTURE(pool_fixture,
                  "idle_timeout closes idle resources down to min_idle, never leased ones") {
  auto cfg = pool_cfg(2, 6);
  cfg.idle_timeout = 500ms;
  auto p = make_pool(cfg);
  std::vector<held> leases;
  for (int i = 0; i < 4; ++i)
    leases.push_back(acquire(p));
  for (int i = 1; i < 4; ++i)
    CHECK_FALSE(release(p, leases[static_cast<std::size_t>(i)].granted.id));
  auto idle_before = stats(p).idle;
  CHECK(idle_before > 2);
  advance(499ms);
  settle();
  CHECK(stats(p).idle_closed == 0);
  advance(1ms);
  settle();
  auto s = stats(p);
  CHECK(s.idle == 2);
  CHECK(s.idle_closed == idle_before - 2);
  CHECK(s.in_use == 1);
  CHECK(exec_on(*this, p, leases[0].granted.id).value); // the leased one is untouched
  // Nothing more to close: the sweep does not spin on min_idle.
  advance(5'000ms);
  settle();
  CHECK(stats(p).idle_closed == idle_before - 2);
}

TEST_CASE_FIXTURE(pool_fixture, "resize grows at once, and shrinks idle first, leased on return") {
  auto p = make_pool(pool_cfg(1, 4));
  auto grown = call<pool_stats>(p, resize_atom::value, uint32_t{4}, uint32_t{8});
  REQUIRE(grown.value);
  CHECK(grown.value->min_idle == 4);
  CHECK(grown.value->max_size == 8);
  CHECK(grown.value->state == pool_state::scaling);
  settle();
  auto s = stats(p);
  CHECK(s.idle == 4);
  CHECK(s.state == pool_state::active);

  auto bad = call<pool_stats>(p, resize_atom::value, uint32_t{5}, uint32_t{3});
  CHECK(bad.failed_with(errc::bad_request));
  CHECK(call<pool_stats>(p, resize_atom::value, uint32_t{0}, uint32_t{0})
          .failed_with(errc::bad_request));

  std::vector<held> leases;
  for (int i = 0; i < 3; ++i)
    leases.push_back(acquire(p));
  settle();
  auto shrunk = call<pool_stats>(p, resize_atom::value, uint32_t{0}, uint32_t{2});
  REQUIRE(shrunk.value);
  settle();
  s = stats(p);
  CHECK(s.idle == 0); // every idle one went first
  CHECK(s.in_use == 3);
  CHECK(s.state == pool_state::scaling);
  CHECK_FALSE(release(p, leases[0].granted.id));
  settle();
  s = stats(p);
  CHECK(s.in_use == 2);
  CHECK(s.size == 2);
  CHECK(s.state == pool_state::active);
  CHECK_FALSE(release(p, leases[1].granted.id));
  settle();
  CHECK(stats(p).idle == 1); // within bounds now: returned ones stay
}

TEST_CASE_FIXTURE(pool_fixture, "the acquire wait histogram sorts immediate and queued acquires") {
  auto p = make_pool(pool_cfg(1, 1));
  auto first = acquire(p);
  auto holder = make_sender();
  auto waiting = ask_from(holder, p, acquire_atom::value);
  settle();
  advance(3ms);
  CHECK_FALSE(release(p, first.granted.id));
  settle();
  REQUIRE(take<lease>(waiting).value);
  auto h = stats(p).acquire_wait_histogram;
  REQUIRE(h.size() == acquire_wait_bounds_us.size() + 1);
  auto bucket_of_3ms = static_cast<std::size_t>(
    std::lower_bound(acquire_wait_bounds_us.begin(), acquire_wait_bounds_us.end(), 3'000u) -
    acquire_wait_bounds_us.begin());
  CHECK(h[0] == 1);
  CHECK(h[bucket_of_3ms] == 1);
  CHECK(std::accumulate(h.begin(), h.end(), uint64_t{0}) == 2);
}
