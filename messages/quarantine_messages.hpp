#pragma once
// Payloads of quarantine.

#include <cstdint>
#include <string>

#include <caf/meta/type_name.hpp>

namespace custodian {

/// What became of an ejected resource, sent to whoever ejected it.
struct quarantine_outcome {
  std::string resource;
  /// True: back in service. False: it never recovered and was given up (the
  /// pool replaces it).
  bool recovered = false;
  uint32_t attempts = 0;
  std::string reason;

  bool operator==(const quarantine_outcome&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, quarantine_outcome& x) {
  return f(caf::meta::type_name("custodian.quarantine_outcome"), x.resource, x.recovered,
           x.attempts, x.reason);
}

/// One resource in quarantine.
struct quarantine_entry {
  std::string resource;
  std::string reason;
  /// Recovery attempts made so far.
  uint32_t attempts = 0;
  /// Milliseconds since the resource was ejected, and until its next attempt.
  int64_t ejected_ms_ago = 0;
  int64_t next_attempt_in_ms = 0;

  bool operator==(const quarantine_entry&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, quarantine_entry& x) {
  return f(caf::meta::type_name("custodian.quarantine_entry"), x.resource, x.reason, x.attempts,
           x.ejected_ms_ago, x.next_attempt_in_ms);
}

} // namespace custodian
