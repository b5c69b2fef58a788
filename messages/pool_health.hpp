#pragma once
// How a pool is doing: on its own (its health), and once the pools it depends on
// count (its availability). The registry computes availability from health.

#include <cstdint>
#include <string>

namespace custodian {

/// How a pool is doing on its own, as its resources and state show it.
enum class pool_health : uint8_t { healthy, degraded, unhealthy };

/// How a pool is doing once its dependencies count.
struct availability {
  enum class level : uint8_t { available, degraded, unavailable };
  level is = level::available;
  /// The pool whose own health caused this (itself, or a dependency upstream);
  /// empty while available.
  std::string root_cause;

  bool operator==(const availability&) const = default;
};

std::string to_string(pool_health x);
std::string to_string(availability::level x);

} // namespace custodian
