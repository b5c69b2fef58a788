// A pooled redis-server that dies (SHUTDOWN NOSAVE, SIGKILL) and comes back:
// calls fail fast and never hang, the pool recovers to min_idle by itself with
// none leaked, a new config moves it to a second server, and 16 threads through
// three restarts lose no lease.

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "tests/drivers/redis_test_support.hpp"

using namespace custodian;
using namespace custodian::drivers;
using namespace custodian::test;
using namespace std::literals;

namespace {

/// What one acquire and exec ended with, and how long it took.
struct attempt {
  bool ok = false;
  std::string error;
  std::chrono::milliseconds took{0};
};

attempt try_once(runtime& rt, std::chrono::milliseconds acquire_timeout) {
  attempt a;
  auto start = std::chrono::steady_clock::now();
  try {
    auto lease = rt.acquire("cache", acquire_timeout);
    lease.exec(json{{"command", {"INCR", "hits"}}}, 500ms);
    a.ok = true;
  } catch (const lease_error& e) {
    a.error = to_string(e.code()) + ": " + e.what();
  }
  a.took =
    std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  return a;
}

/// Threads that run until it goes away (a failed REQUIRE included), then joined.
struct worker_threads {
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  ~worker_threads() { join(); }
  void join() {
    stop = true;
    for (auto& t : threads)
      if (t.joinable())
        t.join();
  }
};

/// The server goes down (by `stop`), calls fail within their bounds, then it comes
/// back and the pool recovers to min_idle on its own.
template <class Stop>
void outage_and_recovery(Stop stop) {
  redis_server srv;
  runtime rt;
  rt.add_pool(redis_pool("cache", srv, 2, 4));
  REQUIRE(pool_settles_at(rt, "cache", 2));
  REQUIRE(try_once(rt, 2s).ok);

  stop(srv);
  CHECK_FALSE(srv.running());
  // Every call ends within its bound (acquire 1 s + exec 0.5 s, with margin); once
  // the pool knows the server is down, calls fail without waiting.
  std::vector<attempt> during;
  for (int i = 0; i < 10; ++i)
    during.push_back(try_once(rt, 1s));
  for (const auto& a : during) {
    CHECK_FALSE(a.ok);
    CHECK(a.took < 3s);
  }
  INFO("last error: " << during.back().error);
  CHECK(during.back().took < 500ms);
  CHECK(eventually(
    [&] {
      auto s = stats_of(rt, "cache");
      return s.idle == 0;
    },
    10s));

  auto recovery = time_of([&] {
    srv.start();
    CHECK(pool_settles_at(rt, "cache", 2));
  });
  MESSAGE("back to min_idle within "
          << recovery.count() << " ms of spawning redis-server (its readiness poll included)");
  CHECK(clients_become(srv, 2)); // none leaked: exactly min_idle
  CHECK(try_once(rt, 2s).ok);
  rt.shutdown();
  CHECK(clients_become(srv, 0));
}

} // namespace

TEST_CASE("redis: SHUTDOWN NOSAVE: calls fail fast, and the pool is back to min_idle after a "
          "restart") {
  outage_and_recovery([](redis_server& srv) { srv.shutdown_nosave(); });
}

TEST_CASE("redis: SIGKILL: calls fail fast, and the pool is back to min_idle after a restart") {
  outage_and_recovery([](redis_server& srv) { srv.kill(); });
}

TEST_CASE("redis: a new config pointing at a second server rolls the pool over to it") {
  redis_server a;
  redis_server b;
  runtime rt;
  rt.add_pool(redis_pool("cache", a, 2, 3));
  REQUIRE(pool_settles_at(rt, "cache", 2));
  REQUIRE(clients_become(a, 2));
  auto kept = rt.acquire("cache", 2s); // leased across the switch: retired when it comes back
  configure(rt, "cache", redis_pool("cache", b, 2, 3));
  CHECK(eventually([&] { return b.connected_clients() >= 1; }));
  kept.release();
  CHECK(clients_become(b, 2));
  CHECK(clients_become(a, 0));
  {
    auto lease = rt.acquire("cache", 5s);
    auto port = lease.exec(json{{"command", {"CONFIG", "GET", "port"}}}, 1s).at("reply");
    CHECK(port == json::array({"port", std::to_string(b.port())}));
  }
  CHECK(pool_settles_at(rt, "cache", 2));
  rt.shutdown();
  CHECK(clients_become(b, 0));
}

TEST_CASE("redis: 16 threads acquire and exec while the server restarts three times") {
  redis_server srv;
  runtime rt;
  constexpr uint32_t min_idle = 2;
  constexpr uint32_t max_size = 4;
  rt.add_pool(redis_pool("cache", srv, min_idle, max_size));
  REQUIRE(pool_settles_at(rt, "cache", min_idle));

  constexpr auto acquire_timeout = 1s;
  std::atomic<uint64_t> successes{0};
  std::atomic<uint64_t> failed_calls{0};
  std::mutex mtx;
  std::map<std::string, int> failures; // by the first words of the error
  std::chrono::milliseconds longest{0};
  worker_threads workers;
  for (int t = 0; t < 16; ++t)
    workers.threads.emplace_back([&] {
      while (!workers.stop) {
        auto a = try_once(rt, acquire_timeout);
        std::lock_guard<std::mutex> guard{mtx};
        longest = std::max(longest, a.took);
        if (a.ok) {
          ++successes;
        } else {
          ++failures[a.error.substr(0, a.error.find(':'))];
          ++failed_calls;
        }
        changes().bump();
      }
    });

  // Waits until `n` more calls succeeded (bounded), watching the server's count.
  std::size_t most_clients = 0;
  auto progress = [&](uint64_t n) {
    auto target = successes.load() + n;
    return eventually(
      [&] {
        most_clients = std::max(most_clients, srv.connected_clients());
        return successes.load() >= target;
      },
      redis_bound);
  };
  REQUIRE(progress(100));
  for (int round = 0; round < 3; ++round) {
    srv.kill();
    // Down long enough for every thread to meet the outage.
    auto failed_before = failed_calls.load();
    CHECK(eventually([&] { return failed_calls.load() >= failed_before + 100; }));
    srv.start();
    CHECK_MESSAGE(progress(100), "no recovery after restart " << round + 1);
  }
  workers.join();

  for (const auto& [kind, count] : failures)
    MESSAGE(kind << ": " << count);
  // Every call ended within its deadline: acquire 1 s + exec 0.5 s, with margin
  // for two shared cores.
  CHECK(longest < 4s);
  CHECK(most_clients <= max_size);
  auto s = stats_of(rt, "cache");
  CHECK(s.in_use == 0); // no lease lost
  CHECK(pool_settles_at(rt, "cache", min_idle));
  CHECK(clients_become(srv, min_idle));
  rt.shutdown();
  CHECK(clients_become(srv, 0));
}
