#pragma once
// Payloads of the state store: the records it keeps. Configs and audit details
// travel as JSON text so that every message stays serializable.

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>
#include <caf/timestamp.hpp>

namespace custodian {

/// One version of a pool's config, or the record of its deletion.
struct config_version {
  std::string pool;
  /// 1..n per pool, assigned by the store (ignored when putting).
  uint32_t version = 0;
  caf::timestamp ts;
  /// "file", "api", "reload" or "restore".
  std::string source;
  std::string requester;
  /// The pool's config as a JSON object; empty in a deletion record.
  std::string config;
  bool deleted = false;

  bool operator==(const config_version&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, config_version& x) {
  return f(caf::meta::type_name("custodian.config_version"), x.pool, x.version, x.ts, x.source,
           x.requester, x.config, x.deleted);
}

/// The latest known state of a pool.
struct pool_state_record {
  std::string pool;
  std::string state;
  std::string health;
  caf::timestamp ts;

  bool operator==(const pool_state_record&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, pool_state_record& x) {
  return f(caf::meta::type_name("custodian.pool_state_record"), x.pool, x.state, x.health, x.ts);
}

/// The latest known state of a resource.
struct resource_state_record {
  std::string resource;
  std::string pool;
  std::string state;
  std::string health;
  caf::timestamp ts;
  /// The resource ended: the store forgets it (keeps the table bounded).
  bool gone = false;

  bool operator==(const resource_state_record&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, resource_state_record& x) {
  return f(caf::meta::type_name("custodian.resource_state_record"), x.resource, x.pool, x.state,
           x.health, x.ts, x.gone);
}

/// Many state changes, written in one transaction (in order: a later update of
/// the same pool or resource wins).
struct state_updates {
  std::vector<pool_state_record> pools;
  std::vector<resource_state_record> resources;

  bool operator==(const state_updates&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, state_updates& x) {
  return f(caf::meta::type_name("custodian.state_updates"), x.pools, x.resources);
}

/// A resource held in quarantine, kept so that a restarted node holds it again.
struct quarantine_record {
  std::string resource;
  std::string pool;
  std::string reason;
  /// Quarantined by an operator (stays until released by hand).
  bool by_hand = false;
  caf::timestamp since;
  uint32_t attempts = 0;

  bool operator==(const quarantine_record&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, quarantine_record& x) {
  return f(caf::meta::type_name("custodian.quarantine_record"), x.resource, x.pool, x.reason,
           x.by_hand, x.since, x.attempts);
}

/// One operator action.
struct audit_record {
  /// Assigned by the store, strictly increasing (ignored when appending).
  uint64_t seq = 0;
  caf::timestamp ts;
  std::string requester;
  std::string action;
  std::string target;
  /// A JSON object as text ("{}" when empty).
  std::string detail;

  bool operator==(const audit_record&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, audit_record& x) {
  return f(caf::meta::type_name("custodian.audit_record"), x.seq, x.ts, x.requester, x.action,
           x.target, x.detail);
}

} // namespace custodian
