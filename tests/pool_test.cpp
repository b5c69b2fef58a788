// The pool actor on the deterministic scheduler: leases, FIFO waiters with their
// own deadlines, max_size, holders that die, leaks, suspend/resume, drain,
// max_lifetime, idle_timeout, resize, failures in use, the wait histogram, and
// randomized runs (with failures and resizes) checked against the pool's invariants.

#include <algorithm>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "tests/support/pool_fixture.hpp"

using namespace custodian;
using namespace custodian::test;
using namespace std::chrono_literals;

TEST_CASE_FIXTURE(pool_fixture, "a pool warms min_idle resources, then serves") {
  auto p = make_pool(pool_cfg(3, 8));
  auto s = stats(p);
  CHECK(s.state == pool_state::active);
  CHECK(s.size == 3);
  CHECK(s.idle == 3);
  CHECK(s.created == 3);
  CHECK(sim->counters().opens == 3);
}

TEST_CASE_FIXTURE(pool_fixture, "a lease is released once, a second release is refused") {
  auto p = make_pool(pool_cfg(1, 4));
  auto h = acquire(p);
  CHECK(h.granted.pool == "orders");
  CHECK(h.granted.resource == "orders-1");
  CHECK(stats(p).in_use == 1);
  CHECK_FALSE(release(p, h.granted.id));
  auto err = release(p, h.granted.id);
  CHECK(is(err, errc::not_found));
  CHECK(is(release(p, 12345), errc::not_found));
  auto s = stats(p);
  CHECK(s.in_use == 0);
  CHECK(s.idle == 2); // one more was created to keep min_idle idle during the lease
  CHECK(s.bad_releases == 2);
  // One-way returns are counted the same way.
  caf::anon_send(p, return_atom::value, h.granted.id);
  run();
  CHECK(stats(p).bad_releases == 3);
}

TEST_CASE_FIXTURE(pool_fixture, "idle resources are handed out last-in first-out by default") {
  auto p = make_pool(pool_cfg(2, 2));
  auto a = acquire(p);
  auto b = acquire(p);
  release(p, a.granted.id);
  release(p, b.granted.id);
  CHECK(acquire(p).granted.resource == b.granted.resource);
}

TEST_CASE_FIXTURE(pool_fixture, "FIFO order hands out the longest-idle resource") {
  auto cfg = pool_cfg(2, 2);
  cfg.lifo = false;
  auto p = make_pool(cfg);
  auto a = acquire(p);
  auto b = acquire(p);
  release(p, a.granted.id);
  release(p, b.granted.id);
  CHECK(acquire(p).granted.resource == a.granted.resource);
}

TEST_CASE_FIXTURE(pool_fixture,
                  "max_size is never exceeded and waiters are served in arrival order") {
  auto p = make_pool(pool_cfg(0, 2));
  auto a = acquire(p);
  auto b = acquire(p);
  std::vector<std::shared_ptr<caf::scoped_actor>> holders;
  std::vector<decltype(ask_from(make_sender(), p, acquire_atom::value))> waiting;
  for (int i = 0; i < 4; ++i) {
    holders.push_back(make_sender());
    waiting.push_back(ask_from(holders.back(), p, acquire_atom::value));
    settle();
  }
  auto s = stats(p);
  CHECK(s.size == 2);
  CHECK(s.waiters == 4);
  CHECK(sim->counters().opens == 2);
  // Each release serves exactly the oldest waiter.
  std::vector<uint64_t> leases{a.granted.id, b.granted.id};
  for (std::size_t i = 0; i < waiting.size(); ++i) {
    release(p, leases[i]);
    auto served = take<lease>(waiting[i]);
    REQUIRE_MESSAGE(served.value, "waiter " << i);
    leases.push_back(served.value->id);
    for (std::size_t j = i + 1; j < waiting.size(); ++j)
      CHECK_FALSE(take<lease>(waiting[j]).answered());
  }
  CHECK(stats(p).size == 2);
}

