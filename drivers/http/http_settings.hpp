#pragma once
// The http driver's driver_config: its schema (every problem at its JSON path,
// defaults from the schema) and the settings read from a valid one.

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "drivers/config_schema.hpp"
#include "drivers/driver.hpp"
#include "drivers/http/address_policy.hpp"
#include "drivers/http/http_request.hpp"
#include "drivers/secret_source.hpp"

namespace custodian::drivers {

/// A valid driver_config, read (the defaults are the schema's). An embedding
/// application may build one itself, with a provider for the token.
struct http_settings {
  /// As curl normalises it, without a trailing "/": "http://127.0.0.1:8080/api".
  std::string base_url;
  std::string health_path = "/";
  /// Caps the timeout of every call.
  millis timeout{30'000};
  /// Caps the time to open a TCP (and TLS) connection within a call.
  millis connect_timeout{5'000};
  /// Sent with every request; an exec's own headers replace them by name.
  http::header_list headers;
  /// Sent as "Authorization: Bearer <token>", read at every request.
  secret_source bearer_token;
  /// 0: a redirect is returned as it is.
  long max_redirects = 3;
  int64_t max_response_bytes = 8 << 20;
  /// Which resolved addresses the driver may connect to.
  address_policy policy;
  /// CA certificates (PEM) that verify https servers; empty: the system's.
  std::string ca_file;
};

/// Every problem of an http driver_config, at paths relative to it.
std::vector<config_problem> http_config_problems(const nlohmann::json& driver_config);

/// The settings of a driver_config that `http_config_problems` accepted.
http_settings read_http_settings(const nlohmann::json& driver_config);

} // namespace custodian::drivers
