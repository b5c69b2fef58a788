// The node's plain parts: the log of recent events behind `GET events?since=` and
// `events/stream`, the Prometheus text of `/metrics` (a pool's gauges and
// counters, its acquire wait, probe and exec histograms) and the lines of the
// JSON log.

#include <chrono>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "drivers/driver.hpp"
#include "runtime/node/event_log.hpp"
#include "runtime/node/json_log.hpp"
#include "runtime/node/prometheus_text.hpp"

using namespace custodian;

TEST_CASE("the event log pages by seq and keeps only the newest events") {
  event_log log{3};
  for (uint64_t seq = 1; seq <= 5; ++seq)
    log.append(seq, "e" + std::to_string(seq));
  auto all = log.since(0, 100);
  CHECK(all.lines == std::vector<std::string>{"e3", "e4", "e5"});
  CHECK(all.oldest_seq == 3);
  CHECK(all.last_seq == 5);
  CHECK(log.since(3, 100).lines == std::vector<std::string>{"e4", "e5"});
  CHECK(log.since(3, 1).lines == std::vector<std::string>{"e4"});
  CHECK(log.since(5, 100).lines.empty());
}

TEST_CASE("a listener gets the kept events after its seq, then every new one, until it stops") {
  event_log log{10};
  log.append(1, "a");
  log.append(2, "b");
  std::vector<std::string> seen;
  auto id = log.listen(1, [&](const std::string& line) { seen.push_back(line); });
  log.append(3, "c");
  log.unlisten(id);
  log.append(4, "d");
  CHECK(seen == std::vector<std::string>{"b", "c"});
}

