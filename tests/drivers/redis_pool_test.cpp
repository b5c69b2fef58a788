// Pools of redis connections through custodian::runtime against a real
// redis-server: pooled commands within min_idle..max_size server connections,
// state a holder leaves behind reset before the next one, and failed
// connections replaced, never handed out again.

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "messages/event_json.hpp"
#include "runtime/config/config.hpp"
#include "runtime/config/pool_from_json.hpp"
#include "tests/drivers/redis_test_support.hpp"

using namespace custodian;
using namespace custodian::drivers;
using namespace custodian::test;
using namespace std::literals;

namespace {

/// A field of CLIENT INFO ("db", "multi", "sub", "id") for the leased connection.
std::string client_info(scoped_lease& lease, const std::string& field) {
  auto info = lease.exec(json{{"command", {"CLIENT", "INFO"}}}, 1s).at("reply").get<std::string>();
  auto at = info.find(field + "=");
  REQUIRE(at != std::string::npos);
  REQUIRE((at == 0 || info[at - 1] == ' '));
  auto start = at + field.size() + 1;
  return info.substr(start, info.find(' ', start) - start);
}

} // namespace

TEST_CASE("redis: pooled commands work and the server sees between min_idle and max_size "
          "clients") {
  redis_server srv;
  runtime rt;
  rt.add_pool(redis_pool("cache", srv, 2, 4));
  CHECK(pool_settles_at(rt, "cache", 2));
  CHECK(clients_become(srv, 2));

  constexpr int threads = 8;
  constexpr int rounds = 50;
  std::atomic<int> failures{0};
  std::atomic<bool> stop_sampling{false};
  std::size_t most_clients = 0;
  std::thread sampler{[&] {
    while (!stop_sampling)
      most_clients = std::max(most_clients, srv.connected_clients());
  }};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&] {
      for (int i = 0; i < rounds; ++i) {
        try {
          auto lease = rt.acquire("cache", 5s);
          lease.exec(json{{"command", {"INCR", "hits"}}}, 1s);
        } catch (const lease_error&) {
          ++failures;
        }
      }
    });
  for (auto& w : workers)
    w.join();
  stop_sampling = true;
  sampler.join();
  CHECK(failures == 0);
  CHECK(srv.admin({"GET", "hits"}) == std::to_string(threads * rounds));
  CHECK(most_clients >= 2);
  CHECK(most_clients <= 4);
  auto s = stats_of(rt, "cache");
  CHECK(s.in_use == 0);
  CHECK(s.acquired == uint64_t(threads * rounds));
  CHECK(srv.connected_clients() >= 2);
  CHECK(srv.connected_clients() <= 4);

  rt.shutdown();
  CHECK(clients_become(srv, 0));
}

TEST_CASE("redis: a lease given back inside MULTI or on another db is reset before the next "
          "holder") {
  redis_server srv;
  runtime rt;
  rt.add_pool(redis_pool("cache", srv, 1, 1));
  REQUIRE(pool_settles_at(rt, "cache", 1));
  {
    auto lease = rt.acquire("cache", 2s);
    lease.exec(json{{"command", {"SELECT", 3}}}, 1s);
    lease.exec(json{{"command", {"MULTI"}}}, 1s);
    lease.exec(json{{"command", {"SET", "left", "behind"}}}, 1s);
  }
  {
    auto lease = rt.acquire("cache", 2s);
    CHECK(client_info(lease, "db") == "0");
    CHECK(client_info(lease, "multi") == "-1");
    CHECK(lease.exec(json{{"command", {"GET", "left"}}}, 1s).at("reply").is_null());
    // Subscribed through the native handle.
    auto* ctx = lease.connection_as<redis_connection>().native();
    reply_ptr sub{static_cast<redisReply*>(redisCommand(ctx, "SUBSCRIBE %s", "news"))};
    REQUIRE(sub);
  }
  {
    auto lease = rt.acquire("cache", 2s);
    CHECK(client_info(lease, "sub") == "0");
    CHECK(lease.exec(json{{"command", {"PING"}}}, 1s).at("reply") == json{{"status", "PONG"}});
  }
  auto s = stats_of(rt, "cache");
  CHECK(s.reset_on_return >= 2);
  CHECK(s.created == 1); // reset, not replaced
  CHECK(srv.connected_clients() == 1);
}

TEST_CASE("redis: a pooled command past its deadline times out and its connection is replaced") {
  redis_server srv;
  runtime rt;
  rt.add_pool(redis_pool("cache", srv, 1, 1));
  REQUIRE(pool_settles_at(rt, "cache", 1));
  std::string first_id;
  {
    auto lease = rt.acquire("cache", 2s);
    first_id = client_info(lease, "id");
    std::string message;
    auto took = time_of([&] {
      CHECK(lease_error_of(
              [&] {
                lease.exec(json{{"command", {"BLPOP", "nothing", 5}}}, 300ms);
              },
              &message) == errc::timeout);
    });
    CHECK(took < 3s);
    CHECK(message.find("BLPOP") != std::string::npos);
    CHECK_FALSE(lease); // the lease ended: the pool replaces the resource
  }
  auto lease = rt.acquire("cache", 5s);
  CHECK(client_info(lease, "id") != first_id);
  lease.release();
  CHECK(clients_become(srv, 1));
  CHECK(stats_of(rt, "cache").failed >= 1);
}

