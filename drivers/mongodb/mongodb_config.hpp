#pragma once
// The mongodb driver's driver_config: its schema, the checks of its URI that
// libmongoc makes, and the settings each client is made from.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "drivers/config_schema.hpp"
#include "drivers/driver.hpp"
#include "drivers/secret_source.hpp"

namespace custodian::drivers {

struct mongodb_settings {
  /// A mongodb:// URI without a password (the config refuses one: the URI is
  /// shown wherever the driver_config is, and no rule redacts part of a string).
  std::string uri;
  /// The user, unless the URI names one; "" = the URI's (or none).
  std::string username;
  /// The user's password, read at each connect (password_env / password_file, or
  /// an application's provider).
  secret_source password;
  /// Where exec runs its commands unless the request names another.
  std::string database = "admin";
  /// Bound of each TCP connect and handshake (libmongoc's connectTimeoutMS),
  /// never above the timeout of the call that connects.
  millis connect_timeout{5'000};
  /// How long a call waits for a suitable server (a primary, during an
  /// election); 0 = it fails at the first scan that finds none.
  millis server_selection_timeout{0};

  /// Every problem of a driver_config, at paths relative to it.
  static std::vector<config_problem> problems_of(const nlohmann::json& driver_config);
  /// The settings of a driver_config; throws std::invalid_argument naming the
  /// first problem when it is not valid.
  static mongodb_settings from_config(const nlohmann::json& driver_config);
};

/// mongoc_init once per process, before any other libmongoc call. Never undone:
/// mongoc_cleanup while a client exists is undefined, and process exit frees it.
/// It also keeps only libmongoc's ERROR and CRITICAL logs (an application may
/// set its own handler after it).
void ensure_mongoc_init();

} // namespace custodian::drivers
