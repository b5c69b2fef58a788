#pragma once
// A pool's canonical config JSON (runtime/config/config.hpp) as the pool_config the pool
// actor takes.

#include <nlohmann/json.hpp>

#include "actors/pool.hpp"
#include "drivers/driver_catalog.hpp"

namespace custodian {

/// Fills every pool_config field from `canonical_pool` (canonical_pool_config of
/// a valid config) and makes its driver through `drivers`. Throws
/// std::invalid_argument for a driver the catalog does not know.
pool_config make_pool_config(const nlohmann::json& canonical_pool,
                             const drivers::driver_catalog& drivers);

} // namespace custodian
