// Chaos: pools of sim resources built through the registry as one batch whose
// dependencies form a chain and a diamond with a soft edge
//
//        db            cache -> db (hard), search -> db (soft),
//       /  \           api -> cache (hard), api -> search (hard)
//   cache  search
//       \  /
//        api
//
// with health checks and quarantine, a dozen clients acquiring, using, failing and
// returning leases, while faults are injected at random (refused connects, outages
// of a whole pool — the root db among them, so that the cascade fires — ping flaps,
// exec failures, throws, hung driver calls, resources killed outright) for a bounded
// number of steps from a fixed seed.
//
// At every step: no pool exceeds max_size, no quarantined resource is handed out, no
// release of a granted lease is refused, the registry's status agrees with each
// pool's stats and with the dependency graph's cascade of the pools' own health. An
// acquire refused with dependency_unavailable names as root cause a pool upstream of
// the pool asked through hard edges, never the pool itself, and the pool's own
// availability events said so while the request was out; a grant comes from a pool
// not cut off by a dependency; acquires are never refused for a pool's own trouble.
// Once faults stop, within a bounded number of probe intervals every pool is active,
// healthy, available, with nothing in quarantine, no waiters and min_idle idle;
// every lease granted was released or reclaimed. Then the registry drains the pools
// in reverse dependency order, the event log replays through the state table, and
// every connection opened is closed.
//
// The run is deterministic (CAF's test coordinator, a manual blocking executor).
// Another seed, or a longer run:
//   CUSTODIAN_CHAOS_SEED=7 CUSTODIAN_CHAOS_STEPS=100000 build/tests/custodian-tests -tc="chaos*"

#include <cstdlib>
#include <functional>
#include <map>
#include <random>
#include <set>
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

uint64_t env_or(const char* name, uint64_t fallback) {
  if (const char* v = std::getenv(name))
    return std::stoull(v);
  return fallback;
}

constexpr auto probe_interval = 200ms;

/// Once faults stop, the pools are back within this many probe intervals.
constexpr int recovery_bound = 20;

struct client {
  std::shared_ptr<caf::scoped_actor> self;
  /// Set while a request is out: collects its reply, true once it came.
  std::function<bool()> poll;
  std::optional<lease> held;
  /// The pool of an acquire in flight: it may hold a lease already.
  std::string acquiring;
  /// How many events had been recorded when the acquire in flight was sent.
  std::size_t sent_at = 0;
};

/// A backend that is down: it refuses connects, fails pings, breaks on exec.
drivers::sim_script down() {
  drivers::sim_script s;
  s.fail_connects = 1'000'000;
  s.ping_pattern = "-";
  s.exec_pattern = "-";
  s.exec_error = drivers::driver_errc::broken;
  return s;
}

/// The root cause an error's message names: "... (root cause: db)".
std::string root_cause_of(const caf::error& err) {
  static const std::string marker = "(root cause: ";
  auto text = describe(err);
  auto from = text.rfind(marker);
  if (from == std::string::npos)
    return "";
  from += marker.size();
  return text.substr(from, text.find(')', from) - from);
}

