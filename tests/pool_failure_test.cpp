// Resources that fail while leased, on the deterministic scheduler: the pool takes
// the lease back, replaces the resource at once, and tells the holder why at its
// next use; the holder's late return is not a bad release.

#include "tests/support/pool_fixture.hpp"

using namespace custodian;
using namespace custodian::test;
using namespace std::chrono_literals;

TEST_CASE_FIXTURE(pool_fixture, "exec through a lease reaches the resource's driver") {
  auto p = make_pool(pool_cfg(1, 1));
  auto h = acquire(p);
  auto r = exec_on(*this, p, h.granted.id);
  REQUIRE_MESSAGE(r.value, describe(r.error));
  auto reply = nlohmann::json::parse(*r.value);
  CHECK(reply["resource"] == "orders-1");
  CHECK(reply["echo"]["op"] == "get");
  CHECK(exec_on(*this, p, 999).failed_with(errc::not_found));
  CHECK(exec_on(*this, p, h.granted.id).value); // the resource is idle again between calls
}

TEST_CASE_FIXTURE(pool_fixture, "a leased resource whose connection breaks is replaced") {
  break_every_exec(*sim, "orders-1");
  auto p = make_pool(pool_cfg(1, 2));
  auto h = acquire(p);
  REQUIRE(h.granted.resource == "orders-1");
  CHECK(exec_on(*this, p, h.granted.id).failed_with(errc::driver_error));
  settle();
  auto s = stats(p);
  CHECK(s.failed == 1);
  CHECK(s.in_use == 0);
  CHECK(s.idle == 1); // a replacement keeps min_idle
  // The holder's next use says why its lease is gone.
  auto again = exec_on(*this, p, h.granted.id);
  CHECK(again.failed_with(errc::unavailable));
  CHECK(describe(again.error).find("its resource failed") != std::string::npos);
  CHECK_FALSE(release(p, h.granted.id));
  CHECK(stats(p).bad_releases == 0);
}

TEST_CASE_FIXTURE(pool_fixture, "a holder that reports its resource broken gets a fresh one") {
  auto p = make_pool(pool_cfg(1, 1));
  auto h = acquire(p);
  auto failed = call<caf::ok_atom>(p, fail_atom::value, h.granted.id, std::string{"bad data"});
  CHECK(failed.value);
  settle();
  auto s = stats(p);
  CHECK(s.failed == 1);
  CHECK(s.closed == 1);
  CHECK(s.idle == 1);
  CHECK(call<caf::ok_atom>(p, fail_atom::value, h.granted.id, std::string{"again"})
          .failed_with(errc::unavailable));
  CHECK_FALSE(release(p, h.granted.id));
  CHECK(stats(p).bad_releases == 0);
  auto next = acquire(p);
  CHECK(next.granted.resource == "orders-2");
}

TEST_CASE_FIXTURE(pool_fixture, "a leased resource that crashes takes its lease with it") {
  auto p = make_pool(pool_cfg(1, 1));
  auto h = acquire(p);
  caf::anon_send_exit(h.granted.handle, caf::exit_reason::unhandled_exception);
  settle();
  auto s = stats(p);
  CHECK(s.failed == 1);
  CHECK(s.restarts == 1);
  CHECK(s.in_use == 0);
  CHECK(s.idle == 1);
  auto r = exec_on(*this, p, h.granted.id);
  CHECK(r.failed_with(errc::unavailable));
  CHECK(
    mentions(r.error, "its resource was restarted: it ended: exit_reason(unhandled_exception)"));
  CHECK_FALSE(release(p, h.granted.id)); // its late return is no bad release
  // Started again under the same name, with a fresh connection.
  auto again = acquire(p);
  CHECK(again.granted.resource == h.granted.resource);
  CHECK(again.granted.handle != h.granted.handle);
  CHECK(exec_on(*this, p, again.granted.id).value);
}

TEST_CASE_FIXTURE(pool_fixture, "a resource an exec breaks after its lease came back is retired") {
  break_every_exec(*sim, "orders-1");
  auto p = make_pool(pool_cfg(1, 1));
  auto h = acquire(p);
  // The holder returns its lease while its exec is still running.
  auto pending = ask_from(h.holder, p, exec_atom::value, h.granted.id, std::string{"{}"});
  caf::anon_send(p, return_atom::value, h.granted.id);
  settle();
  CHECK(take<std::string>(pending).failed_with(errc::driver_error));
  auto s = stats(p);
  CHECK(s.failed == 1);
  CHECK(s.bad_releases == 0);
  // The broken resource is never handed out again.
  auto next = acquire(p);
  CHECK(next.granted.resource == "orders-2");
}

TEST_CASE_FIXTURE(pool_fixture,
                  "after a failure in use, the idle resources are checked before use") {
  break_every_exec(*sim, "orders-1");
  drivers::sim_script dead;
  dead.ping_pattern = "-";
  sim->set_script("orders-2", dead); // went down with orders-1, unnoticed so far
  auto p = make_pool(pool_cfg(3, 3));
  auto h = acquire(p);
  REQUIRE(h.granted.resource == "orders-1");
  auto holder = make_sender();
  auto pending = ask_from(holder, p, exec_atom::value, h.granted.id, std::string{"{}"});
  run();               // the exec reaches the driver
  executor->run_one(); // and breaks the connection
  run();               // the pool retires orders-1 and pings the idle ones
  // An acquire that arrives while the checks run waits for their outcome (no
  // blocking job has run since: pings, the replacement's connect).
  auto waiting = ask_from(make_sender(), p, acquire_atom::value);
  run();
  REQUIRE(executor->pending() > 0);
  CHECK((*waiting.sender)->mailbox().empty());
  settle();
  CHECK(take<std::string>(pending).failed_with(errc::driver_error));
  auto s = stats(p);
  CHECK(s.failed == 1);
  CHECK(s.validation_failures == 1);
  auto got = take<lease>(waiting);
  REQUIRE(got.value);
  CHECK(got.value->resource == "orders-3"); // the one that passed its check
  auto next = acquire(p);
  CHECK(next.granted.resource != "orders-2");
  CHECK(next.granted.resource != "orders-3");
}

TEST_CASE_FIXTURE(pool_fixture, "a resource that ends while it drains is forgotten") {
  auto p = make_pool(pool_cfg(0, 2));
  auto a = acquire(p);
  auto b = acquire(p);
  CHECK_FALSE(release(p, a.granted.id));
  CHECK_FALSE(release(p, b.granted.id));
  auto ping = ask(a.granted.handle, ping_atom::value); // a call in flight
  run();
  auto resized = ask(p, resize_atom::value, uint32_t{0}, uint32_t{1});
  run();
  REQUIRE(state_of(a.granted.handle) == lifecycle_state::draining);
  caf::anon_send_exit(a.granted.handle, caf::exit_reason::kill);
  settle();
  CHECK(stats(p).size == 1);
  CHECK(call<pool_state>(p, drain_atom::value).value == pool_state::destroyed);
}
