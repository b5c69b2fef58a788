#include "actors/pool_health_policy.hpp"

namespace custodian {

pool_health judge_pool_health(const pool_health_facts& facts, double unhealthy_share) {
  if (facts.state == pool_state::error)
    return pool_health::unhealthy;
  auto working = facts.resources - facts.unhealthy;
  if (facts.creations_failing && working == 0)
    return pool_health::unhealthy;
  if (facts.unhealthy > 0 && static_cast<double>(facts.unhealthy) >=
                               unhealthy_share * static_cast<double>(facts.resources))
    return pool_health::unhealthy;
  if (facts.unhealthy > 0 || facts.degraded > 0)
    return pool_health::degraded;
  return pool_health::healthy;
}

} // namespace custodian
