#pragma once
// The kafka driver's driver_config: its schema, librdkafka's own check of every
// property passed through, and the settings each producer is made from.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "drivers/config_schema.hpp"
#include "drivers/driver.hpp"
#include "drivers/secret_source.hpp"

namespace custodian::drivers {

struct kafka_settings {
  /// "host:port,host:port".
  std::string bootstrap_servers;
  /// Where an exec that names no topic produces; "" = every exec names one.
  std::string topic;
  /// librdkafka properties, passed through as they are (linger.ms, acks, ...).
  std::map<std::string, std::string> properties;
  /// Sets sasl.password at each connect (sasl_password_env / sasl_password_file,
  /// or an application's provider).
  secret_source sasl_password;
  /// librdkafka's message.timeout.ms: how long a message may wait for its
  /// delivery, retries included (librdkafka's own default is 5 minutes).
  millis delivery_timeout{10'000};

  /// Every problem of a driver_config, at paths relative to it; a property that
  /// librdkafka refuses is a problem at "properties.<name>".
  static std::vector<config_problem> problems_of(const nlohmann::json& driver_config);
  /// The settings of a driver_config; throws std::invalid_argument naming the
  /// first problem when it is not valid.
  static kafka_settings from_config(const nlohmann::json& driver_config);
};

/// Whether a librdkafka property holds a secret (sasl.password, ssl.key.password,
/// ssl.key.pem, ...): its value appears in no message of the driver.
bool is_secret_kafka_property(std::string_view name);

} // namespace custodian::drivers
