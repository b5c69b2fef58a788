#pragma once
// The postgres driver's `driver_config`: its schema (defaults, JSON paths,
// did-you-mean), the checks across keys, and the settings a valid one stands for.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "drivers/config_schema.hpp"
#include "drivers/driver.hpp"
#include "drivers/secret_source.hpp"

namespace custodian::drivers {

struct postgres_settings {
  /// libpq keywords and values naming the server, the database and the user (from
  /// `conninfo` or from the discrete keys); never a password.
  std::vector<std::pair<std::string, std::string>> target;
  /// Read at every connect; none: libpq's own lookup (PGPASSWORD, ~/.pgpass).
  secret_source password;
  /// Cap of the connect timeout the pool gives; 0: no cap.
  millis connect_timeout{0};
  /// The session's statement_timeout; 0: the server's own setting.
  millis statement_timeout{0};
  /// TCP keepalives (idle 0: off) and TCP_USER_TIMEOUT (0: the kernel's), so that a
  /// dead peer is noticed in seconds rather than in the kernel's two hours.
  int64_t keepalives_idle_s = 5;
  int64_t keepalives_interval_s = 2;
  int64_t keepalives_count = 3;
  millis tcp_user_timeout{10'000};
  /// Fail health (and connect) on a standby; 25006 on exec breaks the connection.
  bool require_primary = false;

  /// Every problem of a driver_config, at paths relative to it.
  static std::vector<config_problem> problems_of(const nlohmann::json& driver_config);
  /// The settings of a driver_config that `problems_of` accepted.
  static postgres_settings from_config(const nlohmann::json& driver_config);

  /// `given` capped by connect_timeout.
  millis connect_budget(millis given) const;
  /// The value of a target keyword; empty when it is not set.
  std::string target_value(const std::string& keyword) const;
  /// "127.0.0.1:5432/orders as app", for messages.
  std::string describe() const;
};

} // namespace custodian::drivers
