#pragma once
// What the redis driver's integration tests share: a driver_config for a test
// server (its password through an environment variable), connections, pool
// configs with short bounds, pool stats, and bounded waits on what the server sees.

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>

#include <caf/all.hpp>
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "drivers/redis/redis_driver.hpp"
#include "messages/errors.hpp"
#include "runtime/runtime.hpp"
#include "tests/support/lease_checks.hpp"
#include "tests/support/node_process.hpp"
#include "tests/support/pool_stats_of.hpp"
#include "tests/support/redis_server.hpp"

namespace custodian::test {

using json = nlohmann::json;
using namespace std::chrono_literals;

/// Bound of every wait on the server or a pool: a bug fails the test, it does not hang it.
inline constexpr auto redis_bound = std::chrono::seconds{30};

/// The environment variable that holds `srv`'s password (set now) for password_env.
inline std::string password_env_of(redis_server& srv) {
  auto name = "CUSTODIAN_REDIS_TEST_PASSWORD_" + std::to_string(srv.port());
  ::setenv(name.c_str(), srv.password().c_str(), 1);
  return name;
}

/// A driver_config for `srv`, `extra` merged over it.
inline json redis_config(redis_server& srv, const json& extra = json::object()) {
  json cfg{{"host", "127.0.0.1"}, {"port", srv.port()}, {"password_env", password_env_of(srv)}};
  cfg.update(extra);
  return cfg;
}

inline std::shared_ptr<drivers::redis_connection>
connect_to(redis_server& srv, const json& extra = json::object(), drivers::millis timeout = 2s) {
  auto d = drivers::redis_driver::from_config(redis_config(srv, extra));
  auto res = d->connect("redis-test", timeout);
  REQUIRE_MESSAGE(res, res.error().message);
  auto conn = std::dynamic_pointer_cast<drivers::redis_connection>(res.value());
  REQUIRE(conn);
  return conn;
}

/// The reply of one exec that must succeed.
inline json reply_of(drivers::connection& conn, const json& command, drivers::millis timeout = 2s) {
  auto res = conn.exec(json{{"command", command}}, timeout);
  REQUIRE_MESSAGE(res, res.error().message);
  return res.value().at("reply");
}

/// A pool on `srv` with bounds short enough for tests: 1 s connects, 1 s calls,
/// probes every 200 ms, creation retried from 20 ms up to 500 ms, idle resources
/// above min_idle closed after 1 s.
inline pool_config redis_pool(const std::string& name, redis_server& srv, uint32_t min_idle,
                              uint32_t max_size, const json& extra = json::object()) {
  pool_config c;
  c.name = name;
  c.driver = drivers::redis_driver::from_config(redis_config(srv, extra));
  c.min_idle = min_idle;
  c.max_size = max_size;
  c.acquire_timeout = 2s;
  c.idle_timeout = 1s; // back to min_idle soon after a burst
  c.resource.init.timeout = 1s;
  c.resource.init.backoff.base = 20ms;
  c.resource.init.backoff.max = 500ms;
  c.resource.operation_timeout = 1s;
  c.resource.cleanup_timeout = 1s;
  health_checker_config health;
  health.policy.interval = 200ms;
  health.policy.unhealthy_threshold = 1;
  health.timeout = 500ms;
  c.health = health;
  c.drain_timeout = 5s;
  return c;
}

/// Gives the pool a new config, as PATCH does (a new driver rolls in one resource
/// at a time).
inline void configure(runtime& rt, const std::string& pool, pool_config cfg) {
  caf::scoped_actor self{rt.system()};
  bool applied = false;
  self
    ->request(rt.pool(pool), redis_bound, configure_atom::value,
              std::make_shared<const pool_config>(std::move(cfg)))
    .receive([&](caf::ok_atom) { applied = true; },
             [&](caf::error& err) { FAIL("configure failed: " << describe(err)); });
  CHECK(applied);
}

/// Whether the server comes to see exactly `n` clients (the admin left out) within `within`.
inline bool clients_become(redis_server& srv, std::size_t n,
                           std::chrono::milliseconds within = redis_bound) {
  return eventually([&] { return srv.connected_clients() == n; }, within);
}

/// Whether the pool comes to have `n` idle resources, none leased or being made.
inline bool pool_settles_at(runtime& rt, const std::string& pool, uint64_t n,
                            std::chrono::milliseconds within = redis_bound) {
  pool_stats s;
  bool settled = eventually(
    [&] {
      s = stats_of(rt, pool);
      return s.idle == n && s.size == n && s.in_use == 0;
    },
    within);
  if (!settled)
    MESSAGE(pool << " did not settle at " << n << ": size " << s.size << ", idle " << s.idle
                 << ", in use " << s.in_use << ", state " << to_string(s.state));
  return settled;
}

} // namespace custodian::test
