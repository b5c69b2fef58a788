// driver-bench: what pooling through Custodian costs next to the client library
// used bare, on loopback, against servers this program starts itself (127.0.0.1,
// free ports, temporary directories under $CUSTODIAN_TEST_TMPDIR, else /tmp):
//   pg-select1   SELECT 1: one libpq connection per thread (bare) against
//                rt.acquire -> lease.exec -> release (custodian) and the same lease
//                running SELECT 1 on the native handle, bounded by a deadline
//                (drivers/postgres/pg_round_trip.hpp; custodian-native)
//   redis-ping   PING: one hiredis context per thread against the same three paths
//   pg-recovery  a pool of min_idle 2 whose server restarts (1 s down): the time
//                from the server's "ready" log line until every connection the
//                pool holds is alive on the server and at least 2 are idle; with
//                no traffic, and with one client every 20 ms
// Each path runs a 1 s warm-up, then --rounds rounds (default 3) of --seconds /
// --rounds (default 3 s in all), interleaved with rounds of the bare path so that
// the VM's drift spreads over both; each pooled path is compared with its own
// bare rounds. One line per path and thread count:
//   peer=bare|custodian|custodian-native workload=W threads=N ops_per_sec=N
//   p50_us=N p99_us=N [ratio_to_bare=R] cpu_us_per_op=N errors=N
// cpu_us_per_op is the CPU this process (client threads and the runtime's, not
// the server) spent per operation: what the pooled path costs, whatever the load.
//
// usage: driver-bench [--workload pg-select1|redis-ping|pg-recovery]... [--threads N]...
//                     [--seconds S] [--rounds R] [--runs N (pg-recovery's restarts)]
//                     [--peer bare|custodian|custodian-native]... (only those paths)
//                     [--scheduler-threads N] [--scheduler caf_polling] (the runtime's)

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <hiredis/hiredis.h>
#include <iostream>
#include <libpq-fe.h>
#include <memory>
#include <optional>
#include <string>
#include <sys/resource.h>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "drivers/postgres/pg_round_trip.hpp"
#include "drivers/postgres/postgres_driver.hpp"
#include "drivers/redis/redis_driver.hpp"
#include "runtime/runtime.hpp"
#include "tests/support/pg_server.hpp"
#include "tests/support/redis_server.hpp"

#include "bench/bench_pool.hpp"
#include "bench/fixed_rate_clients.hpp"
#include "bench/pg_log.hpp"
#include "bench/report.hpp"
#include "bench/wall_clock.hpp"

using namespace custodian;
using namespace custodian::bench;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

struct options {
  std::vector<int> threads{1, 2};
  std::chrono::milliseconds seconds{3000};
  int rounds = 3;
  /// Restarts measured by pg-recovery, for each traffic.
  int runs = 3;
  /// The paths to run (bare, custodian, custodian-native); empty: all.
  std::vector<std::string> peers;
  /// The runtime's CAF scheduler threads and profile (runtime_config's defaults).
  runtime_config runtime;
};

/// One way of running the operation: `op(thread)` returns false when it failed.
struct path {
  std::string peer;
  std::function<bool(int)> op;
  samples measured;
  std::size_t errors = 0;
  /// CPU seconds this process (client threads and the runtime's) spent measuring.
  double cpu_s = 0;
};

/// CPU time of every thread of this process so far (the servers are others).
double process_cpu_s() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  auto seconds = [](timeval t) { return double(t.tv_sec) + double(t.tv_usec) / 1e6; };
  return seconds(ru.ru_utime) + seconds(ru.ru_stime);
}

/// `op(thread)` on `n` threads at once for `d`, every call timed.
samples run_threads(int n, clock_type::duration d, const std::function<bool(int)>& op,
                    std::size_t& errors) {
  std::vector<std::vector<int64_t>> per(static_cast<std::size_t>(n));
  std::atomic<std::size_t> failed{0};
  auto start = clock_type::now();
  auto until = start + d;
  std::vector<std::thread> threads;
  for (int t = 0; t < n; ++t)
    threads.emplace_back([&, t] {
      auto& ns = per[static_cast<std::size_t>(t)];
      for (auto now = clock_type::now(); now < until;) {
        bool ok = op(t);
        auto end = clock_type::now();
        ns.push_back((end - now).count());
        if (!ok)
          ++failed;
        now = end;
      }
    });
  for (auto& t : threads)
    t.join();
  samples s;
  s.elapsed = clock_type::now() - start;
  for (auto& ns : per)
    s.ns.insert(s.ns.end(), ns.begin(), ns.end());
  errors += failed;
  return s;
}

