#pragma once
// The health of one resource as its probes see it (Envoy's vocabulary).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace custodian {

enum class health_status : uint8_t {
  unknown,   ///< not probed enough yet
  healthy,   ///< probes pass
  degraded,  ///< probes pass, but slower than degraded_latency
  unhealthy, ///< unhealthy_threshold probes in a row failed
};

std::string to_string(health_status x);
std::optional<health_status> health_status_from_string(std::string_view name);

} // namespace custodian
