#include "messages/pool_health.hpp"

namespace custodian {

std::string to_string(pool_health x) {
  switch (x) {
  case pool_health::healthy:
    return "healthy";
  case pool_health::degraded:
    return "degraded";
  case pool_health::unhealthy:
    return "unhealthy";
  }
  return "unknown(" + std::to_string(static_cast<int>(x)) + ")";
}

std::string to_string(availability::level x) {
  switch (x) {
  case availability::level::available:
    return "available";
  case availability::level::degraded:
    return "degraded";
  case availability::level::unavailable:
    return "unavailable";
  }
  return "unknown(" + std::to_string(static_cast<int>(x)) + ")";
}

} // namespace custodian