TEST_CASE_FIXTURE(pool_fixture,
                  "many clients acquiring at once never push the pool past max_size") {
  auto p = make_pool(pool_cfg(0, 4));
  std::vector<std::shared_ptr<caf::scoped_actor>> holders;
  std::vector<decltype(ask_from(make_sender(), p, acquire_atom::value))> pending;
  // Every request is in the mailbox before the pool runs: creations race waiters.
  for (int i = 0; i < 16; ++i) {
    holders.push_back(make_sender());
    pending.push_back(ask_from(holders.back(), p, acquire_atom::value));
  }
  settle();
  std::size_t granted = 0;
  for (auto& r : pending)
    granted += take<lease>(r).value.has_value();
  auto s = stats(p);
  CHECK(granted == 4);
  CHECK(s.in_use == 4);
  CHECK(s.waiters == 12);
  CHECK(s.size == 4);
  CHECK(sim->counters().opens == 4);
  // Holders that end hand their resources to the next in line.
  holders.erase(holders.begin(), holders.begin() + 4);
  pending.erase(pending.begin(), pending.begin() + 4);
  settle();
  granted = 0;
  for (auto& r : pending)
    granted += take<lease>(r).value.has_value();
  CHECK(granted == 4);
  CHECK(stats(p).size == 4);
}

TEST_CASE_FIXTURE(pool_fixture, "a waiter that timed out is never served later") {
  auto p = make_pool(pool_cfg(1, 1));
  auto a = acquire(p);
  auto holder = make_sender();
  auto waiting = ask_from(holder, p, acquire_atom::value, caf::timespan{100ms});
  settle();
  advance(99ms);
  CHECK_FALSE(take<lease>(waiting).answered());
  advance(1ms);
  auto r = take<lease>(waiting);
  CHECK(r.failed_with(errc::timeout));
  release(p, a.granted.id);
  auto s = stats(p);
  CHECK(s.timeouts == 1);
  CHECK(s.idle == 1);
  CHECK(s.in_use == 0);
}

TEST_CASE_FIXTURE(pool_fixture, "the leases of a holder that dies are reclaimed") {
  auto p = make_pool(pool_cfg(2, 2));
  {
    auto h = acquire(p);
    CHECK(stats(p).in_use == 1);
  } // the holder ends here
  settle();
  auto s = stats(p);
  CHECK(s.in_use == 0);
  CHECK(s.idle == 2);
  CHECK(s.reclaimed == 1);
}

TEST_CASE_FIXTURE(pool_fixture,
                  "a lease past its TTL is reclaimed as a leak and its late return reported") {
  auto rec = std::make_shared<std::vector<event>>();
  auto sink =
    sys.spawn([rec, b = bus](event_sink_actor::pointer self) -> event_sink_actor::behavior_type {
      return {[=](event_batch& batch) {
        for (auto& ev : batch.events)
          rec->push_back(ev);
        self->send(b, ack_atom::value, batch.subscription);
      }};
    });
  track(sink);
  call<uint64_t>(bus, subscribe_atom::value,
                 event_filter{{"lease_leak", "leak_returned", "bad_release"}, "", "", 64, 64},
                 sink);
  auto cfg = pool_cfg(1, 2);
  cfg.lease_ttl = 200ms;
  auto p = make_pool(cfg);
  auto h = acquire(p);
  advance(199ms);
  CHECK(stats(p).leaks == 0);
  advance(1ms);
  settle();
  auto s = stats(p);
  CHECK(s.leaks == 1);
  CHECK(s.in_use == 0);
  // The leaked resource was retired (closed), and min_idle refilled.
  CHECK(s.closed == 1);
  CHECK(s.idle == 1);
  CHECK(sim->counters().closes == 1);
  // The holder returns it at last: reported, not an error.
  CHECK_FALSE(release(p, h.granted.id));
  settle();
  REQUIRE(rec->size() == 2);
  CHECK((*rec)[0].kind == "lease_leak");
  CHECK(nlohmann::json::parse((*rec)[0].detail)["holder"].get<std::string>().find("actor") == 0);
  CHECK((*rec)[1].kind == "leak_returned");
  CHECK(stats(p).bad_releases == 0);
}

TEST_CASE_FIXTURE(pool_fixture, "a suspended pool hands nothing out until resumed") {
  auto p = make_pool(pool_cfg(1, 1));
  CHECK(call<pool_state>(p, suspend_atom::value).value == pool_state::suspended);
  CHECK(call<pool_state>(p, suspend_atom::value).failed_with(errc::invalid_transition));
  auto holder = make_sender();
  auto waiting = ask_from(holder, p, acquire_atom::value);
  settle();
  CHECK_FALSE(take<lease>(waiting).answered());
  CHECK(call<pool_state>(p, resume_atom::value).value == pool_state::active);
  CHECK(take<lease>(waiting).value);
}

