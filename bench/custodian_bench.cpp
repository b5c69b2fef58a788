// custodian-bench: Custodian's figures next to CAF's own on the same machine, in
// one run. One line per workload:
//   peer=custodian workload=NAME ops_per_sec=N p50_us=N p99_us=N [more=N ...]
//
// usage: custodian-bench [--workload NAME]... [--threads N]
// Workloads: caf-roundtrip, resource-cycle, events, idle-cpu (default: all).

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <future>
#include <iostream>
#include <memory>
#include <string>
#include <sys/resource.h>
#include <thread>
#include <vector>

#include <caf/all.hpp>

#include "drivers/sim/sim_driver.hpp"
#include "runtime/runtime.hpp"

using namespace custodian;
using clock_type = std::chrono::steady_clock;

namespace {

/// Latencies of one run and its wall time.
struct samples {
  std::vector<int64_t> ns;
  clock_type::duration elapsed{};
};

int64_t percentile_us(std::vector<int64_t>& ns, double p) {
  if (ns.empty())
    return 0;
  auto k = static_cast<std::size_t>(p * static_cast<double>(ns.size() - 1));
  std::nth_element(ns.begin(), ns.begin() + static_cast<std::ptrdiff_t>(k), ns.end());
  return ns[k] / 1'000;
}

double per_second(std::size_t n, clock_type::duration d) {
  return static_cast<double>(n) / std::chrono::duration<double>(d).count();
}

void report(const std::string& workload, samples s, const std::string& extra = {}) {
  auto ops = per_second(s.ns.size(), s.elapsed);
  auto p50 = percentile_us(s.ns, 0.50);
  auto p99 = percentile_us(s.ns, 0.99);
  std::printf("peer=custodian workload=%s ops_per_sec=%.0f p50_us=%lld p99_us=%lld%s\n",
              workload.c_str(), ops, static_cast<long long>(p50), static_cast<long long>(p99),
              extra.c_str());
  std::fflush(stdout);
}

/// Runs `n` sequential operations from an event-based client: `op(self, next)`
/// issues one operation and calls `next()` when it completes.
template <class Op>
samples sequential(caf::actor_system& sys, std::size_t n, Op op) {
  std::promise<samples> done;
  auto result = done.get_future();
  sys.spawn([n, op, &done](caf::event_based_actor* self) {
    auto s = std::make_shared<samples>();
    s->ns.reserve(n);
    auto start = clock_type::now();
    auto step = std::make_shared<std::function<void()>>();
    *step = [=, &done] {
      auto t0 = clock_type::now();
      op(self, [=, &done] {
        s->ns.push_back((clock_type::now() - t0).count());
        if (s->ns.size() < n) {
          (*step)();
          return;
        }
        s->elapsed = clock_type::now() - start;
        done.set_value(std::move(*s));
        *step = nullptr; // break the cycle step -> lambda -> step
        self->quit();
      });
    };
    (*step)();
  });
  return result.get();
}

/// CAF's own ceiling here: a sequential request/response round trip.
samples caf_roundtrip(caf::actor_system& sys) {
  auto server = sys.spawn([]() -> caf::behavior { return {[](int x) { return x; }}; });
  auto s = sequential(sys, 300'000, [server](caf::event_based_actor* self, auto next) {
    self->request(server, caf::infinite, 1).then([next](int) { next(); });
  });
  caf::anon_send_exit(server, caf::exit_reason::user_shutdown);
  return s;
}

/// acquire + release on one resource actor: two round trips, two transitions and
/// two published events per pair.
void resource_cycle(runtime& rt, double caf_pairs_per_sec) {
  auto sim = std::make_shared<drivers::sim_driver>();
  resource_config c;
  c.id = "bench-1";
  c.pool = "bench";
  c.driver = sim;
  auto res = rt.add_resource(c);
  {
    caf::scoped_actor self{rt.system()};
    self->request(res, std::chrono::seconds{10}, initialize_atom::value)
      .receive([](lifecycle_state) {}, [](caf::error&) {});
  }
  auto s = sequential(rt.system(), 200'000, [res](caf::event_based_actor* self, auto next) {
    self->request(res, caf::infinite, acquire_atom::value).then([=](lifecycle_state) {
      self->request(res, caf::infinite, release_atom::value).then([=](lifecycle_state) { next(); });
    });
  });
  auto pairs = per_second(s.ns.size(), s.elapsed);
  char extra[64];
  // A pair is two round trips: compare with half the raw round-trip rate.
  std::snprintf(extra, sizeof(extra), " ratio_to_caf=%.2f",
                caf_pairs_per_sec > 0 ? pairs / (caf_pairs_per_sec / 2) : 0.0);
  report("resource-cycle", std::move(s), extra);
}

