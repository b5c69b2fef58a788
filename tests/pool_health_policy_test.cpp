// A pool's own health, without actors: its state, the share of its resources
// reported unhealthy against unhealthy_share, and creations that keep failing.

#include <doctest/doctest.h>

#include "actors/pool_health_policy.hpp"

using namespace custodian;

namespace {

pool_health_facts resources(std::size_t total, std::size_t unhealthy, std::size_t degraded) {
  pool_health_facts f;
  f.resources = total;
  f.unhealthy = unhealthy;
  f.degraded = degraded;
  return f;
}

} // namespace

TEST_CASE("a pool whose resources are all well is healthy, also with none yet") {
  CHECK(judge_pool_health(resources(0, 0, 0), 0.5) == pool_health::healthy);
  CHECK(judge_pool_health(resources(4, 0, 0), 0.5) == pool_health::healthy);
}

TEST_CASE("a pool in error is unhealthy whatever its resources") {
  auto f = resources(4, 0, 0);
  f.state = pool_state::error;
  CHECK(judge_pool_health(f, 0.5) == pool_health::unhealthy);
}

TEST_CASE("the unhealthy share decides between degraded and unhealthy") {
  CHECK(judge_pool_health(resources(3, 1, 0), 0.5) == pool_health::degraded);
  CHECK(judge_pool_health(resources(2, 1, 0), 0.5) == pool_health::unhealthy);
  CHECK(judge_pool_health(resources(4, 3, 0), 1.0) == pool_health::degraded);
  CHECK(judge_pool_health(resources(4, 4, 0), 1.0) == pool_health::unhealthy);
  // Degraded resources degrade the pool, however many.
  CHECK(judge_pool_health(resources(2, 0, 2), 0.5) == pool_health::degraded);
}

TEST_CASE("creations that keep failing make a pool without a working resource unhealthy") {
  auto none = resources(0, 0, 0);
  none.creations_failing = true;
  CHECK(judge_pool_health(none, 0.5) == pool_health::unhealthy);
  // Every resource it still has is unhealthy: none works.
  auto broken = resources(2, 2, 0);
  broken.creations_failing = true;
  CHECK(judge_pool_health(broken, 1.0) == pool_health::unhealthy);
  // One that works still serves: failing creations alone do not make it unhealthy.
  auto one_works = resources(1, 0, 0);
  one_works.creations_failing = true;
  CHECK(judge_pool_health(one_works, 0.5) == pool_health::healthy);
}
