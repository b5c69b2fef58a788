// The dependency graph of pools, without actors: start and stop order, the errors
// that name an unknown pool or a cycle, and the cascade through chains and
// diamonds, with its way back once the root cause recovers.

#include <doctest/doctest.h>

#include "actors/dependency_graph.hpp"

using namespace custodian;
using level = availability::level;

namespace {

dependency hard(std::string pool) {
  return {std::move(pool), dependency_kind::hard};
}

dependency soft(std::string pool) {
  return {std::move(pool), dependency_kind::soft};
}

/// api -> (orders-db, cache); orders-db -> auth-db; cache -> auth-db (soft).
dependency_graph diamond() {
  dependency_graph g;
  g.add("api", {hard("orders-db"), hard("cache")});
  g.add("orders-db", {hard("auth-db")});
  g.add("cache", {soft("auth-db")});
  g.add("auth-db", {});
  return g;
}

} // namespace

TEST_CASE("pools start after what they depend on and stop before it") {
  auto g = diamond();
  REQUIRE_FALSE(g.validate());
  CHECK(g.start_order() == std::vector<std::string>{"auth-db", "cache", "orders-db", "api"});
  CHECK(g.stop_order() == std::vector<std::string>{"api", "orders-db", "cache", "auth-db"});
}

TEST_CASE("an unknown dependency and a cycle are errors that name them") {
  dependency_graph unknown;
  unknown.add("api", {hard("nowhere")});
  auto err = unknown.validate();
  REQUIRE(err);
  CHECK(*err == "pool api depends on nowhere, which is not a pool");

  dependency_graph cyclic;
  cyclic.add("a", {hard("b")});
  cyclic.add("b", {soft("c")});
  cyclic.add("c", {hard("a")});
  cyclic.add("d", {hard("a")});
  err = cyclic.validate();
  REQUIRE(err);
  CHECK(*err == "dependency cycle: a -> b -> c -> a");
  // Nothing in or behind the cycle can be ordered.
  CHECK(cyclic.start_order().empty());

  dependency_graph self_loop;
  self_loop.add("a", {hard("a")});
  REQUIRE(self_loop.validate());
  CHECK(*self_loop.validate() == "dependency cycle: a -> a");
}

TEST_CASE("an unhealthy pool makes hard dependants unavailable and soft ones degraded") {
  auto g = diamond();
  auto a = g.cascade({{"auth-db", pool_health::unhealthy}});
  CHECK(a["auth-db"] == availability{level::unavailable, "auth-db"});
  CHECK(a["orders-db"] == availability{level::unavailable, "auth-db"});
  CHECK(a["cache"] == availability{level::degraded, "auth-db"});
  // Through a chain, the root cause is still the pool that failed.
  CHECK(a["api"] == availability{level::unavailable, "auth-db"});
}

TEST_CASE("a degraded pool degrades its dependants, hard or soft") {
  auto g = diamond();
  auto a = g.cascade({{"orders-db", pool_health::degraded}});
  CHECK(a["auth-db"] == availability{});
  CHECK(a["orders-db"] == availability{level::degraded, "orders-db"});
  CHECK(a["cache"] == availability{});
  CHECK(a["api"] == availability{level::degraded, "orders-db"});
}

TEST_CASE("the worst cause wins, and recovery flows back the same way") {
  auto g = diamond();
  auto a = g.cascade({{"cache", pool_health::degraded}, {"orders-db", pool_health::unhealthy}});
  CHECK(a["api"] == availability{level::unavailable, "orders-db"});
  a = g.cascade({{"cache", pool_health::degraded}});
  CHECK(a["api"] == availability{level::degraded, "cache"});
  a = g.cascade({});
  for (const auto& [pool, av] : a)
    CHECK_MESSAGE(av == availability{}, pool);
}

TEST_CASE("the reason names the dependency the trouble comes through and its root cause") {
  auto g = diamond();
  auto a = g.cascade({{"auth-db", pool_health::unhealthy}});
  CHECK(g.explain("auth-db", a) == "its own health is unhealthy");
  CHECK(g.explain("orders-db", a) == "hard dependency auth-db is unhealthy (root cause: auth-db)");
  CHECK(g.explain("cache", a) == "soft dependency auth-db is unhealthy (root cause: auth-db)");
  // Through a chain, the pool between is named as unavailable.
  CHECK(g.explain("api", a) == "hard dependency orders-db is unavailable (root cause: auth-db)");
  a = g.cascade({{"cache", pool_health::degraded}});
  CHECK(g.explain("api", a) == "hard dependency cache is degraded (root cause: cache)");
  CHECK(g.explain("orders-db", a).empty());
}

TEST_CASE("dependants and dependencies are read back as declared") {
  auto g = diamond();
  CHECK(g.dependants("auth-db") == std::vector<std::string>{"cache", "orders-db"});
  CHECK(g.dependants("api").empty());
  auto deps = g.dependencies("api");
  REQUIRE(deps.size() == 2);
  CHECK(deps[0].pool == "orders-db");
  CHECK(deps[1].kind == dependency_kind::hard);
  CHECK(g.dependencies("nowhere").empty());
}
