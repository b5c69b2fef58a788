#pragma once
// Payloads exchanged with resource actors.

#include <cstdint>
#include <string>

#include <caf/meta/type_name.hpp>
#include <caf/timestamp.hpp>

#include "messages/lifecycle_state.hpp"

namespace custodian {

/// One entry of a resource's bounded transition history.
struct transition_record {
  lifecycle_state from = lifecycle_state::created;
  lifecycle_state to = lifecycle_state::created;
  caf::timestamp at;
  std::string reason;
  bool operator==(const transition_record&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, transition_record& x) {
  return f(caf::meta::type_name("custodian.transition_record"), x.from, x.to, x.at, x.reason);
}

/// A snapshot of one resource actor.
struct resource_status {
  std::string id;
  std::string pool;
  std::string driver;
  lifecycle_state state = lifecycle_state::created;
  /// Meaningful in `failed`: whether initialize may be tried again.
  bool recoverable = false;
  /// A driver call (connect, ping, exec, reset, close) is in flight.
  bool operation_active = false;
  /// Connect attempts of the current or last initialisation.
  uint32_t init_attempts = 0;
  std::string last_error;
  /// In `in_use`: the lease and who holds it (empty otherwise).
  uint64_t lease = 0;
  std::string holder;
  bool operator==(const resource_status&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, resource_status& x) {
  return f(caf::meta::type_name("custodian.resource_status"), x.id, x.pool, x.driver, x.state,
           x.recoverable, x.operation_active, x.init_attempts, x.last_error, x.lease, x.holder);
}

/// A pool lent the resource: it is in use by `holder` until the lease ends.
struct lease_note {
  uint64_t lease = 0;
  std::string holder;
  /// How long the holder waited for it.
  uint64_t wait_us = 0;
  bool operator==(const lease_note&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, lease_note& x) {
  return f(caf::meta::type_name("custodian.lease_note"), x.lease, x.holder, x.wait_us);
}

/// The lease on the resource ended: returned, or taken back (`reason` says why).
struct lease_end {
  uint64_t lease = 0;
  std::string reason;
  /// How long the holder had it.
  uint64_t hold_us = 0;
  bool operator==(const lease_end&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, lease_end& x) {
  return f(caf::meta::type_name("custodian.lease_end"), x.lease, x.reason, x.hold_us);
}

/// Result of a connectivity probe.
struct ping_result {
  uint64_t latency_us = 0;
  /// Why a driver stage judged the connection degraded; empty if it did not.
  std::string degraded;
  bool operator==(const ping_result&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ping_result& x) {
  return f(caf::meta::type_name("custodian.ping_result"), x.latency_us, x.degraded);
}

} // namespace custodian
