#pragma once
// A deterministic fixture with a pool: builds pools, asks for stats, and acquires
// on behalf of holders that live as long as the test keeps them.

#include <memory>
#include <string>

#include "actors/pool.hpp"
#include "tests/support/deterministic_fixture.hpp"

namespace custodian::test {

struct pool_fixture : deterministic_fixture {
  pool_config pool_cfg(uint32_t min_idle, uint32_t max_size) {
    pool_config c;
    c.name = "orders";
    c.driver = sim;
    c.min_idle = min_idle;
    c.max_size = max_size;
    c.acquire_timeout = std::chrono::milliseconds{1'000};
    c.resource = config("template");
    return c;
  }

  pool_actor make_pool(pool_config c) {
    auto p = spawn_pool(sys, std::move(c), resource_context{executor, bus});
    track(p);
    settle();
    return p;
  }

  pool_stats stats(const pool_actor& p) {
    auto r = call<pool_stats>(p, stats_atom::value);
    REQUIRE(r.value);
    return *r.value;
  }

  /// Acquires on behalf of a holder that stays alive until the test drops it.
  struct held {
    std::shared_ptr<caf::scoped_actor> holder;
    lease granted;
  };

  held acquire(const pool_actor& p) {
    auto holder = make_sender();
    auto pending = ask_from(holder, p, acquire_atom::value);
    settle();
    auto r = take<lease>(pending);
    REQUIRE_MESSAGE(r.value, describe(r.error));
    return {holder, *r.value};
  }

  caf::error release(const pool_actor& p, uint64_t id) {
    auto r = call<caf::ok_atom>(p, release_atom::value, id);
    REQUIRE(r.answered());
    return r.error;
  }
};

/// Health checks every second without jitter, each probe bounded by 500 ms.
inline pool_config with_health(pool_config c, uint32_t unhealthy_threshold) {
  health_checker_config h;
  h.policy.interval = std::chrono::milliseconds{1'000};
  h.policy.jitter = 0.0;
  h.policy.unhealthy_threshold = unhealthy_threshold;
  h.timeout = std::chrono::milliseconds{500};
  c.health = h;
  return c;
}

inline pool_config with_lifetime(pool_config c, std::chrono::milliseconds lifetime, double jitter) {
  c.max_lifetime = lifetime;
  c.lifetime_jitter = jitter;
  return c;
}

/// Every exec on `resource` fails with a broken connection.
inline void break_every_exec(drivers::sim_driver& sim, const std::string& resource) {
  drivers::sim_script breaks;
  breaks.exec_pattern = "-";
  breaks.exec_error = drivers::driver_errc::broken;
  sim.set_script(resource, breaks);
}

/// An exec through the pool on lease `lease_id`.
inline reply<std::string> exec_on(pool_fixture& f, const pool_actor& p, uint64_t lease_id) {
  return f.call<std::string>(p, exec_atom::value, lease_id, std::string{R"({"op":"get"})"});
}

inline bool mentions(const caf::error& err, const std::string& text) {
  return describe(err).find(text) != std::string::npos;
}

} // namespace custodian::test