/// `o.rounds` rounds of every path in `set`, interleaved so that the VM's drift
/// spreads over all of them.
void measure(const std::vector<path*>& set, int n, const options& o) {
  auto slice = o.seconds / o.rounds;
  for (int r = 0; r < o.rounds; ++r)
    for (auto* p : set) {
      auto cpu0 = process_cpu_s();
      auto s = run_threads(n, slice, p->op, p->errors);
      p->cpu_s += process_cpu_s() - cpu0;
      p->measured.elapsed += s.elapsed;
      p->measured.ns.insert(p->measured.ns.end(), s.ns.begin(), s.ns.end());
    }
}

double ops_per_second(const path& p) {
  return per_second(p.measured.ns.size(), p.measured.elapsed);
}

void print(const std::string& workload, int n, path& p, const path* bare) {
  auto p50 = percentile_us(p.measured.ns, 0.50);
  auto p99 = percentile_us(p.measured.ns, 0.99);
  char ratio[32] = "";
  if (bare)
    std::snprintf(ratio, sizeof ratio, " ratio_to_bare=%.2f",
                  ops_per_second(p) / ops_per_second(*bare));
  auto cpu_us_per_op = p.cpu_s * 1e6 / double(std::max<std::size_t>(1, p.measured.ns.size()));
  std::printf("peer=%s workload=%s threads=%d ops_per_sec=%.0f p50_us=%lld p99_us=%lld%s "
              "cpu_us_per_op=%.1f errors=%zu\n",
              p.peer.c_str(), workload.c_str(), n, ops_per_second(p), static_cast<long long>(p50),
              static_cast<long long>(p99), ratio, cpu_us_per_op, p.errors);
  std::fflush(stdout);
}

/// Warms every path, then measures each against the first (bare) in rounds of
/// their own: a native path resets its connection after every use, and that
/// work (blocking workers, messages to the pool) slows the path measured right
/// after it. The bare line is its figure beside the first path. Only the paths
/// `o.peers` names run when it names any (to profile one alone); the ratio needs
/// the bare path.
void compare(const std::string& workload, int n, std::vector<path>& paths, const options& o) {
  if (!o.peers.empty())
    std::erase_if(paths, [&](const path& p) {
      return std::find(o.peers.begin(), o.peers.end(), p.peer) == o.peers.end();
    });
  if (paths.empty())
    return;
  std::size_t ignored = 0;
  for (auto& p : paths)
    run_threads(n, 1s, p.op, ignored);
  auto& first = paths.front();
  bool has_bare = first.peer == "bare";
  if (paths.size() == 1 || !has_bare) {
    std::vector<path*> all;
    for (auto& p : paths)
      all.push_back(&p);
    measure(all, n, o);
    for (auto& p : paths)
      print(workload, n, p, nullptr);
    return;
  }
  for (std::size_t i = 1; i < paths.size(); ++i) {
    path bare{first.peer, first.op, {}, 0, 0};
    measure({&bare, &paths[i]}, n, o);
    if (i == 1)
      print(workload, n, bare, nullptr);
    print(workload, n, paths[i], &bare);
  }
}

/// A pooled path: acquire from `pool`, `use` the lease, release at scope exit; a
/// lease error is a failed operation.
path pooled(std::string peer, runtime& rt, std::string pool,
            std::function<bool(scoped_lease&)> use) {
  return {std::move(peer),
          [&rt, pool = std::move(pool), use = std::move(use)](int) {
            try {
              auto lease = rt.acquire(pool, 3000ms);
              return use(lease);
            } catch (const lease_error&) {
              return false;
            }
          },
          {},
          0};
}

/// The pooled path an application writes: `request` through lease.exec.
path pooled_exec(runtime& rt, std::string pool, json request) {
  return pooled("custodian", rt, std::move(pool), [request = std::move(request)](scoped_lease& l) {
    l.exec(request, 2000ms);
    return true;
  });
}

// --- PostgreSQL -------------------------------------------------------------------

drivers::pgconn_handle bare_pg(const test::pg_server& server) {
  auto port = std::to_string(server.port());
  const char* keys[] = {"host", "port", "dbname", "user", "password", "connect_timeout", nullptr};
  const char* values[] = {"127.0.0.1",
                          port.c_str(),
                          test::pg_server::database,
                          test::pg_server::role,
                          server.password().c_str(),
                          "2",
                          nullptr};
  drivers::pgconn_handle conn{PQconnectdbParams(keys, values, 0)};
  if (PQstatus(conn.get()) != CONNECTION_OK)
    throw std::runtime_error("bare libpq connect: " + std::string{PQerrorMessage(conn.get())});
  return conn;
}