TEST_CASE_FIXTURE(pool_fixture, "drain waits for leases, refuses new ones, and closes everything") {
  auto p = make_pool(pool_cfg(2, 4));
  auto h = acquire(p);
  auto drain = ask(p, drain_atom::value);
  settle();
  CHECK(stats(p).state == pool_state::draining);
  CHECK(call<lease>(p, acquire_atom::value).failed_with(errc::unavailable));
  CHECK_FALSE(take<pool_state>(drain).answered());
  release(p, h.granted.id);
  settle();
  CHECK(take<pool_state>(drain).value == pool_state::destroyed);
  auto s = stats(p);
  CHECK(s.size == 0);
  CHECK(s.closed == s.created);
  CHECK(sim->open_connections() == 0);
}

TEST_CASE_FIXTURE(pool_fixture, "drain takes leases back when its timeout passes") {
  auto cfg = pool_cfg(1, 1);
  cfg.drain_timeout = 300ms;
  auto p = make_pool(cfg);
  auto h = acquire(p);
  auto drain = ask(p, drain_atom::value);
  settle();
  advance(300ms);
  settle();
  CHECK(take<pool_state>(drain).value == pool_state::destroyed);
  CHECK(stats(p).reclaimed == 1);
  // The holder's late release is recognised, not a double free.
  CHECK_FALSE(release(p, h.granted.id));
  CHECK(sim->open_connections() == 0);
}

TEST_CASE_FIXTURE(pool_fixture, "random acquires, releases, failures, resizes and holder deaths "
                                "keep the pool's invariants") {
  auto p = make_pool(pool_cfg(1, 4));
  std::mt19937 rng{20261122};
  struct client {
    std::shared_ptr<caf::scoped_actor> holder;
    std::optional<uint64_t> lease_id;
  };
  std::vector<client> clients(12);
  for (auto& c : clients)
    c.holder = make_sender();
  uint64_t granted = 0;
  uint64_t resizes = 0;
  for (int step = 0; step < 600; ++step) {
    auto& c = clients[rng() % clients.size()];
    switch (rng() % 6) {
    case 0:
    case 1:
      if (!c.lease_id) {
        auto pending = ask_from(c.holder, p, acquire_atom::value, caf::timespan{50ms});
        settle();
        advance(50ms);
        auto r = take<lease>(pending);
        REQUIRE(r.answered());
        if (r.value) {
          c.lease_id = r.value->id;
          ++granted;
        } else {
          CHECK(r.failed_with(errc::timeout));
        }
      }
      break;
    case 2:
      if (c.lease_id) {
        CHECK_FALSE(release(p, *c.lease_id));
        c.lease_id.reset();
      }
      break;
    case 3:
      // The holder dies; its lease must come back.
      c.holder = make_sender();
      c.lease_id.reset();
      settle();
      break;
    case 4:
      // The holder reports its resource broken: the lease ends, the resource goes.
      if (c.lease_id) {
        CHECK(call<caf::ok_atom>(p, fail_atom::value, *c.lease_id, std::string{"random"}).value);
        CHECK_FALSE(release(p, *c.lease_id)); // a late return, not a bad release
        c.lease_id.reset();
      }
      break;
    case 5: {
      auto max_size = static_cast<uint32_t>(1 + rng() % 5);
      auto min_idle = static_cast<uint32_t>(rng() % (max_size + 1));
      CHECK(call<pool_stats>(p, resize_atom::value, min_idle, max_size).value);
      ++resizes;
      break;
    }
    }
    settle();
    auto s = stats(p);
    uint64_t held = 0;
    for (auto& x : clients)
      held += x.lease_id.has_value();
    // A shrink below the leases out waits for their return: then nothing is idle.
    CHECK((s.in_use + s.idle <= s.max_size || s.idle == 0));
    CHECK(s.size - s.in_use <= s.max_size);
    CHECK(s.in_use == held);
    CHECK(s.bad_releases == 0);
  }
  CHECK(granted > 50);
  CHECK(resizes > 50);
  CHECK(stats(p).failed > 10);
}

TEST_CASE_FIXTURE(pool_fixture, "a pool drained while it creates resources stops them unopened") {
  auto p = spawn_pool(sys, pool_cfg(0, 4), resource_context{executor, bus});
  track(p);
  auto holder = make_sender();
  // Neither message has run yet: the acquire asks the supervisor for a resource,
  // and the drain retires that slot before the resource exists.
  auto waiting = ask_from(holder, p, acquire_atom::value);
  auto drained = ask(p, drain_atom::value);
  settle();
  CHECK(take<lease>(waiting).failed_with(errc::unavailable));
  CHECK(take<pool_state>(drained).value == pool_state::destroyed);
  CHECK(stats(p).size == 0);
  CHECK(sim->counters().opens == 0);
}