TEST_CASE("redis: a wrong password reaches the acquirer as WRONGPASS within the connect timeout") {
  redis_server srv;
  const std::string wrong = "wrong-password-value";
  ::setenv("CUSTODIAN_REDIS_TEST_WRONG", wrong.c_str(), 1);
  std::mutex mtx;
  std::vector<std::string> events; // as the node's event log writes them
  runtime rt;                      // after them: its last events reach them
  rt.on_events(event_filter{}, [&](const event_batch& batch) {
    std::lock_guard<std::mutex> guard{mtx};
    for (const auto& ev : batch.events)
      events.push_back(to_json_line(ev));
  });
  auto cfg = redis_pool("cache", srv, 1, 2, {{"password_env", "CUSTODIAN_REDIS_TEST_WRONG"}});
  cfg.acquire_timeout = 10s;
  cfg.resource.init.backoff.base = 100ms;
  cfg.resource.init.backoff.max = 1s;
  auto connections_before = srv.connections_received();
  rt.add_pool(cfg);
  std::string message;
  auto took = time_of([&] { lease_error_of([&] { rt.acquire("cache", 10s); }, &message); });
  CHECK(message.find("WRONGPASS") != std::string::npos);
  CHECK(message.find(wrong) == std::string::npos);
  CHECK(message.find(srv.password()) == std::string::npos);
  CHECK(took < 5s); // the 1 s connect, not the 10 s acquire timeout

  // Acquires for 2 s more: each hears the same reason at once, and the pool
  // logs in again on its creation backoff, not once per acquire.
  int acquires = 0;
  int other_reasons = 0;
  auto until = std::chrono::steady_clock::now() + 2s;
  while (std::chrono::steady_clock::now() < until) {
    std::string again;
    lease_error_of([&] { rt.acquire("cache", 10s); }, &again);
    other_reasons += again.find("WRONGPASS") == std::string::npos;
    ++acquires;
  }
  auto logins = srv.connections_received() - connections_before;
  MESSAGE(acquires << " acquires, " << logins << " logins");
  CHECK(other_reasons == 0);
  CHECK(acquires > 10);
  CHECK(logins <= 10);
  CHECK(srv.connected_clients() == 0);

  // The events tell the server's reason, and hold neither password.
  CHECK(eventually([&] {
    std::lock_guard<std::mutex> guard{mtx};
    return std::any_of(events.begin(), events.end(), [](const std::string& line) {
      return line.find("WRONGPASS") != std::string::npos;
    });
  }));
  std::lock_guard<std::mutex> guard{mtx};
  for (const auto& line : events) {
    CHECK(line.find(wrong) == std::string::npos);
    CHECK(line.find(srv.password()) == std::string::npos);
  }
}

TEST_CASE("redis: CLIENT KILL on pooled connections: the next exec fails broken and the pool "
          "replaces them") {
  redis_server srv;
  runtime rt;
  rt.add_pool(redis_pool("cache", srv, 2, 2));
  REQUIRE(pool_settles_at(rt, "cache", 2));
  auto lease = rt.acquire("cache", 2s);
  CHECK(srv.client_kill_all() == 2);
  std::string message;
  CHECK(lease_error_of(
          [&] {
            lease.exec(json{{"command", {"GET", "k"}}}, 1s);
          },
          &message) == errc::driver_error);
  CHECK(message.find("broken") != std::string::npos);
  CHECK_FALSE(lease);
  // The idle one was killed too: no holder gets it.
  for (int i = 0; i < 4; ++i) {
    auto next = rt.acquire("cache", 5s);
    CHECK(next.exec(json{{"command", {"PING"}}}, 1s).at("reply") == json{{"status", "PONG"}});
  }
  CHECK(pool_settles_at(rt, "cache", 2));
  CHECK(clients_become(srv, 2));
}

TEST_CASE("redis: conf/redis.json is a valid node config whose pool runs on a real server") {
  auto loaded =
    load_node_config(CUSTODIAN_SOURCE_DIR "/conf/redis.json", drivers::builtin_drivers());
  REQUIRE_MESSAGE(loaded.problems.empty(),
                  (loaded.problems.empty() ? "" : to_string(loaded.problems.front())));
  auto pool = loaded.config->pools.at(0);
  CHECK(pool["driver"] == "redis");
  CHECK(pool["driver_config"]["password_env"] == "REDIS_PASSWORD");
  // The same pool on a test server, built from its JSON as the node builds it.
  redis_server srv;
  pool["driver_config"].update({{"port", srv.port()}, {"password_env", password_env_of(srv)}});
  runtime rt;
  rt.add_pool(make_pool_config(pool, drivers::builtin_drivers()));
  CHECK(clients_become(srv, 2));
  {
    auto lease = rt.acquire("cache", 5s);
    CHECK(lease.exec(json{{"command", {"PING"}}}, 1s).at("reply") == json{{"status", "PONG"}});
  }
  rt.shutdown();
  CHECK(clients_become(srv, 0));
}