bool select_one(PGconn* conn) {
  PGresult* r = PQexec(conn, "SELECT 1");
  bool ok = PQresultStatus(r) == PGRES_TUPLES_OK;
  PQclear(r);
  return ok;
}

/// SELECT 1 on a leased connection's native handle, bounded as an application's
/// own call must be (PQexec would wait for ever); a failure reports the connection.
bool select_one_native(scoped_lease& lease) {
  auto* conn = lease.connection_as<drivers::postgres_connection>().native();
  auto r = drivers::pg::round_trip(conn, "SELECT 1", nullptr, drivers::deadline{2000ms});
  bool ok = r && !r.value().empty() && PQresultStatus(r.value().back().get()) == PGRES_TUPLES_OK;
  if (!ok)
    lease.fail("driver-bench: SELECT 1 on the native handle failed");
  return ok;
}

void pg_select1(const options& o) {
  test::pg_server server;
  for (int n : o.threads) {
    std::vector<drivers::pgconn_handle> bare;
    for (int t = 0; t < n; ++t)
      bare.push_back(bare_pg(server));
    runtime rt{o.runtime};
    auto cfg = server.driver_config();
    rt.add_pool(bench_pool("bench-pg", drivers::postgres_driver::from_config(cfg), n, n));
    wait_for_idle(rt, "bench-pg", static_cast<uint64_t>(n));
    std::vector<path> paths{
      {"bare", [&](int t) { return select_one(bare[static_cast<std::size_t>(t)].get()); }, {}, 0},
      pooled_exec(rt, "bench-pg", json{{"sql", "SELECT 1"}}),
      pooled("custodian-native", rt, "bench-pg", select_one_native)};
    compare("pg-select1", n, paths, o);
    rt.shutdown();
  }
}

/// Whether every connection the pool holds is alive on the server and at least
/// `min_idle` are idle: read from both sides, since the pool reports no event for it.
bool back_to_min_idle(test::pg_server& server, runtime& rt, const std::string& name,
                      uint64_t min_idle) {
  auto s = stats_of(rt, name);
  return s.idle >= min_idle && static_cast<uint64_t>(server.backend_count_for(name)) == s.size;
}

/// One restart of the server under a warm pool (1 s down), with one client every
/// 20 ms or none: ms from the server's "ready" until the pool is back to
/// min_idle, or none within 30 s.
std::optional<double> recovery_ms(test::pg_server& server, const json& cfg, bool traffic,
                                  const options& o) {
  const std::string name = cfg.at("application_name");
  runtime rt{o.runtime};
  rt.add_pool(bench_pool(name, drivers::postgres_driver::from_config(cfg), 2, 4));
  wait_for_idle(rt, name, 2);
  std::unique_ptr<fixed_rate_clients> client;
  if (traffic)
    client = std::make_unique<fixed_rate_clients>(1, 20, [&rt, &name] {
      try {
        rt.acquire(name, 3000ms).exec(json{{"sql", "SELECT 1"}}, 2000ms);
        return op_outcome{};
      } catch (const lease_error& e) {
        return op_outcome{false, "acquire", e.what()};
      }
    });
  server.stop_immediate();
  std::this_thread::sleep_for(1s); // the outage itself
  auto offset = log_size(server.log_path());
  server.start();
  auto ready =
    first_stamp(server.log_path(), offset, "database system is ready to accept connections");
  if (!ready)
    throw std::runtime_error("the server log has no ready line");
  std::optional<double> recovered;
  for (double until = wall_ms() + 30'000; !recovered && wall_ms() < until;) {
    if (back_to_min_idle(server, rt, name, 2))
      recovered = wall_ms() - *ready;
    else
      std::this_thread::sleep_for(10ms); // the server's and the pool's pace, polled
  }
  if (client)
    client->stop();
  rt.shutdown();
  return recovered;
}

void pg_recovery(const options& o) {
  test::pg_server server;
  auto cfg = server.driver_config();
  cfg["application_name"] = "recovery"; // the server counts the pool's connections by it
  for (bool traffic : {false, true}) {
    const char* label = traffic ? "20ms" : "none";
    std::vector<double> recovered;
    for (int run = 1; run <= o.runs; ++run) {
      auto ms = recovery_ms(server, cfg, traffic, o);
      std::printf("peer=custodian workload=pg-recovery traffic=%s run=%d down_ms=1000 "
                  "health_interval_ms=5000 recovery_ms=%s\n",
                  label, run, ms ? std::to_string(std::lround(*ms)).c_str() : "na");
      std::fflush(stdout);
      if (ms)
        recovered.push_back(*ms);
    }
    std::sort(recovered.begin(), recovered.end());
    if (recovered.empty())
      continue;
    std::printf("peer=custodian workload=pg-recovery traffic=%s runs=%d recovered=%zu "
                "recovery_ms=%ld/%ld/%ld\n",
                label, o.runs, recovered.size(), std::lround(recovered.front()),
                std::lround(recovered[(recovered.size() + 1) / 2 - 1]),
                std::lround(recovered.back()));
    std::fflush(stdout);
  }
}

