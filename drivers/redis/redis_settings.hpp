#pragma once
// The redis driver's `driver_config`: its schema (defaults, JSON paths, did-you-mean)
// and the settings a valid one stands for.

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "drivers/config_schema.hpp"
#include "drivers/driver.hpp"
#include "drivers/secret_source.hpp"

namespace custodian::drivers {

struct redis_settings {
  std::string host = "127.0.0.1";
  uint16_t port = 6379;
  /// The database every connection SELECTs, and gets back to on reset.
  int64_t db = 0;
  /// An ACL user (`AUTH username password`); empty: the default user.
  std::string username;
  /// Read at every connect and reset; none: no AUTH.
  secret_source password;
  /// Caps of the timeouts the pool gives connect and the other calls; 0: no cap.
  millis connect_timeout{0};
  millis command_timeout{0};

  /// Every problem of a driver_config, at paths relative to it.
  static std::vector<config_problem> problems_of(const nlohmann::json& driver_config);
  /// The settings of a driver_config that `problems_of` accepted.
  static redis_settings from_config(const nlohmann::json& driver_config);

  /// `given` capped by connect_timeout.
  millis connect_budget(millis given) const;
  /// `given` capped by command_timeout.
  millis command_budget(millis given) const;
  /// "127.0.0.1:6379", for messages.
  std::string address() const;
};

} // namespace custodian::drivers
