// A pool changed while it runs, on the deterministic scheduler: hot fields apply
// in place, a new driver is rolled in one resource at a time without an acquire
// going short, and operators list and maintain resources.

#include <algorithm>
#include <memory>

#include "tests/support/pool_fixture.hpp"

using namespace custodian;
using namespace custodian::test;
using namespace std::chrono_literals;

namespace {

struct configure_fixture : pool_fixture {
  std::shared_ptr<drivers::sim_driver> next_sim = std::make_shared<drivers::sim_driver>();

  ~configure_fixture() {
    stop_tracked();
    CHECK_MESSAGE(next_sim->open_connections() == 0, "a simulated connection was never closed");
  }

  reply<caf::ok_atom> configure(const pool_actor& p, pool_config c) {
    return call<caf::ok_atom>(p, configure_atom::value,
                              std::make_shared<const pool_config>(std::move(c)));
  }

  std::vector<resource_summary> resources(const pool_actor& p) {
    auto r = call<std::vector<resource_summary>>(p, resources_atom::value);
    REQUIRE(r.value);
    return *r.value;
  }
};

} // namespace

TEST_CASE_FIXTURE(configure_fixture, "hot fields apply in place without replacing a resource") {
  auto cfg = pool_cfg(2, 4);
  auto p = make_pool(cfg);
  cfg.min_idle = 3;
  cfg.max_size = 6;
  cfg.acquire_timeout = 250ms;
  REQUIRE(configure(p, cfg).value);
  settle();
  auto s = stats(p);
  CHECK(s.min_idle == 3);
  CHECK(s.max_size == 6);
  CHECK(s.idle == 3);
  CHECK(s.closed == 0);
  CHECK(s.outdated == 0);
  // The new acquire timeout holds: six leases out, the seventh waits 250 ms.
  std::vector<held> leases;
  for (int i = 0; i < 6; ++i)
    leases.push_back(acquire(p));
  auto waiter = make_sender();
  auto pending = ask_from(waiter, p, acquire_atom::value);
  settle();
  advance(249ms);
  settle();
  CHECK_FALSE(take<lease>(pending).answered());
  advance(1ms);
  settle();
  auto late = take<lease>(pending);
  CHECK_MESSAGE(is(late.error, errc::timeout), describe(late.error));
}

TEST_CASE_FIXTURE(configure_fixture,
                  "a new driver is rolled in one resource at a time and no acquire goes short") {
  auto cfg = pool_cfg(3, 3);
  auto p = make_pool(cfg);
  auto kept = acquire(p); // leased across the whole replace
  cfg.driver = next_sim;
  REQUIRE(configure(p, cfg).value);
  // Before anything new is up, the old resources still serve.
  auto early = acquire(p);
  CHECK(early.granted.resource.rfind("orders-", 0) == 0);
  REQUIRE_FALSE(release(p, early.granted.id));
  settle();
  auto s = stats(p);
  // Two idle ones replaced; the leased one waits for its holder, its replacement
  // ready beside it: one above max_size.
  CHECK(s.outdated == 1);
  CHECK(s.size == 4);
  CHECK(next_sim->counters().opens == 3);
  CHECK(sim->open_connections() == 1);
  REQUIRE_FALSE(release(p, kept.granted.id));
  settle();
  s = stats(p);
  CHECK(s.outdated == 0);
  CHECK(s.size == 3);
  CHECK(s.idle == 3);
  CHECK(sim->open_connections() == 0);
  CHECK(next_sim->open_connections() == 3);
  CHECK(s.timeouts == 0);
  auto list = resources(p);
  CHECK(std::none_of(list.begin(), list.end(), [](const auto& r) { return r.outdated; }));
}

TEST_CASE_FIXTURE(configure_fixture,
                  "a replacement that cannot be created leaves the old resources serving") {
  auto cfg = pool_cfg(2, 2);
  auto p = make_pool(cfg);
  drivers::sim_script refuses;
  refuses.fail_connects = 1'000'000;
  next_sim->set_default_script(refuses);
  cfg.driver = next_sim;
  REQUIRE(configure(p, cfg).value);
  advance(1'000ms);
  settle();
  auto s = stats(p);
  CHECK(s.outdated == 2);
  CHECK(s.idle == 2);
  auto h = acquire(p);
  CHECK(sim->open_connections() == 2);
}

TEST_CASE_FIXTURE(configure_fixture, "a config of another pool is refused and changes nothing") {
  auto cfg = pool_cfg(1, 2);
  auto p = make_pool(cfg);
  cfg.name = "payments";
  cfg.max_size = 9;
  auto r = configure(p, cfg);
  CHECK(is(r.error, errc::bad_request));
  CHECK(mentions(r.error, "payments"));
  CHECK(stats(p).max_size == 2);
}

TEST_CASE_FIXTURE(configure_fixture, "resources are listed with their state in the pool") {
  auto p = make_pool(pool_cfg(2, 2));
  auto h = acquire(p);
  auto list = resources(p);
  REQUIRE(list.size() == 2);
  auto leased = std::count_if(list.begin(), list.end(), [&](const auto& r) {
    return r.state == "leased" && r.id == h.granted.resource;
  });
  CHECK(leased == 1);
  CHECK(std::count_if(list.begin(), list.end(), [](const auto& r) { return r.state == "idle"; }) ==
        1);
}

TEST_CASE_FIXTURE(configure_fixture,
                  "an operator has an idle resource reset before it serves again") {
  auto p = make_pool(pool_cfg(1, 1));
  auto list = resources(p);
  REQUIRE(list.size() == 1);
  REQUIRE(call<caf::ok_atom>(p, maintain_atom::value, list[0].id).value);
  settle();
  CHECK(sim->counters().resets == 1);
  CHECK(resources(p)[0].state == "idle");
  auto h = acquire(p);
  auto busy_one = call<caf::ok_atom>(p, maintain_atom::value, h.granted.resource);
  CHECK(is(busy_one.error, errc::unavailable));
  CHECK(mentions(busy_one.error, "leased"));
  CHECK(is(call<caf::ok_atom>(p, maintain_atom::value, std::string{"orders-99"}).error,
           errc::not_found));
}