// --- Redis ------------------------------------------------------------------------

bool ping(redisContext* c) {
  auto* reply = static_cast<redisReply*>(redisCommand(c, "PING"));
  bool ok = reply && reply->type == REDIS_REPLY_STATUS;
  freeReplyObject(reply);
  return ok;
}

drivers::context_ptr bare_redis(test::redis_server& server) {
  timeval bound{2, 0};
  drivers::context_ptr c{redisConnectWithTimeout("127.0.0.1", server.port(), bound)};
  if (!c || c->err)
    throw std::runtime_error(std::string{"bare hiredis connect: "} +
                             (c ? c->errstr : "out of memory"));
  redisSetTimeout(c.get(), bound);
  auto* reply =
    static_cast<redisReply*>(redisCommand(c.get(), "AUTH %s", server.password().c_str()));
  bool ok = reply && reply->type == REDIS_REPLY_STATUS;
  freeReplyObject(reply);
  if (!ok)
    throw std::runtime_error("bare hiredis AUTH failed");
  return c;
}

void redis_ping(const options& o) {
  test::redis_server server;
  auto password_file = server.dir() + "/password";
  test::write_file(password_file, server.password());
  for (int n : o.threads) {
    std::vector<drivers::context_ptr> bare;
    for (int t = 0; t < n; ++t)
      bare.push_back(bare_redis(server));
    runtime rt{o.runtime};
    auto driver = drivers::redis_driver::from_config(
      json{{"host", "127.0.0.1"}, {"port", server.port()}, {"password_file", password_file}});
    rt.add_pool(bench_pool("bench-redis", driver, n, n));
    wait_for_idle(rt, "bench-redis", static_cast<uint64_t>(n));
    std::vector<path> paths{
      {"bare", [&](int t) { return ping(bare[static_cast<std::size_t>(t)].get()); }, {}, 0},
      pooled_exec(rt, "bench-redis", json{{"command", {"PING"}}}),
      pooled("custodian-native", rt, "bench-redis", [](scoped_lease& lease) {
        // The native context's reads and writes are bounded (the connect timeout).
        bool ok = ping(lease.connection_as<drivers::redis_connection>().native());
        if (!ok)
          lease.fail("driver-bench: PING on the native handle failed");
        return ok;
      })};
    compare("redis-ping", n, paths, o);
    rt.shutdown();
  }
}

int usage() {
  std::cerr << "usage: driver-bench [--workload pg-select1|redis-ping|pg-recovery]... "
               "[--threads N]... [--seconds S] [--rounds R] [--runs N] [--peer NAME]... "
               "[--scheduler-threads N] [--scheduler caf_polling]\n";
  return 2;
}

} // namespace

int main(int argc, char** argv) {
  options o;
  std::vector<std::string> workloads;
  std::vector<int> threads;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--workload" && i + 1 < argc)
      workloads.emplace_back(argv[++i]);
    else if (arg == "--threads" && i + 1 < argc)
      threads.push_back(std::stoi(argv[++i]));
    else if (arg == "--seconds" && i + 1 < argc)
      o.seconds = std::chrono::milliseconds{std::lround(std::stod(argv[++i]) * 1000)};
    else if (arg == "--rounds" && i + 1 < argc)
      o.rounds = std::max(1, std::stoi(argv[++i]));
    else if (arg == "--scheduler-threads" && i + 1 < argc)
      o.runtime.scheduler_threads = static_cast<std::size_t>(std::stoul(argv[++i]));
    else if (arg == "--scheduler" && i + 1 < argc && argv[i + 1] == std::string{"caf_polling"}) {
      o.runtime.scheduler = scheduler_profile::caf_polling;
      ++i;
    } else if (arg == "--peer" && i + 1 < argc)
      o.peers.emplace_back(argv[++i]);
    else if (arg == "--runs" && i + 1 < argc)
      o.runs = std::max(1, std::stoi(argv[++i]));
    else
      return usage();
  }
  if (!threads.empty())
    o.threads = threads;
  if (workloads.empty())
    workloads = {"pg-select1", "redis-ping", "pg-recovery"};
  for (const auto& w : workloads) {
    if (w == "pg-select1")
      pg_select1(o);
    else if (w == "redis-ping")
      redis_ping(o);
    else if (w == "pg-recovery")
      pg_recovery(o);
    else
      return usage();
  }
}
