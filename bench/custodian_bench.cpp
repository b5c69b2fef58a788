// custodian-bench: Custodian's figures next to CAF's own on the same machine, in
// one run. One line per workload:
//   peer=custodian workload=NAME ops_per_sec=N p50_us=N p99_us=N [more=N ...]
//
// usage: custodian-bench [--workload NAME]... [--threads N] [--scheduler PROFILE]
// Workloads: caf-roundtrip, resource-cycle, W1, W2, W3, W1-blocking, events,
// shutdown, rss, idle-cpu (default: all). Profiles: wake_on_work (default),
// caf_polling.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <future>
#include <iostream>
#include <memory>
#include <sched.h>
#include <string>
#include <sys/resource.h>
#include <thread>
#include <vector>

#include <caf/all.hpp>

#include "drivers/sim/sim_driver.hpp"
#include "runtime/runtime.hpp"

#include "bench/report.hpp"

using namespace custodian;
using namespace custodian::bench;

namespace {

/// Starts an event-based client running `n` sequential operations: `op(self,
/// next)` issues one and calls `next()` when it completes. Every
/// `sample_every`-th operation is timed (timing each adds two clock reads to it).
template <class Op>
std::future<samples> start_client(caf::actor_system& sys, std::size_t n, std::size_t sample_every,
                                  Op op) {
  auto done = std::make_shared<std::promise<samples>>();
  auto result = done->get_future();
  sys.spawn([n, sample_every, op, done](caf::event_based_actor* self) {
    auto s = std::make_shared<samples>();
    s->ns.reserve(n / sample_every + 1);
    auto start = clock_type::now();
    auto left = std::make_shared<std::size_t>(n);
    auto step = std::make_shared<std::function<void()>>();
    *step = [=] {
      bool timed = *left % sample_every == 0;
      auto t0 = timed ? clock_type::now() : clock_type::time_point{};
      op(self, [=] {
        if (timed)
          s->ns.push_back((clock_type::now() - t0).count());
        if (--*left > 0) {
          (*step)();
          return;
        }
        s->elapsed = clock_type::now() - start;
        done->set_value(std::move(*s));
        *step = nullptr; // break the cycle step -> lambda -> step
        self->quit();
      });
    };
    (*step)();
  });
  return result;
}

/// `n` sequential operations from one client, each timed.
template <class Op>
samples sequential(caf::actor_system& sys, std::size_t n, Op op) {
  return start_client(sys, n, 1, std::move(op)).get();
}

/// Two clients running `each` operations at once, every 64th timed; the wall
/// time runs until both finish.
template <class Op>
samples contended(caf::actor_system& sys, std::size_t each, Op op) {
  auto start = clock_type::now();
  auto a = start_client(sys, each, 64, op);
  auto b = start_client(sys, each, 64, op);
  auto all = a.get();
  auto second = b.get();
  all.elapsed = clock_type::now() - start;
  all.ns.insert(all.ns.end(), second.ns.begin(), second.ns.end());
  return all;
}

/// CAF's own ceiling here: a sequential request/response round trip.
samples caf_roundtrip(caf::actor_system& sys, std::size_t n = 300'000) {
  auto server = sys.spawn([]() -> caf::behavior { return {[](int x) { return x; }}; });
  auto s = sequential(sys, n, [server](caf::event_based_actor* self, auto next) {
    self->request(server, caf::infinite, 1).then([next](int) { next(); });
  });
  caf::anon_send_exit(server, caf::exit_reason::user_shutdown);
  return s;
}

/// CAF's own ceiling for W2's shape: two clients, each pair a request and a
/// one-way message to one trivial actor.
samples caf_contended(caf::actor_system& sys, std::size_t each) {
  using back_atom = caf::atom_constant<caf::atom("back")>;
  auto server = sys.spawn([]() -> caf::behavior {
    return {[](int x) { return x; }, [](back_atom, int) {}};
  });
  auto s = contended(sys, each, [server](caf::event_based_actor* self, auto next) {
    self->request(server, caf::infinite, 1).then([=](int x) {
      self->send(server, back_atom::value, x);
      next();
    });
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

// --- pools --------------------------------------------------------------------

/// The pool's stats; all zero if it does not answer. The scoped_actor lives only
/// for this call: none may be alive when the runtime shuts down.
pool_stats stats_of(runtime& rt, const pool_actor& pool) {
  caf::scoped_actor self{rt.system()};
  pool_stats s;
  self->request(pool, std::chrono::seconds{30}, stats_atom::value)
    .receive([&](pool_stats& x) { s = std::move(x); }, [](caf::error&) {});
  return s;
}

/// A pool of `size` warm resources (min_idle = max_size) on the sim driver;
/// returns once every resource is idle. A pool that does not get there within a
/// minute ends the run with a message rather than hanging it.
pool_actor warm_pool(runtime& rt, const std::string& name, uint32_t size) {
  pool_config c;
  c.name = name;
  c.driver = std::make_shared<drivers::sim_driver>();
  c.min_idle = size;
  c.max_size = size;
  c.acquire_timeout = std::chrono::seconds{30};
  auto pool = rt.add_pool(c);
  auto deadline = clock_type::now() + std::chrono::minutes{1};
  for (;;) {
    auto s = stats_of(rt, pool);
    if (s.idle == size)
      return pool;
    if (clock_type::now() > deadline) {
      std::fprintf(stderr, "custodian-bench: pool %s has %llu of %u resources idle after 1 min\n",
                   name.c_str(), static_cast<unsigned long long>(s.idle), size);
      std::_Exit(1); // the runtime cannot shut down cleanly around a stuck pool
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{1}); // outside any timing
  }
}

/// One acquire + one-way return pair on `pool`: the hot path of a pool.
auto pool_pair(const pool_actor& pool) {
  return [pool](caf::event_based_actor* self, auto next) {
    self->request(pool, caf::infinite, acquire_atom::value).then([=](const lease& l) {
      self->send(pool, return_atom::value, l.id);
      next();
    });
  };
}

/// Runs `n` operations of a workload in rounds that alternate with CAF's raw
/// round trip, so that a VM whose speed drifts (the raw figure swings by 2× within
/// minutes here) slows both alike. `round(k)` runs k operations. Returns the
/// workload's samples over all rounds and the median of the rounds' ratios.
template <class Round>
std::pair<samples, double> against_caf(caf::actor_system& sys, std::size_t n, Round round) {
  constexpr std::size_t rounds = 5;
  samples all;
  std::vector<double> ratios;
  for (std::size_t r = 0; r < rounds; ++r) {
    auto raw = caf_roundtrip(sys, 100'000);
    auto s = round(n / rounds);
    ratios.push_back(per_second(n / rounds, s.elapsed) / per_second(raw.ns.size(), raw.elapsed));
    all.elapsed += s.elapsed;
    all.ns.insert(all.ns.end(), s.ns.begin(), s.ns.end());
  }
  std::sort(ratios.begin(), ratios.end());
  return {std::move(all), ratios[rounds / 2]};
}

void report_against_caf(const std::string& workload, std::pair<samples, double> run,
                        std::size_t n) {
  char extra[64];
  std::snprintf(extra, sizeof(extra), " ratio_to_caf=%.2f", run.second);
  report(workload, std::move(run.first), extra, n);
}

/// W1: one client, 1,000,000 sequential pairs on a warm pool of 16; every 64th
/// acquire timed (timing each would add two clock reads to every pair). A first,
/// full pass is discarded, as the peers discard theirs.
void w1(runtime& rt) {
  constexpr std::size_t pairs = 1'000'000;
  auto pool = warm_pool(rt, "w1", 16);
  auto round = [&](std::size_t k) {
    return start_client(rt.system(), k, 64, pool_pair(pool)).get();
  };
  round(pairs);
  report_against_caf("W1", against_caf(rt.system(), pairs, round), pairs);
}

/// W2: two clients contending on one pool of 16, 500,000 pairs each; every 64th
/// acquire timed; pairs/s over the wall time until both finish; a first, full
/// pass discarded. Compared with CAF's own figure for the same message shape,
/// measured just before.
void w2(runtime& rt) {
  constexpr std::size_t each = 500'000;
  auto ceiling = caf_contended(rt.system(), each);
  auto ceiling_rate = per_second(2 * each, ceiling.elapsed);
  report("caf-contended", std::move(ceiling), {}, 2 * each);
  auto pool = warm_pool(rt, "w2", 16);
  contended(rt.system(), each, pool_pair(pool));
  auto s = contended(rt.system(), each, pool_pair(pool));
  char extra[64];
  std::snprintf(extra, sizeof(extra), " ratio_to_caf_contended=%.2f",
                per_second(2 * each, s.elapsed) / ceiling_rate);
  report("W2", std::move(s), extra, 2 * each);
}

/// Holds a resource for `d` of wall time, yielding between clock checks (as the
/// peers do: a sleep would not be equal across runtimes).
void hold(clock_type::duration d) {
  for (auto t0 = clock_type::now(); clock_type::now() - t0 < d;)
    sched_yield();
}

/// `clients` threads share `total` pairs through the blocking facade, each pair
/// held for `held`; every acquire timed.
samples facade_clients(runtime& rt, const std::string& pool, int clients, int total,
                       clock_type::duration held) {
  std::vector<std::vector<int64_t>> waits(static_cast<std::size_t>(clients));
  std::vector<std::thread> threads;
  auto start = clock_type::now();
  for (int c = 0; c < clients; ++c)
    threads.emplace_back([&, c] {
      auto quota = total / clients + (c < total % clients ? 1 : 0);
      auto& mine = waits[static_cast<std::size_t>(c)];
      mine.reserve(static_cast<std::size_t>(quota));
      for (int i = 0; i < quota; ++i) {
        auto t0 = clock_type::now();
        auto lease = rt.acquire(pool, std::chrono::seconds{30});
        mine.push_back((clock_type::now() - t0).count());
        if (held.count() > 0)
          hold(held);
      } // the lease returns here
    });
  for (auto& t : threads)
    t.join();
  samples s;
  s.elapsed = clock_type::now() - start;
  for (auto& w : waits)
    s.ns.insert(s.ns.end(), w.begin(), w.end());
  return s;
}

/// W1 through the blocking facade: one thread, sequential pairs, pool of 16.
void w1_blocking(runtime& rt) {
  constexpr std::size_t pairs = 300'000;
  warm_pool(rt, "w1b", 16);
  auto round = [&](std::size_t k) { return facade_clients(rt, "w1b", 1, static_cast<int>(k), {}); };
  round(100'000);
  report_against_caf("W1-blocking", against_caf(rt.system(), pairs, round), pairs);
}

/// W3: pool of 4, 64 threads, 20,000 pairs held 100 µs each. A fair FIFO wait is
/// about (64 - 4) / 4 × 100 µs = 1,500 µs for every acquire; max_us shows
/// starvation, which p99 alone can hide.
void w3(runtime& rt) {
  auto pool = warm_pool(rt, "w3", 4);
  constexpr auto held = std::chrono::microseconds{100};
  facade_clients(rt, "w3", 64, 5'000, held);
  auto before = stats_of(rt, pool);
  auto s = facade_clients(rt, "w3", 64, 20'000, held);
  auto after = stats_of(rt, pool);
  auto max_us = *std::max_element(s.ns.begin(), s.ns.end()) / 1'000;
  char extra[160];
  std::snprintf(extra, sizeof(extra),
                " max_us=%lld ideal_wait_us=1500 timeouts=%llu in_use_after=%llu",
                static_cast<long long>(max_us),
                static_cast<unsigned long long>(after.timeouts - before.timeouts),
                static_cast<unsigned long long>(after.in_use));
  report("W3", std::move(s), extra);
}

/// Shutdown of a runtime holding 1,000 warm resources in one pool.
void shutdown_time(const runtime_config& cfg) {
  runtime rt{cfg};
  warm_pool(rt, "shutdown", 1'000);
  auto t0 = clock_type::now();
  auto r = rt.shutdown();
  auto ms = std::chrono::duration<double, std::milli>(clock_type::now() - t0).count();
  std::printf("peer=custodian workload=shutdown ops_per_sec=0 p50_us=0 p99_us=0 resources=1000 "
              "shutdown_ms=%.1f drained=%llu forced=%llu\n",
              ms, static_cast<unsigned long long>(r.drained),
              static_cast<unsigned long long>(r.forced));
  std::fflush(stdout);
}

uint64_t rss_bytes() {
  std::ifstream statm{"/proc/self/statm"};
  uint64_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

/// Resident memory per idle resource: 100 pools of 1,000 warm resources.
void rss(const runtime_config& cfg) {
  constexpr uint32_t pools = 100, per_pool = 1'000;
  runtime rt{cfg};
  auto before = rss_bytes();
  auto t0 = clock_type::now();
  for (uint32_t p = 0; p < pools; ++p)
    warm_pool(rt, "rss-" + std::to_string(p), per_pool);
  auto warm_s = std::chrono::duration<double>(clock_type::now() - t0).count();
  auto after = rss_bytes();
  auto total = static_cast<uint64_t>(pools) * per_pool;
  auto t1 = clock_type::now();
  auto r = rt.shutdown();
  auto down_s = std::chrono::duration<double>(clock_type::now() - t1).count();
  std::printf("peer=custodian workload=rss ops_per_sec=0 p50_us=0 p99_us=0 resources=%llu "
              "rss_mib=%.1f bytes_per_resource=%llu warm_s=%.2f shutdown_s=%.2f forced=%llu\n",
              static_cast<unsigned long long>(total), (after - before) / 1048576.0,
              static_cast<unsigned long long>((after - before) / total), warm_s, down_s,
              static_cast<unsigned long long>(r.forced));
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
    } else if (arg == "--scheduler" && i + 1 < argc && argv[i + 1] == std::string{"caf_polling"}) {
      cfg.scheduler = scheduler_profile::caf_polling;
      ++i;
    } else if (arg == "--scheduler" && i + 1 < argc && argv[i + 1] == std::string{"wake_on_work"}) {
      cfg.scheduler = scheduler_profile::wake_on_work;
      ++i;
    } else {
      std::cerr << "usage: custodian-bench [--workload caf-roundtrip|resource-cycle|W1|W2|W3|"
                   "W1-blocking|events|shutdown|rss|idle-cpu]... [--threads N]"
                   " [--scheduler wake_on_work|caf_polling]\n";
      return 2;
    }
  }
  auto wants = [&](const char* name) {
    return chosen.empty() || std::find(chosen.begin(), chosen.end(), name) != chosen.end();
  };
  {
    runtime rt{cfg};
    double caf_rate = 0;
    if (wants("caf-roundtrip") || wants("resource-cycle")) {
      // The raw round trip is resource-cycle's yardstick: measured first.
      auto s = caf_roundtrip(rt.system());
      caf_rate = per_second(s.ns.size(), s.elapsed);
      if (wants("caf-roundtrip"))
        report("caf-roundtrip", std::move(s));
    }
    if (wants("resource-cycle"))
      resource_cycle(rt, caf_rate);
    if (wants("W1"))
      w1(rt);
    if (wants("W2"))
      w2(rt);
    if (wants("W1-blocking"))
      w1_blocking(rt);
    if (wants("W3"))
      w3(rt);
    if (wants("events"))
      events(rt);
    if (wants("idle-cpu"))
      idle_cpu(rt);
    rt.shutdown();
  }
  // Each in a runtime of its own, so that only it is measured.
  if (wants("shutdown"))
    shutdown_time(cfg);
  if (wants("rss"))
    rss(cfg);
}
