// Pools of postgres connections while the server misbehaves: backends it
// terminates, a stop (immediate) and a restart, a failover to a second server by a
// new config, and 16 threads through three restarts. Written to the contract:
// every acquire ends with a lease or a typed error within its deadline, the pool
// recovers to min_idle by itself within a bounded time, and the server's own
// count of connections shows none leaked.

#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "tests/drivers/postgres_test_support.hpp"

using namespace custodian;
using namespace custodian::drivers;
using namespace custodian::test;
using namespace std::chrono_literals;

namespace {

/// The server pid of the leased connection.
std::string backend_pid(scoped_lease& lease) {
  return lease.exec(json{{"sql", "SELECT pg_backend_pid()::text"}}, 2s)["rows"][0][0];
}

void configure(runtime& rt, const std::string& pool, pool_config cfg) {
  caf::scoped_actor self{rt.system()};
  bool applied = false;
  self
    ->request(rt.pool(pool), pg_bound, configure_atom::value,
              std::make_shared<const pool_config>(std::move(cfg)))
    .receive([&](caf::ok_atom) { applied = true; },
             [&](caf::error& err) { FAIL("configure failed: " << describe(err)); });
  CHECK(applied);
}

} // namespace

TEST_CASE("postgres: a terminated backend fails its next exec with a connection error and is "
          "replaced, idle terminated ones are never handed out") {
  pg_server server;
  runtime rt;
  rt.add_pool(pg_pool("orders", server, 2, 3));
  REQUIRE(pool_settles_at(rt, "orders", 2));
  {
    auto lease = rt.acquire("orders", 2s);
    auto pid = backend_pid(lease);
    server.admin_query("SELECT pg_terminate_backend($1::int)", {pid});
    CHECK(eventually([&] { return server.backend_count_for("orders") <= 2; }, 5s));
    std::string message;
    CHECK(lease_error_of([&] { backend_pid(lease); }, &message) == errc::driver_error);
    CHECK(message.find("terminating connection due to administrator command") != std::string::npos);
    CHECK_FALSE(lease); // the resource failed: the lease ended
  }
  CHECK(backends_become(server, "orders", 2));
  REQUIRE(pool_settles_at(rt, "orders", 2));
  // Every idle one terminated: once they are gone (they said why before they
  // went), none of them is handed out; the pool makes new ones.
  auto pids = server.admin_query(
    "SELECT string_agg(pid::text, ',') FROM pg_stat_activity WHERE application_name = $1",
    {"orders"});
  CHECK(server.terminate_backends(pg_server::role) == 2);
  CHECK(eventually(
    [&] {
      return server
               .admin_query("SELECT count(*) FROM pg_stat_activity WHERE pid = "
                            "ANY(string_to_array($1, ',')::int[])",
                            {pids.at(0).at(0)})
               .at(0)
               .at(0) == "0";
    },
    5s));
  for (int i = 0; i < 4; ++i) {
    auto lease = rt.acquire("orders", 5s);
    CHECK_NOTHROW(backend_pid(lease)); // never a dead connection
  }
  CHECK(backends_become(server, "orders", 2));
  auto s = stats_of(rt, "orders");
  CHECK(s.failed >= 1);
  MESSAGE("dead_on_acquire=" << s.dead_on_acquire << " unhealthy=" << s.unhealthy);
  rt.shutdown();
  CHECK(backends_become(server, "orders", 0));
}

TEST_CASE("postgres: a stopped server fails acquires and execs within their deadlines, after a "
          "restart the pool is back to min_idle by itself") {
  pg_server server;
  runtime rt;
  rt.add_pool(pg_pool("orders", server, 2, 4));
  REQUIRE(pool_settles_at(rt, "orders", 2));
  auto held = rt.acquire("orders", 2s);
  server.stop_immediate();
  // A lease held across the stop: its exec fails within its own deadline.
  std::string message;
  auto took = time_of([&] {
    CHECK(lease_error_of(
            [&] {
              held.exec(json{{"sql", "SELECT 1"}}, 1s);
            },
            &message) != errc::bad_request);
  });
  MESSAGE(message);
  CHECK(took < 1s + 2s);
  // Acquires while it is down: a typed error, never a hang past the deadline.
  for (int i = 0; i < 5; ++i) {
    std::string why;
    auto t = time_of([&] { lease_error_of([&] { rt.acquire("orders", 1500ms); }, &why); });
    CHECK(t < 1500ms + 2s);
    CHECK_FALSE(why.empty());
    if (i == 4)
      MESSAGE("acquire while down (" << t.count() << " ms): " << why);
  }
  server.start();
  // Recovers by itself, within a bounded number of probe intervals (250 ms each).
  auto recovered = time_of([&] { CHECK(backends_become(server, "orders", 2, 15s)); });
  MESSAGE("back to min_idle on the server " << recovered.count() << " ms after the restart");
  CHECK(pool_settles_at(rt, "orders", 2, 15s));
  {
    auto lease = rt.acquire("orders", 5s);
    CHECK(lease.exec(json{{"sql", "SELECT 1"}}, 2s)["rows"][0][0] == 1);
  }
  CHECK(backends_become(server, "orders", 2)); // none leaked
  rt.shutdown();
  CHECK(backends_become(server, "orders", 0));
}

