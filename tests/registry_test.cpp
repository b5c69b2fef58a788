// The registry on the deterministic scheduler with real pools on the sim driver:
// pools start in dependency order, a bad batch starts nothing, one pool's trouble
// reaches its dependants (hard: acquires fail fast naming the root cause; soft:
// degraded but serving) and flows back on recovery, and pools drain in reverse
// dependency order.

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "actors/registry.hpp"
#include "tests/support/event_recorder.hpp"
#include "tests/support/pool_fixture.hpp"

using namespace custodian;
using namespace custodian::test;
using namespace std::chrono_literals;
using level = availability::level;

namespace {

dependency on(std::string pool, dependency_kind kind = dependency_kind::hard) {
  return {std::move(pool), kind};
}

/// A backend that is down: it refuses every connect and fails every ping.
drivers::sim_script down() {
  drivers::sim_script s;
  s.fail_connects = 1'000'000;
  s.ping_pattern = "-";
  return s;
}

struct registry_fixture : pool_fixture {
  /// The driver of the pools that the tests take down; `sim` serves the others.
  std::shared_ptr<drivers::sim_driver> backend = std::make_shared<drivers::sim_driver>();
  registry_actor reg;
  std::shared_ptr<recording> seen = std::make_shared<recording>();

  registry_fixture() {
    reg = spawn_registry(sys, resource_context{executor, bus});
    event_filter pool_events;
    pool_events.kinds = {"pool_transition", "pool_health", "pool_availability"};
    auto sink = spawn_recorder(sys, bus, seen, true);
    track(sink);
    REQUIRE(call<uint64_t>(bus, subscribe_atom::value, pool_events, sink).value);
  }

  ~registry_fixture() {
    // The registry's pools end with it.
    caf::anon_send_exit(reg, caf::exit_reason::user_shutdown);
    settle();
    CHECK_MESSAGE(backend->open_connections() == 0, "a simulated connection was never closed");
  }

  pool_config pool_named(std::string name, std::vector<dependency> deps = {},
                         std::shared_ptr<drivers::sim_driver> driver = nullptr) {
    auto c = pool_cfg(1, 2);
    c.name = std::move(name);
    c.depends_on = std::move(deps);
    if (driver)
      c.driver = std::move(driver);
    return c;
  }

  reply<std::vector<pool_actor>> add(std::vector<pool_config> batch) {
    return call<std::vector<pool_actor>>(
      reg, add_atom::value, std::make_shared<const std::vector<pool_config>>(std::move(batch)));
  }

  /// Adds a batch that must be accepted; returns the handles by name.
  std::map<std::string, pool_actor> add_all(std::vector<pool_config> batch) {
    std::vector<std::string> names;
    for (const auto& c : batch)
      names.push_back(c.name);
    auto r = add(std::move(batch));
    REQUIRE_MESSAGE(r.value, describe(r.error));
    std::map<std::string, pool_actor> out;
    for (std::size_t i = 0; i < names.size(); ++i)
      out.emplace(names[i], r.value->at(i));
    return out;
  }

  std::vector<pool_summary> summaries() {
    auto r = call<std::vector<pool_summary>>(reg, status_atom::value);
    REQUIRE(r.value);
    return *r.value;
  }

  pool_summary summary_of(const std::string& name) {
    for (auto& s : summaries())
      if (s.name == name)
        return s;
    FAIL("no summary of pool " << name);
    return {};
  }

  /// An acquire whose holder is dropped at once: for refusals.
  reply<lease> try_acquire(const pool_actor& p) { return call<lease>(p, acquire_atom::value); }

  /// Moves the clock in steps, running everything, until `done` (bounded).
  template <class Predicate>
  bool advance_until(Predicate done) {
    for (int i = 0; i < 200; ++i) {
      if (done())
        return true;
      advance(100ms);
      settle();
    }
    return done();
  }

