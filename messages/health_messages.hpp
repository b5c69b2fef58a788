#pragma once
// Payloads of health checking.

#include <cstdint>
#include <string>

#include <caf/meta/type_name.hpp>

#include "messages/health_status.hpp"

namespace custodian {

/// The health of one resource, sent to the checker's watcher on every change and
/// listed on request.
struct health_report {
  std::string resource;
  health_status status = health_status::unknown;
  uint32_t consecutive_failures = 0;
  /// Latency of the last passed probe.
  uint64_t latency_us = 0;
  /// Why the last probe failed; empty after a pass.
  std::string last_error;

  bool operator==(const health_report&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, health_report& x) {
  return f(caf::meta::type_name("custodian.health_report"), x.resource, x.status,
           x.consecutive_failures, x.latency_us, x.last_error);
}

} // namespace custodian
