#include "runtime/config/pool_from_json.hpp"

#include <stdexcept>

namespace custodian {

namespace {

using json = nlohmann::json;
using std::chrono::milliseconds;

milliseconds ms(const json& j) {
  return milliseconds{j.get<int64_t>()};
}

restart_strategy strategy_from(const std::string& name) {
  if (name == "one_for_all")
    return restart_strategy::one_for_all;
  if (name == "rest_for_one")
    return restart_strategy::rest_for_one;
  return restart_strategy::one_for_one;
}

} // namespace

pool_config make_pool_config(const json& c, const drivers::driver_catalog& drivers) {
  auto driver_name = c.at("driver").get<std::string>();
  auto entry = drivers.find(driver_name);
  if (!entry)
    throw std::invalid_argument("driver: unknown driver " + driver_name);
  pool_config p;
  p.name = c.at("name").get<std::string>();
  p.driver = entry->make(c.at("driver_config"));
  p.min_idle = c.at("min_idle").get<uint32_t>();
  p.max_size = c.at("max_size").get<uint32_t>();
  p.acquire_timeout = ms(c.at("acquire_timeout_ms"));
  p.max_lifetime = ms(c.at("max_lifetime_ms"));
  p.idle_timeout = ms(c.at("idle_timeout_ms"));
  p.lease_ttl = ms(c.at("lease_ttl_ms"));
  p.drain_timeout = ms(c.at("drain_timeout_ms"));
  p.unhealthy_share = c.at("unhealthy_share").get<double>();
  p.lifo = c.at("lifo").get<bool>();
  p.resource.operation_timeout = ms(c.at("operation_timeout_ms"));
  p.resource.cleanup_timeout = ms(c.at("cleanup_timeout_ms"));

  const auto& init = c.at("init");
  p.resource.init.timeout = ms(init.at("timeout_ms"));
  p.resource.init.max_retries = init.at("max_retries").get<uint32_t>();
  const auto& backoff = init.at("backoff");
  p.resource.init.backoff.base = ms(backoff.at("base_ms"));
  p.resource.init.backoff.max = ms(backoff.at("max_ms"));
  p.resource.init.backoff.jitter = backoff.at("jitter").get<double>();

  if (const auto& h = c.at("health"); !h.is_null()) {
    health_checker_config health;
    health.policy.interval = ms(h.at("interval_ms"));
    health.policy.healthy_threshold = h.at("healthy_threshold").get<uint32_t>();
    health.policy.unhealthy_threshold = h.at("unhealthy_threshold").get<uint32_t>();
    health.policy.degraded_latency = ms(h.at("degraded_latency_ms"));
    health.timeout = ms(h.at("timeout_ms"));
    health.on_acquire = h.at("on_acquire").get<bool>();
    health.bypass_window = ms(h.at("bypass_window_ms"));
    p.health = health;
  }
  if (const auto& q = c.at("quarantine"); !q.is_null()) {
    quarantine_config quarantine;
    quarantine.policy.consecutive_failures = q.at("consecutive_failures").get<uint32_t>();
    quarantine.policy.base_ejection = ms(q.at("base_ejection_ms"));
    quarantine.policy.max_ejection = ms(q.at("max_ejection_ms"));
    quarantine.policy.max_attempts = q.at("max_attempts").get<uint32_t>();
    quarantine.policy.max_ejection_percent = q.at("max_ejection_percent").get<double>();
    p.quarantine = quarantine;
  }

  const auto& s = c.at("supervision");
  p.supervision.strategy = strategy_from(s.at("strategy").get<std::string>());
  p.supervision.max_restarts = s.at("max_restarts").get<uint32_t>();
  p.supervision.period = ms(s.at("period_ms"));

  for (const auto& d : c.at("depends_on"))
    p.depends_on.push_back({d.at("pool").get<std::string>(), d.at("kind") == "soft"
                                                               ? dependency_kind::soft
                                                               : dependency_kind::hard});
  return p;
}

} // namespace custodian