  /// Position of the first recorded event of this kind, pool and target state;
  /// the number of events if there is none.
  std::size_t first(const std::string& kind, const std::string& pool, const std::string& to) {
    return first_event(seen->events, kind, pool, to);
  }

  /// The availability changes of `pool`, as "from>to:root_cause".
  std::vector<std::string> availability_changes(const std::string& pool) {
    std::vector<std::string> out;
    for (const auto& ev : seen->events)
      if (ev.kind == "pool_availability" && ev.pool == pool)
        out.push_back(ev.from + ">" + ev.to + ":" +
                      nlohmann::json::parse(ev.detail)["root_cause"].get<std::string>());
    return out;
  }
};

bool available(const pool_summary& s) {
  return s.avail.is == level::available;
}

} // namespace

TEST_CASE_FIXTURE(registry_fixture,
                  "a dependant starts only once its hard dependency is active, acquires waiting") {
  // db's first resource fails its first connect: db warms only after the retry.
  drivers::sim_script once;
  once.fail_connects = 1;
  once.connect_error = drivers::driver_errc::exception; // retried by the resource itself
  sim->set_script("db-1", once);
  auto pools = add_all({pool_named("orders", {on("db")}), pool_named("db")});
  auto orders = pools.at("orders");
  CHECK(summary_of("db").state == pool_state::initializing);
  CHECK(summary_of("orders").state == pool_state::creating);
  // An acquire on the waiting pool is not refused: it waits in line.
  auto holder = make_sender();
  auto pending = ask_from(holder, orders, acquire_atom::value);
  settle();
  CHECK_FALSE(take<lease>(pending).answered());
  auto s = stats(orders);
  CHECK(s.waiters == 1);
  CHECK(s.size == 0);
  advance(100ms); // db-1 retries and connects
  settle();
  CHECK(summary_of("db").state == pool_state::active);
  auto granted = take<lease>(pending);
  REQUIRE_MESSAGE(granted.value, describe(granted.error));
  CHECK(granted.value->pool == "orders");
  CHECK(first("pool_transition", "db", "active") <
        first("pool_transition", "orders", "initializing"));
  CHECK_FALSE(release(orders, granted.value->id));
}

TEST_CASE_FIXTURE(registry_fixture,
                  "a batch with a cycle is a bad_config naming it, and nothing starts") {
  auto r = add({pool_named("a", {on("b")}), pool_named("b", {on("c", dependency_kind::soft)}),
                pool_named("c", {on("a")}), pool_named("d")});
  CHECK(r.failed_with(errc::bad_config));
  CHECK(mentions(r.error, "dependency cycle: a -> b -> c -> a"));
  CHECK(summaries().empty());
  CHECK(call<pool_actor>(reg, caf::get_atom::value, std::string{"d"}).failed_with(errc::not_found));
  CHECK(sim->counters().connect_attempts == 0);
}

TEST_CASE_FIXTURE(registry_fixture,
                  "an unknown dependency, a taken name or a bad share is a bad_config") {
  auto unknown = add({pool_named("api", {on("nowhere")})});
  CHECK(unknown.failed_with(errc::bad_config));
  CHECK(mentions(unknown.error, "pool api depends on nowhere, which is not a pool"));
  add_all({pool_named("db")});
  // A later batch may depend on a pool added before.
  add_all({pool_named("api", {on("db")})});
  auto taken = add({pool_named("cache"), pool_named("db")});
  CHECK(taken.failed_with(errc::bad_config));
  CHECK(mentions(taken.error, "a pool named db exists"));
  auto twice = add({pool_named("x"), pool_named("x")});
  CHECK(mentions(twice.error, "a pool named x exists"));
  auto share = pool_named("y");
  share.unhealthy_share = 0.0;
  CHECK(mentions(add({share}).error, "pool y: unhealthy_share"));
  auto lookup = call<pool_actor>(reg, caf::get_atom::value, std::string{"cache"});
  CHECK(lookup.failed_with(errc::not_found));
  CHECK(mentions(lookup.error, "no pool named cache"));
  CHECK(summaries().size() == 2);
}

