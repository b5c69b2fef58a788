#pragma once
// The codes of the "custodian" error category, without CAF: the admin server
// answers a node's refusal by its code (messages/errors.hpp registers them with
// CAF and builds errors of them).

#include <cstdint>
#include <string>

namespace custodian {

/// Error codes of the "custodian" category. 0 is reserved by CAF for "no error".
/// The error's context is one string that names what was wrong.
enum class errc : uint8_t {
  /// The operation is not valid in the current state; context: "from -> to: why".
  invalid_transition = 1,
  /// A bounded wait expired (driver call, drain, cleanup, acquire).
  timeout,
  /// The driver reported a failure or threw; context carries the driver's message.
  driver_error,
  /// The target cannot serve the request now (busy, shutting down).
  unavailable,
  /// Unknown pool, resource, lease or subscription.
  not_found,
  /// A configuration value was rejected.
  bad_config,
  /// A request payload was malformed (e.g. an exec request that is not JSON).
  bad_request,
  /// A hard dependency of the pool is unavailable.
  dependency_unavailable,
  /// The request conflicts with how things stand (a pool others depend on).
  conflict,
  /// The state store cannot be opened, read or written; context: path and cause.
  store_error,
  /// The resource is in use by a lease holder: a health probe has nothing to
  /// judge (context: the lease's holder).
  leased,
};

/// The code's name ("not_found"), as errors render it and the HTTP API answers it.
std::string to_string(errc code);

} // namespace custodian
