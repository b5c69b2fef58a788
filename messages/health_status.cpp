#include "messages/health_status.hpp"

namespace custodian {

std::string to_string(health_status x) {
  switch (x) {
  case health_status::unknown:
    return "unknown";
  case health_status::healthy:
    return "healthy";
  case health_status::degraded:
    return "degraded";
  case health_status::unhealthy:
    return "unhealthy";
  }
  return "unknown(" + std::to_string(static_cast<int>(x)) + ")";
}

std::optional<health_status> health_status_from_string(std::string_view name) {
  for (int i = 0; i <= static_cast<int>(health_status::unhealthy); ++i)
    if (to_string(static_cast<health_status>(i)) == name)
      return static_cast<health_status>(i);
  return std::nullopt;
}

} // namespace custodian