TEST_CASE_FIXTURE(registry_fixture,
                  "through a chain, a pool that goes down makes its dependants fail fast, and "
                  "recovery flows back") {
  auto c = with_health(pool_named("c", {}, backend), 1);
  auto pools = add_all({pool_named("a", {on("b")}), pool_named("b", {on("c")}), c});
  auto before = acquire(pools.at("a"));
  CHECK(before.granted.pool == "a");
  CHECK(summary_of("a").state == pool_state::active);
  // The backend goes down: c's probe fails, its replacements cannot connect.
  backend->set_default_script(down());
  REQUIRE(advance_until([&] { return summary_of("c").health == pool_health::unhealthy; }));
  auto on_a = try_acquire(pools.at("a"));
  CHECK(on_a.failed_with(errc::dependency_unavailable));
  CHECK(describe(on_a.error) == "custodian::dependency_unavailable: pool a: hard dependency b is "
                                "unavailable (root cause: c)");
  auto on_b = try_acquire(pools.at("b"));
  CHECK(describe(on_b.error) == "custodian::dependency_unavailable: pool b: hard dependency c is "
                                "unhealthy (root cause: c)");
  auto a = summary_of("a");
  CHECK(a.avail == availability{level::unavailable, "c"});
  CHECK(a.health == pool_health::healthy);
  CHECK(stats(pools.at("b")).avail == availability{level::unavailable, "c"});
  // The lease taken before stays valid.
  CHECK(exec_on(*this, pools.at("a"), before.granted.id).value);
  CHECK_FALSE(release(pools.at("a"), before.granted.id));
  // The backend comes back: c creates again, and the chain is available again.
  backend->set_default_script({});
  REQUIRE(advance_until([&] { return available(summary_of("a")); }));
  CHECK(summary_of("c").health == pool_health::healthy);
  auto after = acquire(pools.at("a"));
  CHECK(after.granted.pool == "a");
  for (const auto* name : {"a", "b"})
    CHECK(availability_changes(name) ==
          std::vector<std::string>{"available>unavailable:c", "unavailable>available:"});
  CHECK(first("pool_health", "c", "unhealthy") < first("pool_availability", "b", "unavailable"));
}

TEST_CASE_FIXTURE(registry_fixture,
                  "a pool without min_idle whose creations failed recovers without demand") {
  backend->set_default_script(down());
  auto db = pool_named("db", {}, backend);
  db.min_idle = 0;
  auto pools = add_all({db, pool_named("api", {on("db")})});
  CHECK(available(summary_of("api")));
  // One acquire finds the backend down and hears it at once; nobody asks db again.
  auto holder = make_sender();
  auto pending = ask_from(holder, pools.at("db"), acquire_atom::value);
  reply<lease> refused;
  REQUIRE(advance_until([&] {
    refused = take<lease>(pending);
    return refused.answered();
  }));
  CHECK(refused.failed_with(errc::unavailable));
  CHECK(mentions(refused.error, "backend down"));
  CHECK(summary_of("db").health == pool_health::unhealthy);
  CHECK(try_acquire(pools.at("api")).failed_with(errc::dependency_unavailable));
  // The backend comes back while no creation is under way.
  REQUIRE(advance_until([&] { return stats(pools.at("db")).size == 0; }));
  backend->set_default_script({});
  REQUIRE(advance_until([&] { return available(summary_of("api")); }));
  CHECK(summary_of("db").health == pool_health::healthy);
}

