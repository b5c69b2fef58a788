#pragma once
// The process driver's driver_config: its schema (every problem at its JSON
// path, defaults from the schema) and the settings read from a valid one.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "drivers/config_schema.hpp"
#include "drivers/driver.hpp"

namespace custodian::drivers {

/// A valid driver_config, read (the defaults are the schema's).
struct process_settings {
  struct health_check {
    std::string command; ///< empty: the port is probed
    std::vector<std::string> args;
    uint16_t tcp_port = 0;
  };

  std::string command;
  std::vector<std::string> args;
  /// Added to the variables of `inherit_env`, replacing them.
  std::map<std::string, std::string> env;
  /// Variables the child gets from the node's environment, when set there.
  std::vector<std::string> inherit_env;
  std::string cwd;
  std::string stderr_path;
  millis stop_grace{0};
  /// Caps exec's timeout; 0 = exec's timeout only.
  millis line_timeout{0};
  std::size_t max_line_bytes = 0;
  /// A line the child prints when it is ready; empty = ready once started.
  std::string startup_line;
  std::optional<health_check> health;
};

/// Every problem of a process driver_config, at paths relative to it.
std::vector<config_problem> process_config_problems(const nlohmann::json& driver_config);

/// The settings of a driver_config that `process_config_problems` accepted, with
/// the defaults filled in.
process_settings read_process_settings(const nlohmann::json& driver_config);

} // namespace custodian::drivers
