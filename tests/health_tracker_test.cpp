// Health from probe results, without actors: thresholds flip the status, slow
// passes are degraded, and probe times are spread by jitter within their bounds.

#include <random>
#include <set>

#include <doctest/doctest.h>

#include "actors/health_tracker.hpp"

using namespace custodian;
using namespace std::chrono_literals;

namespace {

health_policy thresholds(uint32_t healthy, uint32_t unhealthy) {
  health_policy p;
  p.healthy_threshold = healthy;
  p.unhealthy_threshold = unhealthy;
  p.degraded_latency = 50ms;
  return p;
}

} // namespace

TEST_CASE("consecutive results flip the status at their thresholds") {
  health_tracker t{thresholds(2, 3)};
  CHECK(t.status() == health_status::unknown);
  CHECK(t.record(true, 1ms));
  CHECK(t.status() == health_status::healthy);
  CHECK_FALSE(t.record(false, 0us));
  CHECK_FALSE(t.record(false, 0us));
  CHECK(t.status() == health_status::healthy);
  CHECK(t.consecutive_failures() == 2);
  CHECK(t.record(false, 0us));
  CHECK(t.status() == health_status::unhealthy);
  // One pass is not enough to come back; the second is.
  CHECK_FALSE(t.record(true, 1ms));
  CHECK(t.status() == health_status::unhealthy);
  CHECK(t.consecutive_failures() == 0);
  CHECK(t.record(true, 1ms));
  CHECK(t.status() == health_status::healthy);
}

TEST_CASE("a probe that found its connection closed is unhealthy at once, whatever the threshold") {
  health_tracker t{thresholds(2, 3)};
  CHECK(t.record(true, 1ms));
  CHECK(t.record_closed());
  CHECK(t.status() == health_status::unhealthy);
  CHECK(t.consecutive_failures() == 3);
  CHECK_FALSE(t.record_closed()); // no change
  CHECK(t.consecutive_failures() == 4);
  // It comes back as any unhealthy resource does (a new connection, in practice).
  CHECK_FALSE(t.record(true, 1ms));
  CHECK(t.record(true, 1ms));
  CHECK(t.status() == health_status::healthy);
}

TEST_CASE("a failure between passes resets the count of failures") {
  health_tracker t{thresholds(1, 2)};
  t.record(true, 1ms);
  t.record(false, 0us);
  t.record(true, 1ms);
  t.record(false, 0us);
  CHECK(t.status() == health_status::healthy);
  CHECK(t.record(false, 0us));
  CHECK(t.status() == health_status::unhealthy);
}

TEST_CASE("a pass slower than degraded_latency is degraded, a fast one healthy again") {
  health_tracker t{thresholds(2, 3)};
  CHECK(t.record(true, 80ms));
  CHECK(t.status() == health_status::degraded);
  CHECK_FALSE(t.record(true, 60ms));
  CHECK(t.record(true, 10ms));
  CHECK(t.status() == health_status::healthy);
  health_tracker latency_ignored{health_policy{}};
  latency_ignored.record(true, 10s);
  CHECK(latency_ignored.status() == health_status::healthy);
}

TEST_CASE("probe delays spread within plus or minus the jitter") {
  health_policy p;
  p.interval = 1'000ms;
  p.jitter = 0.2;
  CHECK(probe_delay(p, 0.0) == 800ms);
  CHECK(probe_delay(p, 0.5) == 1'000ms);
  CHECK(probe_delay(p, 0.999) >= 1'199ms);
  std::mt19937_64 rng{7};
  std::uniform_real_distribution<double> draw{0.0, 1.0};
  std::set<int64_t> seen;
  for (int i = 0; i < 1'000; ++i) {
    auto d = probe_delay(p, draw(rng));
    CHECK(d >= 800ms);
    CHECK(d <= 1'200ms);
    seen.insert(d.count());
  }
  CHECK(seen.size() > 100); // spread out, not in lockstep
  p.jitter = 0.0;
  CHECK(probe_delay(p, 0.9) == 1'000ms);
}

TEST_CASE("health statuses read back from their names") {
  for (auto s : {health_status::unknown, health_status::healthy, health_status::degraded,
                 health_status::unhealthy})
    CHECK(health_status_from_string(to_string(s)) == s);
  CHECK_FALSE(health_status_from_string("sick"));
}