TEST_CASE_FIXTURE(registry_fixture,
                  "in a diamond, hard dependants are unavailable and a soft one degraded but "
                  "serving") {
  backend->set_default_script(down());
  auto pools = add_all({pool_named("top", {on("left"), on("right")}),
                        pool_named("left", {on("base")}), pool_named("right", {on("base")}),
                        pool_named("reports", {on("base", dependency_kind::soft)}),
                        pool_named("base", {}, backend)});
  REQUIRE(advance_until([&] { return summary_of("base").health == pool_health::unhealthy; }));
  auto on_top = try_acquire(pools.at("top"));
  CHECK(on_top.failed_with(errc::dependency_unavailable));
  CHECK(mentions(on_top.error, "pool top: hard dependency left is unavailable (root cause: base)"));
  const availability down_by_base{level::unavailable, "base"};
  for (const auto* name : {"left", "right", "top"})
    CHECK_MESSAGE(summary_of(name).avail == down_by_base, name);
  // The soft dependant serves, and shows its degradation.
  auto served = acquire(pools.at("reports"));
  CHECK(served.granted.pool == "reports");
  CHECK(stats(pools.at("reports")).avail == availability{level::degraded, "base"});
  CHECK(summary_of("reports").reason == "soft dependency base is unhealthy (root cause: base)");
  CHECK_FALSE(release(pools.at("reports"), served.granted.id));
  backend->set_default_script({});
  REQUIRE(advance_until([&] {
    auto all = summaries();
    return std::all_of(all.begin(), all.end(), available);
  }));
  auto recovered = acquire(pools.at("top"));
  CHECK(recovered.granted.pool == "top");
  CHECK(availability_changes("reports") ==
        std::vector<std::string>{"available>degraded:base", "degraded>available:"});
  CHECK(availability_changes("top") ==
        std::vector<std::string>{"available>unavailable:base", "unavailable>available:"});
}

TEST_CASE_FIXTURE(registry_fixture,
                  "the share of unhealthy resources decides whether a pool is degraded or down") {
  auto db = pool_named("db");
  db.min_idle = 2;
  db.unhealthy_share = 0.5;
  health_checker_config h;
  h.policy.interval = 60'000ms; // the test reports health itself
  db.health = h;
  auto pools = add_all({db, pool_named("api", {on("db")})});
  auto first_db = acquire(pools.at("db"));
  auto second_db = acquire(pools.at("db"));
  auto report = [&](health_status status) {
    caf::anon_send(caf::actor_cast<health_watcher_actor>(pools.at("db")),
                   health_report{first_db.granted.resource, status, 0, 0, ""});
    settle();
  };
  report(health_status::degraded);
  CHECK(summary_of("db").health == pool_health::degraded);
  CHECK(summary_of("api").avail == availability{level::degraded, "db"});
  CHECK(try_acquire(pools.at("api")).value);
  report(health_status::unhealthy); // one of two: the share is reached
  CHECK(summary_of("db").health == pool_health::unhealthy);
  CHECK(try_acquire(pools.at("api")).failed_with(errc::dependency_unavailable));
  report(health_status::healthy);
  CHECK(available(summary_of("api")));
  CHECK(try_acquire(pools.at("api")).value);
}

TEST_CASE_FIXTURE(registry_fixture, "resources in quarantine count as not working") {
  auto db = pool_named("db");
  db.min_idle = 2;
  db.max_size = 2;
  auto pools = add_all({db, pool_named("api", {on("db")})});
  auto by_hand = call<caf::ok_atom>(pools.at("db"), quarantine_atom::value, std::string{"db-1"},
                                    std::string{"test"});
  REQUIRE_MESSAGE(by_hand.value, describe(by_hand.error));
  CHECK(summary_of("db").health == pool_health::unhealthy); // one of two
  CHECK(try_acquire(pools.at("api")).failed_with(errc::dependency_unavailable));
  REQUIRE(call<caf::ok_atom>(pools.at("db"), release_atom::value, std::string{"db-1"}).value);
  CHECK(summary_of("db").health == pool_health::healthy);
  CHECK(available(summary_of("api")));
}

