// A pool with health checks, on the deterministic scheduler: unhealthy idle
// resources are retired and replaced, a leased one when it comes back, and
// degraded ones are handed out only when no healthy one is idle; its stats count
// the probes and execs of its connections.

#include <numeric>

#include "runtime/node/prometheus_text.hpp"
#include "tests/support/pool_fixture.hpp"

using namespace custodian;
using namespace custodian::test;
using namespace std::chrono_literals;

namespace {

void failing_pings(drivers::sim_driver& sim, const std::string& resource) {
  drivers::sim_script s;
  s.ping_pattern = "-";
  sim.set_script(resource, s);
}

/// What the pool's health checker would send.
void report(pool_fixture& f, const pool_actor& p, std::string resource, health_status status) {
  caf::anon_send(caf::actor_cast<health_watcher_actor>(p),
                 health_report{std::move(resource), status, 0, 0, ""});
  f.run();
}

} // namespace

TEST_CASE_FIXTURE(pool_fixture, "an unhealthy idle resource is retired and replaced") {
  failing_pings(*sim, "orders-1");
  auto p = make_pool(with_health(pool_cfg(2, 4), 2));
  advance(1'000ms);
  settle();
  CHECK(stats(p).unhealthy == 0); // one failure is below the threshold
  advance(1'000ms);
  settle();
  auto s = stats(p);
  CHECK(s.unhealthy == 1);
  CHECK(s.idle == 2);
  CHECK(s.created == 3);
  // The survivors are what acquire hands out.
  auto a = acquire(p);
  auto b = acquire(p);
  CHECK(a.granted.resource != "orders-1");
  CHECK(b.granted.resource != "orders-1");
}

TEST_CASE_FIXTURE(pool_fixture, "a resource found unhealthy while leased goes when it comes back") {
  failing_pings(*sim, "orders-1");
  auto p = make_pool(with_health(pool_cfg(1, 1), 1));
  // The probe starts while the resource is idle; the pool leases it meanwhile.
  advance(1'000ms);
  auto holder = make_sender();
  auto pending = ask_from(holder, p, acquire_atom::value);
  run();
  auto granted = take<lease>(pending);
  REQUIRE(granted.value);
  settle(); // the probe fails now
  auto s = stats(p);
  CHECK(s.in_use == 1);
  CHECK(s.unhealthy == 0); // never taken from its holder
  CHECK_FALSE(release(p, granted.value->id));
  settle();
  s = stats(p);
  CHECK(s.unhealthy == 1);
  CHECK(s.idle == 1);
  CHECK(acquire(p).granted.resource == "orders-2");
}

TEST_CASE_FIXTURE(pool_fixture,
                  "degraded resources are handed out only when no healthy one is idle") {
  auto p = make_pool(with_health(pool_cfg(2, 2), 3));
  // LIFO would hand out orders-2 first; degraded, it comes last.
  report(*this, p, "orders-2", health_status::degraded);
  auto first = acquire(p);
  CHECK(first.granted.resource == "orders-1");
  auto second = acquire(p);
  CHECK(second.granted.resource == "orders-2");
  CHECK_FALSE(release(p, first.granted.id));
  CHECK_FALSE(release(p, second.granted.id));
  report(*this, p, "orders-2", health_status::healthy);
  CHECK(acquire(p).granted.resource == "orders-2"); // LIFO again
}

TEST_CASE_FIXTURE(pool_fixture,
                  "on_acquire checks a resource unless it was good within the window") {
  auto cfg = with_health(pool_cfg(1, 1), 3);
  cfg.health->policy.interval = 60'000ms; // no periodic probe during the test
  cfg.health->on_acquire = true;
  cfg.health->bypass_window = 500ms;
  auto p = make_pool(cfg);
  auto fresh = acquire(p); // created just now: no check
  CHECK(sim->counters().pings == 0);
  CHECK_FALSE(release(p, fresh.granted.id));
  advance(600ms);
  auto checked = acquire(p);
  CHECK(sim->counters().pings == 1);
  CHECK(checked.granted.resource == "orders-1");
  CHECK_FALSE(release(p, checked.granted.id));
  // A resource that fails its check is replaced, and the requester served.
  failing_pings(*sim, "orders-1");
  advance(600ms);
  auto replaced = acquire(p);
  CHECK(replaced.granted.resource == "orders-2");
  auto s = stats(p);
  CHECK(s.validation_failures == 1);
  CHECK(s.timeouts == 0);
}

namespace {

uint64_t outcome(const call_stats& calls, drivers::driver_errc code) {
  return calls.outcomes.at(drivers::call_outcome_of(code));
}

uint64_t sum(const std::vector<uint64_t>& counts) {
  return std::accumulate(counts.begin(), counts.end(), uint64_t{0});
}

/// Calls counted in the buckets whose bound is above `us`.
uint64_t slower_than(const call_stats& calls, uint64_t us) {
  uint64_t n = 0;
  for (std::size_t i = 0; i < calls.latency_histogram.size(); ++i)
    if (i == drivers::call_latency_bounds_us.size() || drivers::call_latency_bounds_us[i] > us)
      n += calls.latency_histogram[i];
  return n;
}

} // namespace

TEST_CASE_FIXTURE(
  pool_fixture,
  "pool: its stats count every probe by result and every exec by outcome and latency") {
  drivers::sim_script probes;
  probes.ping_pattern = "++-";
  probes.check_pattern = "+~+";
  sim->set_script("orders-1", probes);
  auto p = make_pool(with_health(pool_cfg(1, 1), 5));
  for (int i = 0; i < 3; ++i) {
    advance(1'000ms);
    settle();
  }
  auto s = stats(p);
  CHECK(s.probes.outcomes.at(drivers::outcome_ok) == 1);
  CHECK(s.probes.outcomes.at(drivers::outcome_degraded) == 1);
  CHECK(outcome(s.probes, drivers::driver_errc::broken) == 1);
  CHECK(sum(s.probes.outcomes) == sim->counters().pings);
  CHECK(sum(s.probes.latency_histogram) == sim->counters().pings);

  // Execs: one passes, one is rejected, one passes after a 30 ms hang, one times out.
  drivers::sim_script execs;
  execs.exec_pattern = "+-";
  execs.exec_error = drivers::driver_errc::rejected;
  sim->set_script("orders-1", execs);
  auto h = acquire(p);
  REQUIRE(h.granted.resource == "orders-1");
  CHECK(exec_on(*this, p, h.granted.id).value);
  CHECK(exec_on(*this, p, h.granted.id).failed_with(errc::driver_error));
  drivers::sim_script slow;
  slow.hang[static_cast<std::size_t>(drivers::sim_op::exec)] = 30ms;
  sim->set_script("orders-1", slow);
  CHECK(exec_on(*this, p, h.granted.id).value);
  drivers::sim_script times_out;
  times_out.exec_pattern = "-";
  times_out.exec_error = drivers::driver_errc::timeout;
  sim->set_script("orders-1", times_out);
  CHECK(exec_on(*this, p, h.granted.id).failed_with(errc::driver_error));

  s = stats(p);
  CHECK(s.execs.outcomes.at(drivers::outcome_ok) == 2);
  CHECK(outcome(s.execs, drivers::driver_errc::rejected) == 1);
  CHECK(outcome(s.execs, drivers::driver_errc::timeout) == 1);
  CHECK(sum(s.execs.outcomes) == 4);
  CHECK(sum(s.execs.latency_histogram) == 4);
  // The hung exec lies past the 25 ms bound, whatever else the machine was doing.
  CHECK(slower_than(s.execs, 25'000) >= 1);
  CHECK(s.execs.latency_total_us >= 30'000);

  // The same figures reach /metrics.
  auto text = prometheus_text({pool_metrics{s, {}}}, {});
  CHECK(text.find("custodian_exec_total{pool=\"orders\",outcome=\"timeout\"} 1\n") !=
        std::string::npos);
  CHECK(text.find("custodian_health_probes_total{pool=\"orders\",result=\"degraded\"} 1\n") !=
        std::string::npos);
  CHECK(text.find("custodian_exec_seconds_count{pool=\"orders\"} 4\n") != std::string::npos);
}