namespace {

bool has_line(const std::string& text, const std::string& line) {
  return text.find(line + "\n") != std::string::npos;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("metrics are Prometheus text with gauges, counters, a cumulative histogram and health") {
  pool_metrics m;
  m.stats.name = "orders-db";
  m.stats.size = 4;
  m.stats.in_use = 1;
  m.stats.timeouts = 2;
  m.stats.ejections = 1;
  m.stats.acquire_wait_histogram.assign(acquire_wait_bounds_us.size() + 1, 0);
  m.stats.acquire_wait_histogram[0] = 5; // at once
  m.stats.acquire_wait_histogram[3] = 1; // up to 100 µs
  m.stats.acquire_wait_total_us = 80;
  m.resources = {{"orders-db-1", "idle", health_status::healthy, false},
                 {"orders-db-2", "quarantined", health_status::unhealthy, false}};
  event_bus_stats bus;
  bus.published = 10;
  bus.dropped = 3;
  auto text = prometheus_text({m}, bus);
  CHECK(has_line(text, "# TYPE custodian_pool_size gauge"));
  CHECK(has_line(text, R"(custodian_pool_size{pool="orders-db"} 4)"));
  CHECK(has_line(text, R"(custodian_pool_in_use{pool="orders-db"} 1)"));
  CHECK(has_line(text, "# TYPE custodian_pool_timeouts_total counter"));
  CHECK(has_line(text, R"(custodian_pool_timeouts_total{pool="orders-db"} 2)"));
  CHECK(has_line(text, R"(custodian_pool_quarantined_total{pool="orders-db"} 1)"));
  CHECK(has_line(text, "# TYPE custodian_pool_acquire_wait_seconds histogram"));
  CHECK(
    has_line(text, R"(custodian_pool_acquire_wait_seconds_bucket{pool="orders-db",le="1e-06"} 5)"));
  CHECK(has_line(text,
                 R"(custodian_pool_acquire_wait_seconds_bucket{pool="orders-db",le="0.0001"} 6)"));
  CHECK(
    has_line(text, R"(custodian_pool_acquire_wait_seconds_bucket{pool="orders-db",le="+Inf"} 6)"));
  CHECK(has_line(text, R"(custodian_pool_acquire_wait_seconds_count{pool="orders-db"} 6)"));
  CHECK(has_line(text, R"(custodian_pool_acquire_wait_seconds_sum{pool="orders-db"} 8e-05)"));
  CHECK(has_line(
    text,
    R"(custodian_resource_health{pool="orders-db",resource="orders-db-2",status="unhealthy"} 1)"));
  CHECK(has_line(text, "custodian_events_dropped_total 3"));
}

TEST_CASE("metrics count a pool's probes by result and execs by outcome, with latency histograms") {
  pool_metrics m;
  m.stats.name = "orders-db";
  m.stats.probes.outcomes.assign(drivers::call_outcomes, 0);
  m.stats.probes.outcomes[drivers::outcome_ok] = 7;
  m.stats.probes.outcomes[drivers::outcome_degraded] = 1;
  m.stats.probes.outcomes[drivers::call_outcome_of(drivers::driver_errc::timeout)] = 2;
  m.stats.probes.latency_histogram.assign(drivers::call_latency_bounds_us.size() + 1, 0);
  m.stats.probes.latency_histogram[0] = 6;          // up to 100 µs
  m.stats.probes.latency_histogram[3] = 2;          // up to 1 ms
  m.stats.probes.latency_histogram.back() = 2;      // past 5 s
  m.stats.probes.latency_total_us = 12'345'678'901; // not rounded to 6 digits
  m.stats.execs.outcomes.assign(drivers::call_outcomes, 0);
  m.stats.execs.outcomes[drivers::call_outcome_of(drivers::driver_errc::rejected)] = 3;
  m.stats.execs.latency_histogram.assign(drivers::call_latency_bounds_us.size() + 1, 0);
  m.stats.execs.latency_histogram[1] = 3; // up to 250 µs
  m.stats.execs.latency_total_us = 600;
  auto text = prometheus_text({m}, {});

  CHECK(has_line(text, "# TYPE custodian_health_probes_total counter"));
  CHECK(has_line(text, R"(custodian_health_probes_total{pool="orders-db",result="ok"} 7)"));
  CHECK(has_line(text, R"(custodian_health_probes_total{pool="orders-db",result="degraded"} 1)"));
  CHECK(has_line(text, R"(custodian_health_probes_total{pool="orders-db",result="timeout"} 2)"));
  // Every result is a series from the start, 0 included.
  for (std::size_t i = 0; i < drivers::call_outcomes; ++i)
    CHECK(contains(text, R"(custodian_health_probes_total{pool="orders-db",result=")" +
                           drivers::call_outcome_name(i) + "\"}"));
  CHECK(has_line(text, R"(custodian_health_probes_total{pool="orders-db",result="auth"} 0)"));
  CHECK(has_line(text, "# TYPE custodian_health_probe_seconds histogram"));
  CHECK(has_line(text, R"(custodian_health_probe_seconds_bucket{pool="orders-db",le="0.0001"} 6)"));
  CHECK(has_line(text, R"(custodian_health_probe_seconds_bucket{pool="orders-db",le="0.001"} 8)"));
  CHECK(has_line(text, R"(custodian_health_probe_seconds_bucket{pool="orders-db",le="5"} 8)"));
  CHECK(has_line(text, R"(custodian_health_probe_seconds_bucket{pool="orders-db",le="+Inf"} 10)"));
  CHECK(has_line(text, R"(custodian_health_probe_seconds_sum{pool="orders-db"} 12345.678901)"));
  CHECK(has_line(text, R"(custodian_health_probe_seconds_count{pool="orders-db"} 10)"));

  CHECK(has_line(text, "# TYPE custodian_exec_total counter"));
  CHECK(has_line(text, R"(custodian_exec_total{pool="orders-db",outcome="rejected"} 3)"));
  CHECK(has_line(text, R"(custodian_exec_total{pool="orders-db",outcome="ok"} 0)"));
  CHECK_FALSE(contains(text, R"(outcome="degraded")")); // an exec never passes degraded
  CHECK(has_line(text, "# TYPE custodian_exec_seconds histogram"));
  CHECK(has_line(text, R"(custodian_exec_seconds_bucket{pool="orders-db",le="0.00025"} 3)"));
  CHECK(has_line(text, R"(custodian_exec_seconds_bucket{pool="orders-db",le="+Inf"} 3)"));
  CHECK(has_line(text, R"(custodian_exec_seconds_sum{pool="orders-db"} 0.0006)"));
  CHECK(has_line(text, R"(custodian_exec_seconds_count{pool="orders-db"} 3)"));
}

TEST_CASE("a pool that has counted nothing yet still has every bucket and outcome at 0") {
  pool_metrics m;
  m.stats.name = "fresh";
  auto text = prometheus_text({m}, {});
  CHECK(has_line(text, R"(custodian_pool_acquire_wait_seconds_bucket{pool="fresh",le="+Inf"} 0)"));
  CHECK(has_line(text, R"(custodian_health_probe_seconds_bucket{pool="fresh",le="+Inf"} 0)"));
  CHECK(has_line(text, R"(custodian_exec_seconds_bucket{pool="fresh",le="+Inf"} 0)"));
  CHECK(has_line(text, R"(custodian_exec_seconds_sum{pool="fresh"} 0)"));
  CHECK(has_line(text, R"(custodian_exec_total{pool="fresh",outcome="broken"} 0)"));
}

TEST_CASE("label values are escaped") {
  pool_metrics m;
  m.stats.name = "a\"b\\c";
  auto text = prometheus_text({m}, {});
  CHECK(has_line(text, R"(custodian_pool_size{pool="a\"b\\c"} 0)"));
}

TEST_CASE("a JSON log line has the seq, kind, pool and resource of the event it is about") {
  using nlohmann::json;
  auto at = std::chrono::system_clock::time_point{std::chrono::microseconds{1'700'000'000'123'456}};
  auto line = [&](std::string_view msg) {
    return json::parse(json_log_line(at, "info", "custodiand", msg));
  };
  auto plain = line("node demo serving 4 pools");
  CHECK(plain == json{{"ts_us", 1'700'000'000'123'456},
                      {"level", "info"},
                      {"logger", "custodiand"},
                      {"msg", "node demo serving 4 pools"}});
  {
    std::string pool = "orders-db";
    log_fields fields{42, "health", pool, "orders-db-3"};
    log_context about{fields};
    auto ev = line("health orders-db-3 healthy -> unhealthy");
    CHECK(ev["seq"] == 42);
    CHECK(ev["kind"] == "health");
    CHECK(ev["pool"] == "orders-db");
    CHECK(ev["resource"] == "orders-db-3");
    CHECK(ev["msg"] == "health orders-db-3 healthy -> unhealthy");
    {
      // A pool's event has no resource; the inner context wins while it lives.
      log_fields pool_only{43, "pool_transition", pool, ""};
      log_context inner{pool_only};
      auto p = line("pool_transition orders-db active -> draining");
      CHECK(p["seq"] == 43);
      CHECK(p["kind"] == "pool_transition");
      CHECK_FALSE(p.contains("resource"));
    }
    CHECK(line("again")["seq"] == 42);
  }
  CHECK(line("after") == json{{"ts_us", 1'700'000'000'123'456},
                              {"level", "info"},
                              {"logger", "custodiand"},
                              {"msg", "after"}});
  // Not UTF-8: replaced, the line still parses.
  CHECK(line("bad \xff byte")["msg"] == "bad \xef\xbf\xbd byte");
}