TEST_CASE_FIXTURE(registry_fixture,
                  "a pool that ends refuses its dependants' waiters, and their leases stay valid") {
  auto api = pool_named("api", {on("db")});
  api.max_size = 1;
  auto pools = add_all({pool_named("db"), api});
  auto held = acquire(pools.at("api"));
  auto waiter = make_sender();
  auto pending = ask_from(waiter, pools.at("api"), acquire_atom::value);
  settle();
  CHECK_FALSE(take<lease>(pending).answered());
  caf::anon_send_exit(pools.at("db"), caf::exit_reason::kill);
  settle();
  auto refused = take<lease>(pending);
  CHECK(refused.failed_with(errc::dependency_unavailable));
  CHECK(mentions(refused.error, "root cause: db"));
  auto db = summary_of("db");
  CHECK(db.state == pool_state::error);
  CHECK(db.health == pool_health::unhealthy);
  CHECK(
    call<pool_actor>(reg, caf::get_atom::value, std::string{"db"}).failed_with(errc::unavailable));
  CHECK(exec_on(*this, pools.at("api"), held.granted.id).value);
  CHECK_FALSE(release(pools.at("api"), held.granted.id));
}

TEST_CASE_FIXTURE(registry_fixture,
                  "a pool refuses acquires for a dependency's trouble, not its own") {
  auto p = make_pool(pool_cfg(1, 1));
  caf::anon_send(
    p, availability_notice{{level::unavailable, "orders"}, "its own health is unhealthy"});
  run();
  auto own = acquire(p); // it keeps serving, so that it can recover
  CHECK_FALSE(release(p, own.granted.id));
  caf::anon_send(p, availability_notice{{level::unavailable, "db"},
                                        "hard dependency db is unhealthy (root cause: db)"});
  run();
  auto refused = try_acquire(p);
  CHECK(describe(refused.error) ==
        "custodian::dependency_unavailable: pool orders: hard dependency "
        "db is unhealthy (root cause: db)");
  CHECK(stats(p).avail == availability{level::unavailable, "db"});
}

TEST_CASE_FIXTURE(registry_fixture, "pools drain in the reverse of their start order") {
  auto pools = add_all({pool_named("a", {on("b")}), pool_named("b", {on("c")}), pool_named("c")});
  CHECK(first("pool_transition", "c", "active") < first("pool_transition", "b", "initializing"));
  CHECK(first("pool_transition", "b", "active") < first("pool_transition", "a", "initializing"));
  auto held = acquire(pools.at("c")); // c drains last: its lease comes back in time
  auto pending = ask(reg, drain_atom::value, caf::timespan{10s});
  settle();
  CHECK(first("pool_transition", "a", "destroyed") < first("pool_transition", "b", "draining"));
  CHECK(first("pool_transition", "b", "destroyed") < first("pool_transition", "c", "draining"));
  CHECK(summary_of("c").state == pool_state::draining);
  CHECK_FALSE(release(pools.at("c"), held.granted.id));
  settle();
  auto report = take<drain_report>(pending);
  REQUIRE(report.value);
  CHECK(report.value->drained == std::vector<std::string>{"a", "b", "c"});
  CHECK(report.value->forced.empty());
  CHECK(add({pool_named("late")}).failed_with(errc::unavailable));
}

TEST_CASE_FIXTURE(registry_fixture, "a drain is bounded: what is not drained in time is stopped") {
  auto pools = add_all({pool_named("a", {on("b")}), pool_named("b")});
  auto held = acquire(pools.at("a")); // never returned
  auto pending = ask(reg, drain_atom::value, caf::timespan{50ms});
  settle();
  CHECK_FALSE(take<drain_report>(pending).answered());
  advance(50ms);
  settle();
  auto report = take<drain_report>(pending);
  REQUIRE(report.value);
  // No time is left for b once a was stopped.
  CHECK(report.value->forced == std::vector<std::string>{"a", "b"});
  CHECK(report.value->drained.empty());
  CHECK(call<pool_stats>(pools.at("a"), stats_atom::value).error);
}

