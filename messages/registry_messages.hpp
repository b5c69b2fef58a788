#pragma once
// Payloads between the registry and its pools, and the registry's answers.

#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "messages/pool_health.hpp"
#include "messages/pool_state.hpp"

namespace custodian {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, availability& x) {
  return f(caf::meta::type_name("custodian.availability"), x.is, x.root_cause);
}

/// A pool's availability as the registry computed it; sent to the pool whenever
/// it changes.
struct availability_notice {
  availability now;
  /// Why, in words: "hard dependency db is unhealthy (root cause: db)"; empty
  /// while available.
  std::string reason;

  bool operator==(const availability_notice&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, availability_notice& x) {
  return f(caf::meta::type_name("custodian.availability_notice"), x.now, x.reason);
}

/// What a pool tells its watcher (the registry) whenever its state or its own
/// health changes.
struct pool_report {
  std::string pool;
  pool_state state = pool_state::creating;
  pool_health health = pool_health::healthy;

  bool operator==(const pool_report&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, pool_report& x) {
  return f(caf::meta::type_name("custodian.pool_report"), x.pool, x.state, x.health);
}

/// One pool as the registry sees it.
struct pool_summary {
  std::string name;
  pool_state state = pool_state::creating;
  pool_health health = pool_health::healthy;
  availability avail;
  /// Why it is not available, as its notice says; empty while available.
  std::string reason;

  bool operator==(const pool_summary&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, pool_summary& x) {
  return f(caf::meta::type_name("custodian.pool_summary"), x.name, x.state, x.health, x.avail,
           x.reason);
}

/// How the registry's pools stopped, each list in the order the pools finished.
struct drain_report {
  /// Drained in time: every resource closed.
  std::vector<std::string> drained;
  /// Stopped without draining (the deadline passed, or the drain failed); their
  /// resources close their handles all the same.
  std::vector<std::string> forced;

  bool operator==(const drain_report&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, drain_report& x) {
  return f(caf::meta::type_name("custodian.drain_report"), x.drained, x.forced);
}

} // namespace custodian