// --- randomized, and execs whose leases are taken back mid-call -----------------

// Proves: under random acquires, releases, returns, execs that sometimes break the
// resource, fail reports, resizes and holder deaths, every lease the test holds is
// known to the pool, the size bounds hold, and draining closes every connection.
TEST_CASE_FIXTURE(pool_fixture, "pool: random steps with failures and resizes, then drain") {
  drivers::sim_script flaky;
  flaky.exec_pattern = "++++-"; // every fifth exec on a resource breaks it
  flaky.exec_error = drivers::driver_errc::broken;
  sim->set_default_script(flaky);
  auto p = make_pool(pool_cfg(1, 4));
  std::mt19937 rng{424242};
  struct client {
    std::shared_ptr<caf::scoped_actor> holder;
    std::optional<uint64_t> lease_id;
    bool taken_back = false; // the pool took it back (its resource failed)
  };
  std::vector<client> clients(10);
  for (auto& c : clients)
    c.holder = make_sender();
  uint64_t granted = 0, execs = 0, broken = 0, fails = 0, resizes = 0;
  auto drop = [](client& c) {
    c.lease_id.reset();
    c.taken_back = false;
  };
  for (int step = 0; step < 500; ++step) {
    auto& c = clients[rng() % clients.size()];
    switch (rng() % 8) {
    case 0:
    case 1:
      if (!c.lease_id) {
        auto pending = ask_from(c.holder, p, acquire_atom::value, caf::timespan{20ms});
        settle();
        advance(20ms);
        settle();
        auto r = take<lease>(pending);
        REQUIRE(r.answered());
        if (r.value) {
          c.lease_id = r.value->id;
          ++granted;
        } else {
          CHECK(r.failed_with(errc::timeout));
        }
      }
      break;
    case 2:
      if (c.lease_id) {
        CHECK_FALSE(release(p, *c.lease_id)); // open or taken back: never unknown
        drop(c);
      }
      break;
    case 3:
      if (c.lease_id) {
        caf::anon_send(p, return_atom::value, *c.lease_id);
        drop(c);
      }
      break;
    case 4:
      if (c.lease_id) {
        auto r = exec_on(*this, p, *c.lease_id);
        if (c.taken_back) {
          CHECK(r.failed_with(errc::unavailable));
        } else if (r.value) {
          ++execs;
        } else {
          CHECK(r.failed_with(errc::driver_error));
          c.taken_back = true;
          ++broken;
        }
      }
      break;
    case 5:
      if (c.lease_id) {
        auto r = call<caf::ok_atom>(p, fail_atom::value, *c.lease_id, std::string{"random"});
        if (c.taken_back) {
          CHECK(r.failed_with(errc::unavailable));
        } else {
          CHECK(r.value);
          c.taken_back = true;
          ++fails;
        }
      }
      break;
    case 6: {
      auto max_size = static_cast<uint32_t>(1 + rng() % 5);
      auto min_idle = static_cast<uint32_t>(rng() % (max_size + 1));
      auto r = call<pool_stats>(p, resize_atom::value, min_idle, max_size);
      REQUIRE_MESSAGE(r.value, describe(r.error));
      CHECK(r.value->min_idle == min_idle);
      CHECK(r.value->max_size == max_size);
      ++resizes;
      break;
    }
    case 7:
      c.holder = make_sender(); // the old holder ends; the pool reclaims its lease
      drop(c);
      break;
    }
    settle();
    auto s = stats(p);
    uint64_t open = 0;
    for (auto& x : clients)
      open += x.lease_id && !x.taken_back;
    CHECK((s.in_use + s.idle <= s.max_size || s.idle == 0));
    CHECK(s.in_use == open);
    CHECK(s.bad_releases == 0);
    CHECK(s.size == sim->open_connections()); // nothing half-closed after settling
  }
  CHECK(granted > 40);
  CHECK(execs > 10);
  CHECK(broken > 0);
  CHECK(fails > 5);
  CHECK(resizes > 30);
  for (auto& c : clients)
    if (c.lease_id) {
      CHECK_FALSE(release(p, *c.lease_id));
      drop(c);
    }
  auto drained = ask(p, drain_atom::value);
  settle();
  CHECK(take<pool_state>(drained).value == pool_state::destroyed);
  auto s = stats(p);
  CHECK(s.size == 0);
  CHECK(s.bad_releases == 0);
  CHECK(sim->counters().opens == sim->counters().closes);
  CHECK(sim->open_connections() == 0);
}

