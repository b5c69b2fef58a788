#pragma once
// What the postgres driver's pool tests share: pool configs on a test server with
// short bounds (each pool's connections carry its name as application_name, so
// that the server counts them), pool stats, bounded waits on what the server and
// the pool see, and a sampler of the server's connection count.

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <caf/all.hpp>
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "drivers/postgres/postgres_driver.hpp"
#include "messages/errors.hpp"
#include "runtime/runtime.hpp"
#include "tests/support/lease_checks.hpp"
#include "tests/support/pg_server.hpp"
#include "tests/support/pool_stats_of.hpp"

namespace custodian::test {

using json = nlohmann::json;
using namespace std::chrono_literals;

/// Bound of every wait on the server or a pool: a bug fails the test, it does not hang it.
inline constexpr auto pg_bound = std::chrono::seconds{30};

/// A pool named `name` on `server`: 2 s connects, 2 s calls, probes every 250 ms
/// (one failure makes a resource unhealthy), creation retried from 20 ms to 500 ms,
/// idle resources beyond min_idle closed after 1 s (so that it comes back to
/// exactly min_idle).
inline pool_config pg_pool(const std::string& name, const pg_server& server, uint32_t min_idle,
                           uint32_t max_size, json extra = json::object()) {
  auto cfg = server.driver_config();
  cfg["application_name"] = name;
  cfg.update(extra);
  pool_config c;
  c.name = name;
  c.driver = drivers::postgres_driver::from_config(cfg);
  c.min_idle = min_idle;
  c.max_size = max_size;
  c.acquire_timeout = 5s;
  c.idle_timeout = 1s;
  c.resource.init.timeout = 2s;
  c.resource.init.backoff.base = 20ms;
  c.resource.init.backoff.max = 500ms;
  c.resource.operation_timeout = 2s;
  c.resource.cleanup_timeout = 1s;
  health_checker_config health;
  health.policy.interval = 250ms;
  health.policy.unhealthy_threshold = 1;
  health.timeout = 1s;
  c.health = health;
  c.drain_timeout = 5s;
  return c;
}

/// Whether the server comes to see exactly `n` connections of `who` (a role or
/// a pool's application_name) within `within`.
inline bool backends_become(pg_server& server, const std::string& who, int n,
                            std::chrono::milliseconds within = pg_bound) {
  return eventually([&] { return server.backend_count_for(who) == n; }, within);
}

/// Whether the pool comes to have `n` idle resources, none leased or being made.
inline bool pool_settles_at(runtime& rt, const std::string& pool, uint64_t n,
                            std::chrono::milliseconds within = pg_bound) {
  return eventually(
    [&] {
      auto s = stats_of(rt, pool);
      return s.idle == n && s.size == n && s.in_use == 0;
    },
    within);
}

/// The largest number of connections of `who` the server showed while it ran,
/// sampled every 20 ms (the pace of a real server's state, not a synchronisation).
class backend_sampler {
public:
  backend_sampler(pg_server& server, std::string who)
      : thread_([this, &server, who] {
          std::unique_lock<std::mutex> lock{mtx_};
          while (!stop_) {
            lock.unlock();
            int n = -1;
            try {
              n = server.backend_count_for(who);
            } catch (const std::runtime_error&) {
              // the server is down or restarting: nothing to count
            }
            lock.lock();
            most_ = std::max(most_, n);
            wake_.wait_for(lock, 20ms, [&] { return stop_; });
          }
        }) {}

  ~backend_sampler() { stop(); }

  /// Stops sampling; the largest count seen.
  int stop() {
    {
      std::lock_guard<std::mutex> guard{mtx_};
      stop_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable())
      thread_.join();
    return most_;
  }

private:
  std::mutex mtx_;
  std::condition_variable wake_;
  bool stop_ = false;
  int most_ = 0;
  std::thread thread_;
};

} // namespace custodian::test