TEST_CASE("postgres: a new config pointing at a second server rolls the pool over to it") {
  pg_server a;
  pg_server b;
  runtime rt;
  rt.add_pool(pg_pool("orders", a, 2, 3));
  REQUIRE(pool_settles_at(rt, "orders", 2));
  REQUIRE(backends_become(a, "orders", 2));
  auto kept = rt.acquire("orders", 2s); // leased across the switch: retired when it comes back
  configure(rt, "orders", pg_pool("orders", b, 2, 3));
  CHECK(eventually([&] { return b.backend_count_for("orders") >= 1; }, 15s));
  kept.release();
  CHECK(backends_become(b, "orders", 2, 15s));
  CHECK(backends_become(a, "orders", 0, 15s));
  {
    auto lease = rt.acquire("orders", 5s);
    CHECK(lease.exec(json{{"sql", "SHOW port"}}, 2s)["rows"][0][0] == std::to_string(b.port()));
  }
  CHECK(pool_settles_at(rt, "orders", 2));
  rt.shutdown();
  CHECK(backends_become(b, "orders", 0));
}

TEST_CASE("postgres: 16 threads through three restarts: every acquire ends with a lease or a "
          "typed error in time, never more than max_size connections, min_idle at the end") {
  pg_server server;
  runtime rt;
  constexpr uint32_t min_idle = 2;
  constexpr uint32_t max_size = 6;
  rt.add_pool(pg_pool("orders", server, min_idle, max_size));
  REQUIRE(pool_settles_at(rt, "orders", min_idle));
  constexpr auto acquire_timeout = 1500ms;
  // Whatever the pool and the server do, an acquire returns by its deadline plus this.
  constexpr auto late = 2s;

  std::atomic<bool> stop{false};
  std::atomic<int> leases{0}, errors{0}, late_answers{0}, untyped{0};
  std::mutex seen_mtx;
  std::set<std::string> error_kinds;
  backend_sampler sampler{server, "orders"};
  std::vector<std::thread> workers;
  for (int t = 0; t < 16; ++t)
    workers.emplace_back([&] {
      while (!stop) {
        auto start = std::chrono::steady_clock::now();
        try {
          auto lease = rt.acquire("orders", acquire_timeout);
          ++leases;
          try {
            lease.exec(json{{"sql", "SELECT 1"}}, 1s);
          } catch (const lease_error&) {
            // the server went away under the lease: it ended, the resource is replaced
          }
        } catch (const lease_error& e) {
          ++errors;
          std::lock_guard<std::mutex> guard{seen_mtx};
          error_kinds.insert(to_string(e.code()));
        } catch (...) {
          ++untyped;
        }
        if (std::chrono::steady_clock::now() - start > acquire_timeout + late)
          ++late_answers;
      }
    });
  // The pool serves before each restart and after the last one.
  auto serves = [&] {
    auto before = leases.load();
    return eventually([&] { return leases.load() > before + 50; }, 20s);
  };
  for (int round = 0; round < 3; ++round) {
    CHECK(serves());
    server.restart();
  }
  CHECK(serves());
  stop = true;
  for (auto& w : workers)
    w.join();
  auto most = sampler.stop();
  {
    std::lock_guard<std::mutex> guard{seen_mtx};
    std::string kinds;
    for (const auto& k : error_kinds)
      kinds += k + " ";
    MESSAGE("leases=" << leases.load() << " errors=" << errors.load() << " (" << kinds
                      << ") most=" << most);
  }
  CHECK(untyped == 0);
  CHECK(late_answers == 0);
  CHECK(most <= int(max_size));
  auto s = stats_of(rt, "orders");
  CHECK(s.in_use == 0); // no lease lost
  CHECK(backends_become(server, "orders", int(min_idle)));
  CHECK(pool_settles_at(rt, "orders", min_idle));
  rt.shutdown();
  CHECK(backends_become(server, "orders", 0));
}