// --- regressions: leases taken back mid-exec, lifetimes ending during checks -------

// Proves: an exec in flight is answered (`unavailable`, saying why) when its lease
// is taken back for a leak, and the leak is not also counted as a failure.
// Regression (fixed in d5ee757): retire() stopped the in-use resource after
// demonitoring it while exec() waited for it with caf::infinite: the dead resource
// never answered, and the holder's exec hung forever.
TEST_CASE_FIXTURE(pool_fixture, "pool: an exec in flight is answered when its lease leaks") {
  auto cfg = pool_cfg(1, 1);
  cfg.lease_ttl = 200ms;
  auto p = make_pool(cfg);
  auto h = acquire(p);
  auto exec = ask_from(h.holder, p, exec_atom::value, h.granted.id, std::string{"{}"});
  run(); // the exec reaches the resource; its driver call waits in the executor
  REQUIRE(executor->pending() == 1);
  advance(200ms); // the TTL passes: the lease is reclaimed and its resource retired
  settle();
  advance(5'000ms); // ten times the resource's operation_timeout (500 ms)
  settle();
  auto r = take<std::string>(exec);
  REQUIRE_MESSAGE(r.answered(), "the holder's exec was never answered");
  CHECK_MESSAGE(r.failed_with(errc::unavailable), describe(r.error));
  CHECK(mentions(r.error, "leaked"));
  auto s = stats(p);
  CHECK(s.leaks == 1);
  CHECK(s.failed == 0); // the pool stopped it; the resource did not fail
  CHECK(s.in_use == 0);
  CHECK(s.idle == 1);
}

// Proves: an exec in flight is answered when its holder reports the lease failed,
// and that one failure is counted once.
// Regression (fixed in d5ee757): hung forever, like the leak case above.
TEST_CASE_FIXTURE(pool_fixture, "pool: an exec in flight is answered when its lease is failed") {
  auto p = make_pool(pool_cfg(1, 1));
  auto h = acquire(p);
  auto exec = ask_from(h.holder, p, exec_atom::value, h.granted.id, std::string{"{}"});
  run();
  REQUIRE(executor->pending() == 1);
  auto failed = ask(p, fail_atom::value, h.granted.id, std::string{"bad data"});
  run(); // the report arrives before the driver call ends
  settle();
  CHECK(take<caf::ok_atom>(failed).value);
  advance(5'000ms);
  settle();
  auto r = take<std::string>(exec);
  REQUIRE_MESSAGE(r.answered(), "the holder's exec was never answered");
  CHECK_MESSAGE(r.failed_with(errc::unavailable), describe(r.error));
  CHECK(mentions(r.error, "bad data"));
  auto s = stats(p);
  CHECK(s.failed == 1);
  CHECK(s.in_use == 0);
  CHECK(s.idle == 1);
}

// Proves: idle resources whose lifetime ends while they are re-validated (after
// another resource failed) are still retired once the checks pass.
// Regression (fixed in d5ee757): sweep() marked them `expired` and dropped them
// from the lifetime index; revalidate_idle() put them back in line without looking,
// so only an acquire would ever have retired them.
TEST_CASE_FIXTURE(pool_fixture, "pool: a lifetime that ends during re-validation still retires") {
  auto p = make_pool(with_lifetime(pool_cfg(3, 3), 1'000ms, 0.0));
  advance(999ms);
  auto h = acquire(p);
  break_every_exec(*sim, h.granted.resource);
  auto exec = ask_from(h.holder, p, exec_atom::value, h.granted.id, std::string{"{}"});
  run();
  REQUIRE(executor->run_one()); // the exec breaks the leased resource
  run();                        // the two idle ones are being pinged
  REQUIRE(executor->pending() > 0);
  sched.advance_time(1ms); // their lifetime (1,000 ms) ends during the checks
  run();
  settle();
  CHECK(take<std::string>(exec).failed_with(errc::driver_error));
  advance(1ms);
  settle();
  auto s = stats(p);
  CHECK(s.failed == 1);
  CHECK(s.expired == 2); // both original idle resources, past max_lifetime
  CHECK(s.idle == 3);
}
