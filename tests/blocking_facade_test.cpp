// The blocking facade on CAF's real scheduler: threads that are not actors lease
// resources with runtime::acquire, use the driver connection directly, and give
// the lease back by letting it go out of scope.

#include <future>
#include <thread>

#include <caf/all.hpp>
#include <doctest/doctest.h>

#include "drivers/sim/sim_driver.hpp"
#include "messages/errors.hpp"
#include "runtime/runtime.hpp"
#include "tests/support/lease_checks.hpp"
#include "tests/support/pool_stats_of.hpp"

using namespace custodian;
using namespace custodian::test;
using namespace std::chrono_literals;

namespace {

/// Bound of every wait: a bug fails the test instead of hanging it. No test
/// asserts how long anything took.
constexpr auto bound = std::chrono::seconds{30};

pool_config small_pool(std::shared_ptr<drivers::sim_driver> sim, uint32_t min_idle,
                       uint32_t max_size) {
  pool_config c;
  c.name = "orders";
  c.driver = std::move(sim);
  c.min_idle = min_idle;
  c.max_size = max_size;
  c.resource.init.backoff.base = 1ms;
  return c;
}

/// A connection of another driver: the typed accessor must refuse it.
class foreign_connection : public drivers::connection {};

} // namespace

TEST_CASE("a thread leases a resource, uses its connection and returns it at scope exit") {
  auto sim = std::make_shared<drivers::sim_driver>();
  runtime rt;
  auto pool = rt.add_pool(small_pool(sim, 1, 2));
  {
    auto lease = rt.acquire("orders", 1s);
    REQUIRE(lease);
    CHECK(lease.pool() == "orders");
    CHECK(lease.resource() == "orders-1");
    auto reply = lease.exec({{"op", "get"}}, 1s);
    CHECK(reply["resource"] == "orders-1");
    CHECK(reply["echo"]["op"] == "get");
    CHECK(stats_of(rt, pool).in_use == 1);
    CHECK(lease_error_of([&] { lease.connection_as<foreign_connection>(); }) == errc::bad_request);
  }
  // A second resource was created to keep min_idle idle during the lease.
  auto s = await_stats(rt, pool, [](const pool_stats& s) { return s.in_use == 0 && s.idle == 2; });
  CHECK(s.in_use == 0);
  CHECK(s.idle == 2);
  CHECK(s.bad_releases == 0);
  rt.shutdown();
  CHECK(sim->open_connections() == 0);
}

TEST_CASE("a moved lease is returned once, by its last owner") {
  auto sim = std::make_shared<drivers::sim_driver>();
  runtime rt;
  auto pool = rt.add_pool(small_pool(sim, 2, 2));
  auto first = rt.acquire("orders", 1s);
  auto moved = std::move(first);
  CHECK_FALSE(first);
  CHECK(moved);
  auto second = rt.acquire("orders", 1s);
  moved = std::move(second); // returns the lease `moved` held
  CHECK_FALSE(second);
  auto s = await_stats(rt, pool, [](const pool_stats& s) { return s.in_use == 1; });
  CHECK(s.in_use == 1);
  moved.release();
  moved.release(); // a no-op: never a double release
  s = await_stats(rt, pool, [](const pool_stats& s) { return s.in_use == 0; });
  CHECK(s.in_use == 0);
  CHECK(s.bad_releases == 0);
  rt.shutdown();
  CHECK(sim->open_connections() == 0);
}

TEST_CASE("acquire names what is wrong: no such pool, or a timeout in line") {
  auto sim = std::make_shared<drivers::sim_driver>();
  runtime rt;
  auto pool = rt.add_pool(small_pool(sim, 1, 1));
  CHECK(lease_error_of([&] { rt.acquire("nope", 1s); }) == errc::not_found);
  CHECK(lease_error_of([&] { rt.add_pool(small_pool(sim, 0, 1)); }) == errc::bad_config);
  auto held = rt.acquire("orders", 1s);
  CHECK(lease_error_of([&] { rt.acquire("orders", 20ms); }) == errc::timeout);
  CHECK(stats_of(rt, pool).timeouts == 1);
  held.release();
  rt.shutdown();
  CHECK(sim->open_connections() == 0);
}

TEST_CASE("a waiting thread is served when another thread returns its lease") {
  auto sim = std::make_shared<drivers::sim_driver>();
  runtime rt;
  auto pool = rt.add_pool(small_pool(sim, 1, 1));
  auto held = rt.acquire("orders", 1s);
  auto waiter = std::async(std::launch::async, [&rt] {
    auto lease = rt.acquire("orders", bound);
    return lease.resource();
  });
  await_stats(rt, pool, [](const pool_stats& s) { return s.waiters == 1; });
  held.release();
  REQUIRE(waiter.wait_for(bound) == std::future_status::ready);
  CHECK(waiter.get() == "orders-1");
  rt.shutdown();
  CHECK(sim->open_connections() == 0);
}

