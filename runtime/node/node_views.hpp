#pragma once
// The JSON the admin API answers about pools (docs/api.md's shapes), made from
// what the registry and the pool actors reply.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "messages/pool_messages.hpp"
#include "messages/quarantine_messages.hpp"
#include "messages/registry_messages.hpp"

namespace custodian {

/// A pool's summary: state, health, availability, gauges, sizes, dependencies.
nlohmann::json pool_summary_json(const pool_summary& standing, const pool_stats& stats,
                                 const nlohmann::json& config);

/// The summary with counters, resources, quarantine, config and its version.
nlohmann::json pool_detail_json(const pool_summary& standing, const pool_stats& stats,
                                const std::vector<resource_summary>& resources,
                                const std::vector<quarantine_entry>& quarantine,
                                const nlohmann::json& redacted_config, uint32_t config_version,
                                const std::vector<std::string>& dependants);

} // namespace custodian
