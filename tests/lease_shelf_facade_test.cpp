// The blocking facade's fast path on CAF's real scheduler: once a thread has
// acquired, its pool lends idle resources on a shelf that threads take from and
// put back without a message. These tests hold the pool's guarantees on that
// path: actors and waiting threads still get the resources, a dead connection is
// not handed out, a dirty one is reset, idle ones still time out, a drain takes
// them all back, and every connection opened is closed.

#include <atomic>
#include <future>
#include <thread>

#include <caf/all.hpp>
#include <doctest/doctest.h>

#include "messages/errors.hpp"
#include "runtime/runtime.hpp"
#include "tests/support/pool_stats_of.hpp"
#include "tests/support/switch_driver.hpp"

using namespace custodian;
using namespace custodian::test;
using namespace std::chrono_literals;

namespace {

/// Bound of every wait: a bug fails the test instead of hanging it.
constexpr auto bound = std::chrono::seconds{30};

pool_config shelf_pool(std::shared_ptr<switch_driver> d, uint32_t min_idle, uint32_t max_size) {
  pool_config c;
  c.name = "orders";
  c.driver = std::move(d);
  c.min_idle = min_idle;
  c.max_size = max_size;
  c.resource.init.backoff.base = 1ms;
  return c;
}

switch_connection& connection_of(scoped_lease& lease) {
  return lease.connection_as<switch_connection>();
}

/// A thread's first acquire goes through the pool, which then stocks its shelf.
void stock(runtime& rt, const pool_actor& pool) {
  rt.acquire("orders", bound).release();
  await_stats(rt, pool, [](const pool_stats& s) { return s.in_use == 0; });
}

} // namespace

TEST_CASE("shelf: leases taken from it are counted, and the pool sees them in use and back") {
  auto d = std::make_shared<switch_driver>();
  runtime rt;
  auto pool = rt.add_pool(shelf_pool(d, 1, 1));
  stock(rt, pool);
  {
    auto lease = rt.acquire("orders", bound);
    CHECK(lease.exec({{"op", "get"}}, 1s)["op"] == "get");
    auto s = stats_of(rt, pool);
    CHECK(s.in_use == 1);
    CHECK(s.idle == 0);
  }
  auto s = stats_of(rt, pool);
  CHECK(s.in_use == 0);
  CHECK(s.idle == 1);
  CHECK(s.acquired == 2);
  CHECK(s.bad_releases == 0);
  rt.shutdown();
  CHECK(d->opened() == 1);
  CHECK(d->still_open() == 0);
}

TEST_CASE("shelf: an actor's acquire gets a resource the shelf held") {
  auto d = std::make_shared<switch_driver>();
  runtime rt;
  auto pool = rt.add_pool(shelf_pool(d, 1, 1));
  stock(rt, pool);
  {
    caf::scoped_actor self{rt.system()};
    lease got;
    self->request(pool, bound, acquire_atom::value, caf::timespan{bound})
      .receive([&](lease& l) { got = std::move(l); },
               [&](caf::error& err) { FAIL("acquire failed: " << describe(err)); });
    CHECK(got.resource == "orders-1");
    self->request(pool, bound, release_atom::value, got.id)
      .receive([](caf::ok_atom) {}, [&](caf::error& err) { FAIL(describe(err)); });
  }
  // A thread acquiring again gets it through the pool, which stocks the shelf again.
  CHECK(rt.acquire("orders", bound).resource() == "orders-1");
  rt.shutdown();
  CHECK(d->still_open() == 0);
}

TEST_CASE("shelf: a thread waiting in line gets the resource a shelf lease returns") {
  auto d = std::make_shared<switch_driver>();
  runtime rt;
  auto pool = rt.add_pool(shelf_pool(d, 1, 1));
  stock(rt, pool);
  auto held = rt.acquire("orders", bound);
  auto waiter = std::async(std::launch::async, [&rt] {
    auto lease = rt.acquire("orders", bound);
    return lease.resource();
  });
  await_stats(rt, pool, [](const pool_stats& s) { return s.waiters == 1; });
  held.release();
  REQUIRE(waiter.wait_for(bound) == std::future_status::ready);
  CHECK(waiter.get() == "orders-1");
  CHECK(stats_of(rt, pool).timeouts == 0);
  rt.shutdown();
  CHECK(d->still_open() == 0);
}

TEST_CASE("shelf: a connection that died on it is not handed out, and its resource is replaced") {
  auto d = std::make_shared<switch_driver>();
  runtime rt;
  auto pool = rt.add_pool(shelf_pool(d, 1, 1));
  std::string first;
  {
    auto lease = rt.acquire("orders", bound);
    first = lease.resource();
    lease.release();
    await_stats(rt, pool, [](const pool_stats& s) { return s.in_use == 0; });
    // Back on the shelf, the server closes it.
    auto again = rt.acquire("orders", bound);
    REQUIRE(again.resource() == first);
    connection_of(again).dead = true;
  }
  auto next = rt.acquire("orders", bound);
  CHECK(next.resource() != first);
  CHECK_FALSE(connection_of(next).dead);
  next.release();
  auto s = await_stats(rt, pool, [](const pool_stats& s) { return s.dead_on_acquire == 1; });
  CHECK(s.dead_on_acquire == 1);
  rt.shutdown();
  CHECK(d->still_open() == 0);
}

TEST_CASE("shelf: a lease given back with state left behind is reset before the next holder") {
  auto d = std::make_shared<switch_driver>();
  runtime rt;
  auto pool = rt.add_pool(shelf_pool(d, 1, 1));
  stock(rt, pool);
  {
    auto lease = rt.acquire("orders", bound);
    connection_of(lease).dirty = true;
  }
  auto s = await_stats(rt, pool, [](const pool_stats& s) { return s.reset_on_return == 1; });
  CHECK(s.reset_on_return == 1);
  auto next = rt.acquire("orders", bound);
  CHECK_FALSE(connection_of(next).dirty);
  CHECK(connection_of(next).resets == 1);
  next.release();
  rt.shutdown();
  CHECK(d->still_open() == 0);
}

TEST_CASE("shelf: resources idle on it still reach their idle timeout") {
  auto d = std::make_shared<switch_driver>();
  runtime rt;
  auto cfg = shelf_pool(d, 0, 2);
  cfg.idle_timeout = 20ms;
  auto pool = rt.add_pool(cfg);
  stock(rt, pool);
  auto s = await_stats(rt, pool, [](const pool_stats& s) { return s.size == 0; });
  CHECK(s.size == 0);
  CHECK(s.idle_closed == 1);
  rt.shutdown();
  CHECK(d->opened() == 1);
  CHECK(d->still_open() == 0);
}

TEST_CASE("shelf: a drain takes back what it holds and waits for a shelf lease out") {
  auto d = std::make_shared<switch_driver>();
  runtime rt;
  auto pool = rt.add_pool(shelf_pool(d, 2, 2));
  stock(rt, pool);
  auto held = rt.acquire("orders", bound);
  caf::anon_send(pool, drain_atom::value);
  auto s =
    await_stats(rt, pool, [](const pool_stats& s) { return s.state == pool_state::draining; });
  CHECK(s.in_use == 1); // the drain waits for it
  CHECK(s.idle == 1);   // the one on the shelf is back with the pool
  held.release();
  s = await_stats(rt, pool, [](const pool_stats& s) { return s.size == 0; });
  CHECK(s.in_use == 0);
  CHECK(s.size == 0);
  rt.shutdown();
  CHECK(d->opened() == 2);
  CHECK(d->still_open() == 0);
}