TEST_CASE("threads waiting in line learn that their pool drained or ended") {
  auto sim = std::make_shared<drivers::sim_driver>();
  runtime rt;
  auto pool = rt.add_pool(small_pool(sim, 1, 1));
  auto held = rt.acquire("orders", 1s);
  auto waiter = std::async(
    std::launch::async, [&rt] { return lease_error_of([&rt] { rt.acquire("orders", bound); }); });
  await_stats(rt, pool, [](const pool_stats& s) { return s.waiters == 1; });
  SUBCASE("drained") {
    caf::anon_send(pool, drain_atom::value);
  }
  SUBCASE("ended") {
    // Its waiters' completions report it gone as they are dropped.
    caf::anon_send_exit(pool, caf::exit_reason::user_shutdown);
  }
  REQUIRE(waiter.wait_for(bound) == std::future_status::ready);
  CHECK(waiter.get() == errc::unavailable);
  // A thread that comes later is refused, or its request never reaches the pool.
  CHECK(lease_error_of([&rt] { rt.acquire("orders", bound); }) == errc::unavailable);
  held.release();
  rt.shutdown();
  CHECK(sim->open_connections() == 0);
}

TEST_CASE("a connection that breaks in use ends the lease and its resource is replaced") {
  auto sim = std::make_shared<drivers::sim_driver>();
  drivers::sim_script breaks;
  breaks.exec_pattern = "-";
  breaks.exec_error = drivers::driver_errc::broken;
  sim->set_script("orders-1", breaks);
  runtime rt;
  auto pool = rt.add_pool(small_pool(sim, 1, 2));
  auto lease = rt.acquire("orders", 1s);
  REQUIRE(lease.resource() == "orders-1");
  CHECK(lease_error_of([&] { lease.exec({{"op", "get"}}, 1s); }) == errc::driver_error);
  CHECK_FALSE(lease);
  auto s = await_stats(rt, pool, [](const pool_stats& s) { return s.failed == 1 && s.idle == 1; });
  CHECK(s.failed == 1);
  CHECK(s.in_use == 0);
  CHECK(s.idle == 1); // the replacement keeps min_idle
  auto next = rt.acquire("orders", 1s);
  CHECK(next.resource() != "orders-1");
  next.release();
  rt.shutdown();
  CHECK(sim->open_connections() == 0);
}

TEST_CASE(
  "a thread's acquire fails fast while a hard dependency is down, and works once it is back") {
  auto sim = std::make_shared<drivers::sim_driver>();
  auto backend = std::make_shared<drivers::sim_driver>();
  drivers::sim_script refused;
  refused.fail_connects = 1'000'000;
  backend->set_default_script(refused);
  runtime rt;
  auto db = small_pool(backend, 1, 1);
  db.name = "db";
  db.resource.init.max_retries = 0;
  db.resource.init.backoff.max = 10ms;
  auto orders = small_pool(sim, 1, 1);
  orders.depends_on = {{"db", dependency_kind::hard}};
  auto pools = rt.add_pools({db, orders});
  using level = availability::level;
  await_stats(rt, pools[1], [](const pool_stats& s) { return s.avail.is == level::unavailable; });
  try {
    rt.acquire("orders", 1s);
    FAIL("expected a lease_error");
  } catch (const lease_error& e) {
    CHECK(e.code() == errc::dependency_unavailable);
    CHECK(std::string{e.what()}.find("hard dependency db is unhealthy (root cause: db)") !=
          std::string::npos);
  }
  backend->set_default_script({});
  await_stats(rt, pools[1], [](const pool_stats& s) { return s.avail.is == level::available; });
  auto lease = rt.acquire("orders", 1s);
  CHECK(lease.pool() == "orders");
  lease.release();
  auto report = rt.shutdown();
  CHECK(report.drained == 2);
  CHECK(sim->open_connections() == 0);
  CHECK(backend->open_connections() == 0);
}

TEST_CASE("pools added together are validated together: a cycle adds none of them") {
  auto sim = std::make_shared<drivers::sim_driver>();
  runtime rt;
  auto a = small_pool(sim, 0, 1);
  a.name = "a";
  a.depends_on = {{"b", dependency_kind::hard}};
  auto b = small_pool(sim, 0, 1);
  b.name = "b";
  b.depends_on = {{"a", dependency_kind::soft}};
  CHECK(lease_error_of([&] { rt.add_pools({a, b}); }) == errc::bad_config);
  CHECK(lease_error_of([&] { rt.pool("b"); }) == errc::not_found);
  b.depends_on.clear();
  auto added = rt.add_pools({a, b});
  CHECK(rt.pool("a") == added[0]);
  std::vector<std::string> order;
  {
    caf::scoped_actor self{rt.system()};
    self->request(rt.registry(), bound, status_atom::value)
      .receive(
        [&](const std::vector<pool_summary>& all) {
          for (const auto& s : all)
            order.push_back(s.name);
        },
        [&](caf::error& err) { FAIL(describe(err)); });
  }
  CHECK(order == std::vector<std::string>{"b", "a"}); // start order
  CHECK(rt.shutdown().drained == 2);
  CHECK(sim->open_connections() == 0);
}
