#pragma once
// The pools the driver benchmarks run, set as an operator would for a database
// next to the application: the peers' sizes and acquire timeout, connects and
// calls bounded at 2 s, a health probe every 5 s, creation retried from 100 ms
// backing off to 10 s (the defaults), and connections above min_idle closed after
// 5 s idle (a pool that opened more for a burst, or for the acquires queued at a
// server's return, comes back to min_idle). Their stats, and a bounded wait for
// them.

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include <caf/all.hpp>

#include "actors/pool.hpp"
#include "drivers/driver.hpp"
#include "messages/errors.hpp"
#include "runtime/runtime.hpp"

namespace custodian::bench {

inline pool_config bench_pool(std::string name, std::shared_ptr<drivers::driver> driver,
                              uint32_t min_idle, uint32_t max_size) {
  using namespace std::chrono_literals;
  pool_config c;
  c.name = std::move(name);
  c.driver = std::move(driver);
  c.min_idle = min_idle;
  c.max_size = max_size;
  c.acquire_timeout = 3000ms;
  c.resource.init.timeout = 2000ms;
  c.resource.operation_timeout = 2000ms;
  c.resource.cleanup_timeout = 1000ms;
  c.idle_timeout = 5000ms;
  health_checker_config health;
  health.policy.interval = 5000ms;
  health.timeout = 1000ms;
  c.health = health;
  return c;
}

/// The settings above, for the output's description of the pool.
inline const char* bench_pool_settings() {
  return "acquire_timeout=3000ms init.timeout=2000ms operation_timeout=2000ms "
         "health.interval=5000ms health.timeout=1000ms init.backoff=100ms..10000ms "
         "(cheap failures retried at once on demand) idle_timeout=5000ms; defaults: lifo, "
         "no quarantine, no max_lifetime";
}

inline pool_stats stats_of(runtime& rt, const std::string& pool) {
  caf::scoped_actor self{rt.system()};
  pool_stats result;
  self->request(rt.pool(pool), std::chrono::seconds{10}, stats_atom::value)
    .receive([&](pool_stats& s) { result = std::move(s); },
             [&](caf::error& err) {
               throw std::runtime_error("stats of " + pool + ": " + describe(err));
             });
  return result;
}

/// Waits (bounded by `within`) until `pool` has `idle` idle resources.
inline void wait_for_idle(runtime& rt, const std::string& pool, uint64_t idle,
                          std::chrono::milliseconds within = std::chrono::seconds{10}) {
  auto until = std::chrono::steady_clock::now() + within;
  while (stats_of(rt, pool).idle < idle) {
    if (std::chrono::steady_clock::now() > until)
      throw std::runtime_error("pool " + pool + " did not warm " + std::to_string(idle) +
                               " resources within " + std::to_string(within.count()) + " ms");
    std::this_thread::sleep_for(std::chrono::milliseconds{5}); // the pool's pace, polled
  }
}

} // namespace custodian::bench
