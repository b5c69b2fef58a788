// A connection the server closed while it was idle, on CAF's real scheduler: a
// health probe that finds it closed (the driver's alive() says so after the
// failed ping) makes the resource unhealthy at once, whatever the threshold, and
// the pool replaces it; no later probe could have passed on that connection.

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

constexpr auto bound = std::chrono::seconds{30};

} // namespace

TEST_CASE("a probe that finds an idle connection closed replaces it without waiting for the "
          "threshold") {
  auto d = std::make_shared<switch_driver>();
  runtime rt;
  pool_config cfg;
  cfg.name = "orders";
  cfg.driver = d;
  cfg.min_idle = 1;
  cfg.max_size = 1;
  health_checker_config health;
  health.policy.interval = 20ms;
  // Failed probes alone would never make it unhealthy within the test's bound.
  health.policy.unhealthy_threshold = 1'000'000;
  cfg.health = health;
  auto pool = rt.add_pool(cfg);
  await_stats(rt, pool, [](const pool_stats& s) { return s.idle == 1; });
  d->made(0)->dead = true; // the server ended it
  auto s =
    await_stats(rt, pool, [](const pool_stats& s) { return s.unhealthy == 1 && s.idle == 1; });
  CHECK(s.unhealthy == 1);
  CHECK(s.idle == 1);
  CHECK(d->opened() == 2);
  {
    auto lease = rt.acquire("orders", bound);
    CHECK_FALSE(lease.connection_as<switch_connection>().dead);
  }
  rt.shutdown();
  CHECK(d->still_open() == 0);
}
