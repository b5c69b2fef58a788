#pragma once
// The drivers a node knows, by the name configs use: how to check a
// `driver_config` (every problem, at paths relative to it) and how to make a
// driver from a valid one. Plain C++, no CAF: the config validator and its fuzzer
// use it without an actor system.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "drivers/config_schema.hpp"
#include "drivers/driver.hpp"

namespace custodian::drivers {

/// One problem of a driver_config: its path relative to the driver_config
/// ("script.ping_pattern", "" for the driver_config itself) and why.
using driver_config_problem = config_problem;

struct driver_entry {
  /// Every problem of a driver_config; empty when it is valid.
  std::function<std::vector<driver_config_problem>(const nlohmann::json&)> validate;
  /// A driver for a driver_config that `validate` accepted.
  std::function<std::shared_ptr<driver>(const nlohmann::json&)> make;
};

class driver_catalog {
public:
  /// Registers `name`; registering it again replaces the entry.
  void add(const std::string& name, driver_entry entry);
  /// The entry of `name`, or null when no such driver is registered.
  const driver_entry* find(const std::string& name) const;
  /// The registered names, sorted.
  std::vector<std::string> names() const;

private:
  std::map<std::string, driver_entry> entries_;
};

/// The drivers built into Custodian: "sim".
driver_catalog builtin_drivers();

} // namespace custodian::drivers