TEST_CASE_FIXTURE(
  registry_fixture,
  "a pool whose supervisor gives up makes its hard dependants unavailable until it is back") {
  auto db = pool_named("db");
  db.supervision.max_restarts = 1;
  db.supervision.retry = backoff_policy{1'000ms, 8'000ms, 0.0};
  auto pools = add_all({db, pool_named("api", {on("db")})});
  settle();
  for (int crash = 0; crash < 2; ++crash) {
    auto victim = acquire(pools.at("db"));
    caf::anon_send_exit(victim.granted.handle, caf::exit_reason::kill);
    settle();
  }
  CHECK(summary_of("db").state == pool_state::error);
  auto refused = try_acquire(pools.at("api"));
  CHECK(refused.failed_with(errc::dependency_unavailable));
  CHECK(mentions(refused.error, "root cause: db"));
  CHECK(advance_until([&] { return available(summary_of("api")); }));
  CHECK(summary_of("db").state == pool_state::active);
  CHECK(availability_changes("api") ==
        std::vector<std::string>{"available>unavailable:db", "unavailable>available:"});
  auto served = acquire(pools.at("api"));
  CHECK(served.granted.pool == "api");
}

TEST_CASE_FIXTURE(registry_fixture,
                  "a pool others depend on cannot be removed, and is still there") {
  add_all({pool_named("db"), pool_named("cache", {on("db", dependency_kind::soft)})});
  settle();
  auto r = call<bool>(reg, remove_atom::value, std::string{"db"}, false, caf::timespan{1s});
  CHECK(is(r.error, errc::conflict));
  CHECK(mentions(r.error, "cache"));
  CHECK(summaries().size() == 2);
  CHECK(is(call<bool>(reg, remove_atom::value, std::string{"nope"}, false, caf::timespan{1s}).error,
           errc::not_found));
}

TEST_CASE_FIXTURE(registry_fixture,
                  "a removed pool drains, is forgotten and frees what it depended on") {
  auto pools = add_all({pool_named("db"), pool_named("cache", {on("db")})});
  settle();
  auto r = call<bool>(reg, remove_atom::value, std::string{"cache"}, false, caf::timespan{1s});
  REQUIRE_MESSAGE(r.value, describe(r.error));
  CHECK(*r.value); // drained in time
  CHECK(summaries().size() == 1);
  CHECK(
    is(call<pool_actor>(reg, caf::get_atom::value, std::string{"cache"}).error, errc::not_found));
  // Nothing depends on db any more: it can go too, here without draining.
  auto forced = call<bool>(reg, remove_atom::value, std::string{"db"}, true, caf::timespan{1s});
  REQUIRE(forced.value);
  CHECK_FALSE(*forced.value);
  settle();
  CHECK(summaries().empty());
  CHECK(sim->open_connections() == 0);
}

TEST_CASE_FIXTURE(registry_fixture,
                  "a new config that would close a cycle is refused and changes nothing") {
  auto pools = add_all({pool_named("db"), pool_named("cache", {on("db")})});
  settle();
  auto looped = pool_named("db", {on("cache")});
  auto r =
    call<caf::ok_atom>(reg, configure_atom::value, std::make_shared<const pool_config>(looped));
  CHECK(is(r.error, errc::bad_config));
  CHECK(mentions(r.error, "cycle"));
  // A config that adds a soft dependency on a new pool goes through to the pool.
  add_all({pool_named("search")});
  settle();
  auto more = pool_named("cache", {on("db"), on("search", dependency_kind::soft)});
  more.max_size = 5;
  REQUIRE(call<caf::ok_atom>(reg, configure_atom::value, std::make_shared<const pool_config>(more))
            .value);
  CHECK(stats(pools.at("cache")).max_size == 5);
  auto busy = call<bool>(reg, remove_atom::value, std::string{"search"}, false, caf::timespan{1s});
  CHECK(is(busy.error, errc::conflict));
}