struct chaos_fixture : pool_fixture {
  uint64_t seed = env_or("CUSTODIAN_CHAOS_SEED", 20261130);
  std::size_t steps = env_or("CUSTODIAN_CHAOS_STEPS", 10'000);
  std::mt19937_64 rng{seed};
  std::shared_ptr<recording> rec = std::make_shared<recording>();
  registry_actor reg;
  /// The same dependencies as the registry's: the test's own view of them.
  dependency_graph graph;
  std::vector<pool_config> configs;
  std::vector<pool_actor> pools;
  /// One driver per pool, so that an outage covers its resources to come too.
  std::map<std::string, std::shared_ptr<drivers::sim_driver>> backends;
  std::vector<client> clients;
  /// Steps during which driver calls hang: the executor runs nothing.
  int frozen_steps = 0;
  /// Steps left of each pool's outage (the whole backend down).
  std::map<std::string, int> outage_left;
  /// Resources in quarantine, as the events tell up to `seen` events, with the
  /// index of the event that put each in.
  std::map<std::string, std::size_t> quarantined;
  std::size_t seen = 0;
  /// The highest resource number each pool has used, as the events tell.
  std::map<std::string, std::size_t> highest;
  /// Each pool's availability changes as its events tell: event position, to what.
  struct availability_change {
    std::size_t at;
    availability now;
  };
  std::map<std::string, std::vector<availability_change>> availability_log;
  std::set<std::string> killed;
  std::map<std::string, uint64_t> granted_by_pool, outages, unhealthy_spells;
  uint64_t granted = 0, timeouts = 0, refused_by_dependency = 0, refused_in_error = 0,
           refused_backend_down = 0, execs = 0, faults = 0;
  /// Pools whose supervisor gave up, as the events tell, and when they last did.
  std::map<std::string, bool> in_error;
  std::map<std::string, std::size_t> last_error_at;
  uint64_t degraded_through_soft_edge = 0;

  chaos_fixture() {
    event_filter all;
    all.capacity = 1u << 22;
    auto sink = spawn_recorder(sys, bus, rec, true);
    track(sink);
    REQUIRE(call<uint64_t>(bus, subscribe_atom::value, all, sink).value);
    // Its pools end with it.
    reg = spawn_registry(sys, resource_context{executor, bus});
    track(reg);
    for (int i = 0; i < 12; ++i)
      clients.push_back(client{make_sender(), {}, {}, {}, 0});
  }

  pool_config chaos_pool(std::string name, uint32_t min_idle, uint32_t max_size,
                         std::vector<dependency> deps = {}) {
    auto c = pool_cfg(min_idle, max_size);
    c.name = name;
    c.driver = backends[name] = std::make_shared<drivers::sim_driver>();
    c.depends_on = std::move(deps);
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

  /// Adds the pools through the registry as one batch and waits until they serve.
  void add_all(std::vector<pool_config> batch) {
    for (const auto& c : batch)
      graph.add(c.name, c.depends_on);
    REQUIRE_FALSE(graph.validate());
    configs = batch;
    auto added = call<std::vector<pool_actor>>(
      reg, add_atom::value, std::make_shared<const std::vector<pool_config>>(std::move(batch)));
    REQUIRE_MESSAGE(added.value, describe(added.error));
    pools = *added.value;
    for (int i = 0; i < 20 && !all_active(); ++i)
      pass(100ms);
    REQUIRE(all_active());
  }

  std::vector<pool_summary> summaries() {
    return peek<std::vector<pool_summary>>(reg, status_atom::value);
  }

  bool all_active() {
    auto all = summaries();
    return std::all_of(all.begin(), all.end(),
                       [](const pool_summary& s) { return s.state == pool_state::active; });
  }

  /// The pools whose trouble can make `pool` unavailable: upstream through hard
  /// edges only (a soft edge only degrades).
  std::set<std::string> hard_upstream(const std::string& pool) {
    std::set<std::string> out;
    for (const auto& d : graph.dependencies(pool))
      if (d.kind == dependency_kind::hard && out.insert(d.pool).second)
        for (auto& further : hard_upstream(d.pool))
          out.insert(further);
    return out;
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
      if (ev.kind == "resource_quarantined") {
        quarantined.emplace(ev.resource, seen);
      } else if (ev.kind == "resource_reinstated" || ev.kind == "resource_retired" ||
                 ev.kind == "resource_restarted") {
        // A restart starts a fresh actor, out of quarantine.
        quarantined.erase(ev.resource);
      } else if (ev.kind == "pool_transition" && (ev.to == "error" || ev.from == "error")) {
        in_error[ev.pool] = ev.to == "error";
        if (ev.to == "error")
          last_error_at[ev.pool] = seen;
      } else if (ev.kind == "pool_health" && ev.to == "unhealthy") {
        ++unhealthy_spells[ev.pool];
      } else if (ev.kind == "pool_availability") {
        auto root = nlohmann::json::parse(ev.detail)["root_cause"].get<std::string>();
        auto is = ev.to == "unavailable" ? level::unavailable
                  : ev.to == "degraded"  ? level::degraded
                                         : level::available;
        CHECK_MESSAGE(to_string(is) == ev.to, ev.to);
        availability_log[ev.pool].push_back({seen, {is, root}});
        if (ev.pool == "search" && is == level::degraded && root == "db")
          ++degraded_through_soft_edge;
      }
    }
  }

  /// The last `n` events of `pool`, one per line: what a failure report shows.
  std::string latest_events(const std::string& pool, std::size_t n) {
    std::vector<const event*> mine;
    for (const auto& ev : rec->events)
      if (ev.pool == pool)
        mine.push_back(&ev);
    std::string out;
    for (auto i = mine.size() > n ? mine.size() - n : 0; i < mine.size(); ++i)
      out += std::to_string(mine[i]->seq) + " " + mine[i]->kind + " " + mine[i]->resource + " " +
             mine[i]->from + " -> " + mine[i]->to + " " + mine[i]->detail + "\n";
    return out;
  }

  /// What `pool`'s availability was when `since` events had been recorded, and every
  /// availability it had from then until now, as its events tell.
  std::vector<availability> availability_since(const std::string& pool, std::size_t since) {
    follow_events();
    std::vector<availability> out{availability{}};
    for (const auto& change : availability_log[pool]) {
      if (change.at < since)
        out.front() = change.now;
      else
        out.push_back(change.now);
    }
    return out;
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

  /// A refusal for a dependency's trouble: its root cause is upstream of the pool
  /// asked, and the pool was unavailable for it while the request was out.
  void check_refusal(const std::string& pool, std::size_t sent_at, const caf::error& err) {
    ++refused_by_dependency;
    auto root = root_cause_of(err);
    INFO(describe(err));
    CHECK_MESSAGE(root != pool, "refused for its own trouble");
    CHECK_MESSAGE(hard_upstream(pool).count(root) == 1,
                  root << " is not upstream of " << pool << " through hard edges");
    auto seen_then = availability_since(pool, sent_at);
    CHECK_MESSAGE(
      std::count(seen_then.begin(), seen_then.end(), availability{level::unavailable, root}) > 0,
      pool << " was not unavailable by " << root << " while the acquire was out");
  }

  /// A grant comes from a pool that was, at some moment while the request was out,
  /// not cut off by a dependency.
  void check_grant(const std::string& pool, std::size_t sent_at) {
    auto seen_then = availability_since(pool, sent_at);
    CHECK_MESSAGE(std::any_of(seen_then.begin(), seen_then.end(),
                              [&](const availability& a) {
                                return a.is != level::unavailable || a.root_cause == pool;
                              }),
                  pool << " granted a lease while a hard dependency was down");
  }

  void acquire(client& c) {
    auto i = pick(pools);
    auto name = configs[i].name;
    c.acquiring = name;
    follow_events();
    c.sent_at = rec->events.size();
    auto was_in_error = in_error[name];
    send_request<lease>(
      c, pools[i],
      [this, &c, name, was_in_error](reply<lease>& r) {
        c.acquiring.clear();
        if (r.value) {
          follow_events();
          // In quarantine from before the request until now: no grant in between
          // could be right. (One ejected after its grant was taken back first.)
          auto q = quarantined.find(r.value->resource);
          CHECK_MESSAGE((q == quarantined.end() || q->second >= c.sent_at),
                        "quarantined resource handed out: " << r.value->resource);
          CHECK(r.value->pool == name);
          check_grant(name, c.sent_at);
          c.held = r.value;
          ++granted;
          ++granted_by_pool[name];
          return;
        }
        if (r.failed_with(errc::dependency_unavailable)) {
          check_refusal(name, c.sent_at, r.error);
          return;
        }
        if (r.failed_with(errc::unavailable) && mentions(r.error, "backend down: ")) {
          // A pool whose creations fail says so at once, with the driver's reason.
          CHECK_MESSAGE(mentions(r.error, "connect failed: "), name << ": " << describe(r.error));
          ++refused_backend_down;
          return;
        }
        if (r.failed_with(errc::unavailable)) {
          // Otherwise only a pool whose supervisor gave up refuses for its own trouble.
          follow_events();
          auto entered = last_error_at.count(name) > 0 && last_error_at[name] >= c.sent_at;
          CHECK_MESSAGE((was_in_error || entered), name << ": " << describe(r.error));
          ++refused_in_error;
          return;
        }
        // Other trouble of its own refuses nothing: it keeps trying until the deadline.
        CHECK_MESSAGE(r.failed_with(errc::timeout), name << ": " << describe(r.error));
        ++timeouts;
      },
      acquire_atom::value);
  }

  void exec(client& c) {
    send_request<std::string>(
      c, pool_of(*c.held), [this](reply<std::string>&) { ++execs; }, exec_atom::value, c.held->id,
      std::string{R"({"op":"get"})"});
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
    case 0:
      s = down();
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

  /// Scripts a pool's backend as a whole: its resources now and to come.
  void script_backend(const pool_config& c, const drivers::sim_script& s) {
    auto& backend = *backends.at(c.name);
    backend.set_default_script(s);
    for (const auto& id : ids_of(c))
      backend.set_script(id, s);
  }

  /// The whole backend of a pool goes down for a while (the root db half the time).
  void start_outage() {
    const auto& c = chance(0.5) ? configs[index_of("db")] : configs[pick(configs)];
    if (outage_left[c.name] > 0)
      return;
    ++outages[c.name];
    outage_left[c.name] = std::uniform_int_distribution<int>{30, 300}(rng);
    script_backend(c, down());
  }

  /// Ends the outages whose time is up.
  void tick_outages() {
    for (const auto& c : configs)
      if (auto& left = outage_left[c.name]; left > 0 && --left == 0)
        script_backend(c, {});
  }

  void inject_fault() {
    ++faults;
    if (chance(0.03)) {
      start_outage();
      return;
    }
    const auto& c = configs[pick(configs)];
    auto ids = ids_of(c);
    backends.at(c.name)->set_script(ids[pick(ids)], random_fault());
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
    std::map<std::string, pool_stats> by_name;
    for (const auto& p : pools) {
      auto s = peek<pool_stats>(p, stats_atom::value);
      CHECK_MESSAGE(s.in_use + s.idle + s.quarantined <= s.max_size,
                    s.name << ": " << s.in_use << " in use, " << s.idle << " idle, "
                           << s.quarantined << " in quarantine, max " << s.max_size);
      std::size_t holding = 0;
      for (const auto& c : clients)
        if ((c.held && c.held->pool == s.name) || c.acquiring == s.name)
          ++holding;
      CHECK_MESSAGE(s.in_use <= holding,
                    s.name << ": " << s.in_use << " leases out, clients hold " << holding);
      CHECK(s.bad_releases == 0);
      by_name.emplace(s.name, std::move(s));
    }
    // Every message has been handled: the registry, the pools and the graph agree.
    auto all = summaries();
    std::map<std::string, pool_health> health;
    for (const auto& s : all)
      health.emplace(s.name, s.health);
    auto cascaded = graph.cascade(health);
    for (const auto& s : all) {
      INFO(s.name);
      const auto& own = by_name.at(s.name);
      CHECK(s.state == own.state);
      CHECK(s.health == own.health);
      CHECK(s.avail == own.avail);
      CHECK(s.avail == cascaded.at(s.name));
      CHECK(s.reason == graph.explain(s.name, cascaded));
    }
  }

  void step() {
    tick_outages();
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
    for (const auto& c : configs) {
      outage_left[c.name] = 0;
      backends.at(c.name)->set_default_script({});
      for (const auto& id : ids_of(c, 50))
        backends.at(c.name)->set_script(id, {});
    }
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

  /// Every pool serves again: active, healthy, available, nothing in quarantine,
  /// nobody waiting, min_idle idle.
  bool recovered() {
    auto all = summaries();
    return std::all_of(all.begin(), all.end(), [&](const pool_summary& s) {
      if (s.state != pool_state::active || s.health != pool_health::healthy ||
          s.avail.is != level::available)
        return false;
      auto st = peek<pool_stats>(pools[index_of(s.name)], stats_atom::value);
      return st.quarantined == 0 && st.waiters == 0 && st.in_use == 0 && st.degraded == 0 &&
             st.idle >= st.min_idle && st.size == st.idle;
    });
  }

  std::size_t index_of(const std::string& name) {
    for (std::size_t i = 0; i < configs.size(); ++i)
      if (configs[i].name == name)
        return i;
    FAIL("no pool " << name);
    return 0;
  }
};

dependency on(std::string pool, dependency_kind kind = dependency_kind::hard) {
  return {std::move(pool), kind};
}

} // namespace

TEST_CASE_FIXTURE(chaos_fixture,
                  "chaos: random faults under load through the registry keep every invariant") {
  MESSAGE("seed " << seed << ", " << steps << " steps");
  add_all({chaos_pool("db", 2, 4), chaos_pool("cache", 1, 3, {on("db")}),
           chaos_pool("search", 1, 2, {on("db", dependency_kind::soft)}),
           chaos_pool("api", 0, 2, {on("cache"), on("search")})});
  for (std::size_t i = 0; i < steps; ++i) {
    step();
    check_invariants();
  }
  heal();
  auto healed_at = sched.clock().now();
  auto since_healed = [&] { return sched.clock().now() - healed_at; };
  wind_down_clients();
  // Back to service within a bounded number of probe intervals.
  while (since_healed() < recovery_bound * probe_interval && !recovered())
    pass(50ms);
  for (const auto& s : summaries()) {
    INFO(s.name);
    INFO("its latest events:\n" << latest_events(s.name, 40));
    CHECK(s.state == pool_state::active);
    CHECK(s.health == pool_health::healthy);
    CHECK(s.avail == availability{});
    auto st = peek<pool_stats>(pools[index_of(s.name)], stats_atom::value);
    CHECK(st.quarantined == 0);
    CHECK(st.in_use == 0); // every lease granted was released or reclaimed
    CHECK(st.acquired == granted_by_pool[s.name]);
    CHECK(st.waiters == 0);
    CHECK(st.degraded == 0);
    CHECK(st.idle >= st.min_idle);
    CHECK(st.size == st.idle);
  }
  follow_events();
  uint64_t ejections = 0, reinstated = 0, failed = 0, created = 0, restarts = 0,
           availability_events = 0;
  for (const auto& p : pools) {
    auto s = peek<pool_stats>(p, stats_atom::value);
    ejections += s.ejections;
    reinstated += s.reinstated;
    failed += s.failed;
    restarts += s.restarts;
    created += s.created;
    availability_events += availability_log[s.name].size();
  }
  MESSAGE("granted " << granted << ", refused: " << refused_by_dependency
                     << " dependency_unavailable, " << timeouts << " timeout, " << refused_in_error
                     << " in error, " << refused_backend_down << " backend down; execs " << execs
                     << ", faults " << faults << ", killed " << killed.size() << ", db outages "
                     << outages["db"] << ", db unhealthy " << unhealthy_spells["db"]
                     << " times, availability events " << availability_events
                     << ", search degraded by db " << degraded_through_soft_edge
                     << ", recovered after "
                     << std::chrono::duration<double, std::milli>{since_healed()} / probe_interval
                     << " probe intervals");
  MESSAGE("ejections " << ejections << ", reinstated " << reinstated << ", failed " << failed
                       << ", resources created " << created << ", restarts " << restarts);
  // The run did exercise what it claims to.
  CHECK(granted > steps / 40);
  CHECK(ejections > 0);
  CHECK(failed > 0);
  CHECK_FALSE(killed.empty());
  CHECK(restarts > 0);
  CHECK(outages["db"] > 0);
  CHECK(unhealthy_spells["db"] > 0);
  CHECK(refused_by_dependency > 0);
  CHECK(availability_events > 0);
  CHECK(degraded_through_soft_edge > 0);
  // The registry drains dependants before what they depend on.
  constexpr auto drain_within = 10s;
  auto pending = ask(reg, drain_atom::value, caf::timespan{drain_within});
  settle();
  auto report = take<drain_report>(pending);
  for (auto waited = 0ms; !report.answered() && waited <= drain_within; waited += 50ms) {
    pass(50ms);
    report = take<drain_report>(pending);
  }
  REQUIRE_MESSAGE(report.value, describe(report.error));
  INFO("forced: " << nlohmann::json(report.value->forced).dump());
  CHECK(report.value->forced.empty());
  CHECK(report.value->drained.size() == configs.size());
  for (const auto& c : configs)
    for (const auto& d : c.depends_on) {
      INFO(c.name << " -> " << d.pool);
      CHECK(first_event(rec->events, "pool_transition", c.name, "destroyed") <
            first_event(rec->events, "pool_transition", d.pool, "draining"));
    }
  settle();
  CHECK(rec->dropped_total == 0);
  replay_transitions(rec->events);
  for (const auto& [name, backend] : backends) {
    INFO(name);
    auto counts = backend->counters();
    CHECK(counts.opens == counts.closes);
    CHECK(backend->open_connections() == 0);
  }
}
