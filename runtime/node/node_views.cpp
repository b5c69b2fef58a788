#include "runtime/node/node_views.hpp"

#include <chrono>

#include <caf/timestamp.hpp>

#include "messages/event_json.hpp"

namespace custodian {

using nlohmann::json;

json pool_summary_json(const pool_summary& standing, const pool_stats& stats, const json& config) {
  return json{{"name", standing.name},
              {"driver", config.value("driver", "")},
              {"state", to_string(standing.state)},
              {"health", to_string(standing.health)},
              {"availability",
               {{"level", to_string(standing.avail.is)},
                {"root_cause", standing.avail.root_cause},
                {"reason", standing.reason}}},
              {"size", stats.size},
              {"idle", stats.idle},
              {"in_use", stats.in_use},
              {"waiters", stats.waiters},
              {"quarantined", stats.quarantined},
              {"degraded", stats.degraded},
              {"outdated", stats.outdated},
              {"min_idle", stats.min_idle},
              {"max_size", stats.max_size},
              {"depends_on", config.value("depends_on", json::array())}};
}

namespace {

json counters_json(const pool_stats& s) {
  json bounds = json::array();
  for (auto b : acquire_wait_bounds_us)
    bounds.push_back(b);
  return json{{"created", s.created},
              {"closed", s.closed},
              {"creation_failures", s.creation_failures},
              {"acquired", s.acquired},
              {"timeouts", s.timeouts},
              {"reclaimed", s.reclaimed},
              {"leaks", s.leaks},
              {"bad_releases", s.bad_releases},
              {"failed", s.failed},
              {"expired", s.expired},
              {"idle_closed", s.idle_closed},
              {"unhealthy", s.unhealthy},
              {"validation_failures", s.validation_failures},
              {"ejections", s.ejections},
              {"reinstated", s.reinstated},
              {"restarts", s.restarts},
              {"acquire_wait_histogram",
               {{"bounds_us", bounds},
                {"counts", s.acquire_wait_histogram},
                {"total_us", s.acquire_wait_total_us}}}};
}

std::string at_offset(caf::timestamp now, int64_t ms) {
  return to_rfc3339(now + std::chrono::milliseconds{ms});
}

} // namespace

json pool_detail_json(const pool_summary& standing, const pool_stats& stats,
                      const std::vector<resource_summary>& resources,
                      const std::vector<quarantine_entry>& quarantine, const json& redacted_config,
                      uint32_t config_version, const std::vector<std::string>& dependants) {
  auto out = pool_summary_json(standing, stats, redacted_config);
  out["stats"] = counters_json(stats);
  auto listed = json::array();
  for (const auto& r : resources)
    listed.push_back(json{{"id", r.id},
                          {"state", r.state},
                          {"health", to_string(r.health)},
                          {"leased", r.state == "leased"},
                          {"quarantined", r.state == "quarantined"},
                          {"outdated", r.outdated}});
  out["resources"] = listed;
  auto now = caf::make_timestamp();
  auto held = json::array();
  for (const auto& q : quarantine)
    held.push_back(json{{"resource", q.resource},
                        {"reason", q.reason},
                        {"since", at_offset(now, -q.ejected_ms_ago)},
                        {"attempts", q.attempts},
                        {"next_attempt", at_offset(now, q.next_attempt_in_ms)}});
  out["quarantine"] = held;
  out["config"] = redacted_config;
  out["config_version"] = config_version;
  out["dependants"] = dependants;
  return out;
}

} // namespace custodian