/// Events from one publisher through the bus to one subscriber that acks every
/// batch; published in chunks, each flushed, so mailboxes stay bounded.
void events(runtime& rt) {
  constexpr std::size_t total = 1'000'000;
  constexpr std::size_t chunk = 10'000;
  auto received = std::make_shared<std::atomic<std::size_t>>(0);
  rt.on_events(event_filter{{"bench"}, "", "", 1u << 16, 4096},
               [received](const event_batch& batch) { *received += batch.events.size(); });
  auto bus = rt.events();
  auto s = sequential(rt.system(), total / chunk, [bus](caf::event_based_actor* self, auto next) {
    event ev{0, caf::make_timestamp(), "bench", "bench", "bench-1", "idle", "in_use", "{}"};
    for (std::size_t i = 0; i < chunk; ++i)
      self->send(bus, publish_atom::value, ev);
    self->request(bus, caf::infinite, flush_atom::value).then([next](caf::ok_atom) { next(); });
  });
  auto per_event = per_second(total, s.elapsed);
  std::printf("peer=custodian workload=events ops_per_sec=%.0f p50_us=0 p99_us=0 delivered=%zu "
              "chunk_flush_p99_us=%lld\n",
              per_event, received->load(), static_cast<long long>(percentile_us(s.ns, 0.99)));
  std::fflush(stdout);
}

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto tv = [](timeval t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return tv(ru.ru_utime) + tv(ru.ru_stime);
}

/// CPU burnt by a runtime holding idle, initialized resources.
void idle_cpu(runtime& rt) {
  constexpr int resources = 100;
  auto sim = std::make_shared<drivers::sim_driver>();
  {
    caf::scoped_actor self{rt.system()};
    for (int i = 0; i < resources; ++i) {
      resource_config c;
      c.id = "idle-" + std::to_string(i);
      c.pool = "idle";
      c.driver = sim;
      self->request(rt.add_resource(c), std::chrono::seconds{10}, initialize_atom::value)
        .receive([](lifecycle_state) {}, [](caf::error&) {});
    }
  }
  auto cpu0 = cpu_seconds();
  auto t0 = clock_type::now();
  std::this_thread::sleep_for(std::chrono::seconds{3}); // measuring idleness itself
  auto wall = std::chrono::duration<double>(clock_type::now() - t0).count();
  auto share = (cpu_seconds() - cpu0) / wall * 100.0;
  std::printf("peer=custodian workload=idle-cpu ops_per_sec=0 p50_us=0 p99_us=0 resources=%d "
              "cpu_percent_of_core=%.2f\n",
              resources, share);
  std::fflush(stdout);
}

} // namespace

int main(int argc, char** argv) {
  std::vector<std::string> chosen;
  runtime_config cfg;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--workload" && i + 1 < argc) {
      chosen.emplace_back(argv[++i]);
    } else if (arg == "--threads" && i + 1 < argc) {
      cfg.scheduler_threads = static_cast<std::size_t>(std::stoul(argv[++i]));
    } else {
      std::cerr
        << "usage: custodian-bench [--workload caf-roundtrip|resource-cycle|events|idle-cpu]..."
           " [--threads N]\n";
      return 2;
    }
  }
  auto wants = [&](const char* name) {
    return chosen.empty() || std::find(chosen.begin(), chosen.end(), name) != chosen.end();
  };
  runtime rt{cfg};
  double caf_rate = 0;
  if (wants("caf-roundtrip") || wants("resource-cycle")) {
    // The raw round trip is the yardstick of resource-cycle: always measured first.
    auto s = caf_roundtrip(rt.system());
    caf_rate = per_second(s.ns.size(), s.elapsed);
    if (wants("caf-roundtrip"))
      report("caf-roundtrip", std::move(s));
  }
  if (wants("resource-cycle"))
    resource_cycle(rt, caf_rate);
  if (wants("events"))
    events(rt);
  if (wants("idle-cpu"))
    idle_cpu(rt);
  rt.shutdown();
}
