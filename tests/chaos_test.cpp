// Chaos: pools of sim resources with health checks and quarantine, a dozen clients
// acquiring, using, failing and returning leases, while faults are injected at
// random (refused connects, outages of a whole pool, ping flaps, exec failures,
// throws, hung driver calls, resources killed outright) for a bounded number of
// steps from a fixed seed. Throughout: no pool exceeds max_size, no quarantined
// resource is handed out, no release of a granted lease is refused, seq increases.
// Once faults stop, every pool is back to active with nothing in quarantine within
// a bounded number of probe intervals; every request was answered; the event log
// replays through the state table; every connection opened is closed.
//
// The run is deterministic (CAF's test coordinator, a manual blocking executor).
// Another seed, or a longer run:
//   CUSTODIAN_CHAOS_SEED=7 CUSTODIAN_CHAOS_STEPS=50000 build/tests/custodian-tests -tc="chaos*"

#include <cstdlib>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "tests/support/event_recorder.hpp"
#include "tests/support/pool_fixture.hpp"

using namespace custodian;
using namespace custodian::test;
using namespace std::chrono_literals;

namespace {

uint64_t env_or(const char* name, uint64_t fallback) {
  if (const char* v = std::getenv(name))
    return std::stoull(v);
  return fallback;
}

constexpr auto probe_interval = 200ms;

struct client {
  std::shared_ptr<caf::scoped_actor> self;
  /// Set while a request is out: collects its reply, true once it came.
  std::function<bool()> poll;
  std::optional<lease> held;
  /// The pool of an acquire in flight: it may hold a lease already.
  std::string acquiring;
};

struct chaos_fixture : pool_fixture {
  uint64_t seed = env_or("CUSTODIAN_CHAOS_SEED", 20261130);
  std::size_t steps = env_or("CUSTODIAN_CHAOS_STEPS", 10'000);
  std::mt19937_64 rng{seed};
  std::shared_ptr<recording> rec = std::make_shared<recording>();
  std::vector<pool_config> configs;
  std::vector<pool_actor> pools;
  std::vector<client> clients;
  /// Steps during which driver calls hang: the executor runs nothing.
  int frozen_steps = 0;
  /// Resources in quarantine, as the events tell, up to `seen` events.
  std::set<std::string> quarantined;
  std::size_t seen = 0;
  /// The highest resource number each pool has used, as the events tell.
  std::map<std::string, std::size_t> highest;
  std::set<std::string> killed;
  uint64_t granted = 0, refused = 0, execs = 0, faults = 0;

  chaos_fixture() {
    event_filter all;
    all.capacity = 1u << 22;
    auto sink = spawn_recorder(sys, bus, rec, true);
    track(sink);
    REQUIRE(call<uint64_t>(bus, subscribe_atom::value, all, sink).value);
    for (int i = 0; i < 12; ++i)
      clients.push_back(client{make_sender(), {}, {}, {}});
  }

  pool_config chaos_pool(std::string name, uint32_t min_idle, uint32_t max_size) {
    auto c = pool_cfg(min_idle, max_size);
    c.name = std::move(name);
    c.acquire_timeout = 300ms;
    health_checker_config h;
    h.policy.interval = probe_interval;
    h.policy.jitter = 0.2;
    h.policy.healthy_threshold = 1;
    h.policy.unhealthy_threshold = 2;
    h.timeout = 100ms;
    c.health = h;
    quarantine_config q;
    q.policy.consecutive_failures = 2;
    q.policy.base_ejection = 100ms;
    q.policy.max_ejection = 800ms;
    q.policy.max_attempts = 3;
    q.policy.max_ejection_percent = 50.0;
    q.attempt_timeout = 300ms;
    c.quarantine = q;
    return c;
  }

  void add(pool_config c) {
    configs.push_back(c);
    pools.push_back(make_pool(std::move(c)));
  }

  template <class T>
  std::size_t pick(const std::vector<T>& xs) {
    return std::uniform_int_distribution<std::size_t>{0, xs.size() - 1}(rng);
  }

  bool chance(double p) { return std::bernoulli_distribution{p}(rng); }


  void follow_events() {
    for (; seen < rec->events.size(); ++seen) {
      const auto& ev = rec->events[seen];
      if (auto dash = ev.resource.rfind('-'); dash != std::string::npos && !ev.pool.empty())
        highest[ev.pool] =
          std::max<std::size_t>(highest[ev.pool], std::stoull(ev.resource.substr(dash + 1)));
      if (ev.kind == "resource_quarantined")
        quarantined.insert(ev.resource);
      // A restart starts a fresh actor, out of quarantine.
      else if (ev.kind == "resource_reinstated" || ev.kind == "resource_retired" ||
               ev.kind == "resource_restarted")
        quarantined.erase(ev.resource);
    }
  }

  // --- clients ---

  /// Sends a request on behalf of `c`; its poll hands the reply to `on_reply`.
  template <class T, class Handler, class... Ts>
  void send_request(client& c, const pool_actor& pool, Handler on_reply, Ts... xs) {
    auto sent = ask_from(c.self, pool, xs...);
    auto pending = std::make_shared<decltype(sent)>(std::move(sent));
    c.poll = [this, pending, on_reply]() mutable {
      auto r = take<T>(*pending);
      if (!r.answered())
        return false;
      on_reply(r);
      return true;
    };
  }

  void acquire(client& c) {
    auto i = pick(pools);
    c.acquiring = configs[i].name;
    send_request<lease>(
      c, pools[i],
      [this, &c](reply<lease>& r) {
        c.acquiring.clear();
        if (r.value) {
          follow_events();
          CHECK_MESSAGE(quarantined.count(r.value->resource) == 0,
                        "quarantined resource handed out: " << r.value->resource);
          c.held = r.value;
          ++granted;
          return;
        }
        CHECK_MESSAGE((r.failed_with(errc::timeout) || r.failed_with(errc::unavailable) ||
                       r.failed_with(errc::dependency_unavailable)),
                      describe(r.error));
        ++refused;
      },
      acquire_atom::value);
  }

  void exec(client& c) {
    send_request<std::string>(
      c, pool_of(*c.held), [this](reply<std::string>&) { ++execs; }, exec_atom::value,
      c.held->id, std::string{R"({"op":"get"})"});
  }

  void report_failure(client& c) {
    send_request<caf::ok_atom>(
      c, pool_of(*c.held),
      [](reply<caf::ok_atom>& r) {
        // Its lease may have been taken back already (its resource failed first).
        CHECK_MESSAGE((r.value || r.failed_with(errc::unavailable)), describe(r.error));
      },
      fail_atom::value, c.held->id, std::string{"client saw garbage"});
  }

  void release(client& c) {
    auto id = c.held->id;
    auto pool = pool_of(*c.held);
    c.held.reset();
    send_request<caf::ok_atom>(
      c, pool,
      [](reply<caf::ok_atom>& r) {
        // A granted lease is always taken back, even one its pool reclaimed.
        CHECK_MESSAGE(r.value, describe(r.error));
      },
      release_atom::value, id);
  }

  pool_actor pool_of(const lease& l) {
    for (std::size_t i = 0; i < configs.size(); ++i)
      if (configs[i].name == l.pool)
        return pools[i];
    FAIL("lease of an unknown pool " << l.pool);
    return {};
  }

  void step_client(client& c) {
    if (c.poll) {
      if (c.poll())
        c.poll = nullptr;
      return;
    }
    if (!c.held)
      acquire(c);
    else if (chance(0.6))
      exec(c);
    else if (chance(0.15))
      report_failure(c);
    else
      release(c);
  }

  // --- faults ---

  /// Resource ids a pool has used or will use soon.
  std::vector<std::string> ids_of(const pool_config& c, std::size_t ahead = 8) {
    follow_events();
    std::vector<std::string> ids;
    for (std::size_t n = 1; n <= highest[c.name] + ahead; ++n)
      ids.push_back(c.name + "-" + std::to_string(n));
    return ids;
  }

  drivers::sim_script random_fault() {
    drivers::sim_script s;
    switch (std::uniform_int_distribution<int>{0, 5}(rng)) {
    case 0: // down: refuses connects, its connection broken
      s.fail_connects = 1'000'000;
      s.ping_pattern = "-";
      s.exec_pattern = "-";
      s.exec_error = drivers::driver_errc::broken;
      break;
    case 1:
      s.ping_pattern = chance(0.5) ? "+-" : "++-";
      break;
    case 2:
      s.exec_pattern = "+-";
      s.exec_error = drivers::driver_errc::broken;
      break;
    case 3:
      s.exec_pattern = "++-";
      s.exec_error = drivers::driver_errc::rejected;
      break;
    case 4:
      s.throws[static_cast<std::size_t>(chance(0.5) ? drivers::sim_op::exec
                                                     : drivers::sim_op::ping)] = true;
      break;
    default: // healed
      break;
    }
    return s;
  }

  void inject_fault() {
    ++faults;
    auto& c = configs[pick(configs)];
    auto ids = ids_of(c);
    if (chance(0.1)) {
      // An outage of the whole pool, or its end.
      auto s = chance(0.5) ? random_fault() : drivers::sim_script{};
      for (const auto& id : ids)
        sim->set_script(id, s);
      return;
    }
    sim->set_script(ids[pick(ids)], random_fault());
  }

  void kill_one() {
    std::vector<client*> holders;
    for (auto& c : clients)
      if (c.held && !c.poll)
        holders.push_back(&c);
    if (holders.empty())
      return;
    auto& c = *holders[pick(holders)];
    killed.insert(c.held->resource);
    caf::anon_send_exit(c.held->handle, caf::exit_reason::kill);
  }

  // --- invariants ---

  void check_invariants() {
    for (std::size_t i = 0; i < pools.size(); ++i) {
      auto s = peek<pool_stats>(pools[i], stats_atom::value);
      CHECK_MESSAGE(s.in_use + s.idle + s.quarantined <= s.max_size,
                    s.name << ": " << s.in_use << " in use, " << s.idle << " idle, "
                           << s.quarantined << " in quarantine, max " << s.max_size);
      std::size_t holding = 0;
      for (const auto& c : clients)
        if ((c.held && c.held->pool == s.name) || c.acquiring == s.name)
          ++holding;
      CHECK_MESSAGE(s.in_use <= holding, s.name << ": " << s.in_use << " leases out, clients hold "
                                                << holding);
      CHECK(s.bad_releases == 0);
    }
  }

  void step() {
    auto roll = std::uniform_real_distribution<double>{0.0, 1.0}(rng);
    if (roll < 0.55)
      step_client(clients[pick(clients)]);
    else if (roll < 0.75)
      advance(std::chrono::milliseconds{std::uniform_int_distribution<int>{1, 120}(rng)});
    else if (roll < 0.90)
      inject_fault();
    else if (roll < 0.93)
      kill_one();
    else if (roll < 0.95 && frozen_steps == 0)
      frozen_steps = std::uniform_int_distribution<int>{1, 25}(rng);
    if (frozen_steps > 0) {
      --frozen_steps;
      run();
    } else {
      settle();
    }
  }

  /// Lets `d` pass in steps of 50 ms with every blocking call answered.
  void pass(caf::timespan d) {
    for (caf::timespan t{0}; t < d; t += 50ms) {
      advance(50ms);
      settle();
    }
  }

  /// Faults stop: every script is cleared and hung calls run.
  void heal() {
    frozen_steps = 0;
    sim->set_default_script({});
    for (const auto& c : configs)
      for (const auto& id : ids_of(c, 50))
        sim->set_script(id, {});
    settle();
  }

  /// Collects every outstanding reply and returns every lease.
  void wind_down_clients() {
    for (int round = 0; round < 100; ++round) {
      bool busy = false;
      for (auto& c : clients) {
        if (c.poll && c.poll())
          c.poll = nullptr;
        if (!c.poll && c.held)
          release(c);
        busy = busy || c.poll || c.held;
      }
      if (!busy)
        return;
      pass(50ms);
    }
    for (auto& c : clients)
      CHECK_MESSAGE(!c.poll, "a request was never answered");
  }
};

} // namespace

TEST_CASE_FIXTURE(chaos_fixture, "chaos: random faults under load keep every invariant") {
  MESSAGE("seed " << seed << ", " << steps << " steps");
  add(chaos_pool("db", 2, 4));
  add(chaos_pool("cache", 1, 3));
  add(chaos_pool("api", 0, 2));
  for (std::size_t i = 0; i < steps; ++i) {
    step();
    check_invariants();
  }
  heal();
  wind_down_clients();
  // Back to service within a bounded number of probe intervals.
  pass(20 * probe_interval);
  for (const auto& p : pools) {
    auto s = peek<pool_stats>(p, stats_atom::value);
    INFO(s.name);
    CHECK(s.state == pool_state::active);
    CHECK(s.quarantined == 0);
    CHECK(s.in_use == 0);
    CHECK(s.waiters == 0);
    CHECK(s.degraded == 0);
    CHECK(s.idle >= s.min_idle);
  }
  MESSAGE("granted " << granted << ", refused " << refused << ", execs " << execs << ", faults "
                     << faults << ", killed " << killed.size());
  // The run did exercise what it claims to.
  uint64_t ejections = 0, reinstated = 0, failed = 0, restarts = 0;
  for (const auto& p : pools) {
    auto s = peek<pool_stats>(p, stats_atom::value);
    ejections += s.ejections;
    reinstated += s.reinstated;
    failed += s.failed;
    restarts += s.restarts;
  }
  MESSAGE("ejections " << ejections << ", reinstated " << reinstated << ", failed " << failed
                        << ", restarts " << restarts);
  CHECK(granted > steps / 20);
  CHECK(ejections > 0);
  CHECK(failed > 0);
  CHECK_FALSE(killed.empty());
  CHECK(restarts > 0);
  for (const auto& p : pools)
    CHECK(call<pool_state>(p, drain_atom::value).value == pool_state::destroyed);
  settle();
  CHECK(rec->dropped_total == 0);
  replay_transitions(rec->events);
  auto counts = sim->counters();
  CHECK(counts.opens == counts.closes);
  CHECK(sim->open_connections() == 0);
}
