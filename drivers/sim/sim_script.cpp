#include "drivers/sim/sim_script.hpp"

#include <stdexcept>

namespace custodian::drivers {

std::string to_string(sim_op op) {
  switch (op) {
  case sim_op::connect:
    return "connect";
  case sim_op::ping:
    return "ping";
  case sim_op::exec:
    return "exec";
  case sim_op::reset:
    return "reset";
  case sim_op::close:
    return "close";
  }
  return "unknown";
}

namespace {

[[noreturn]] void bad(const std::string& key, const std::string& why) {
  throw std::invalid_argument(key + ": " + why);
}

sim_op op_from(const std::string& key, const std::string& name) {
  for (std::size_t i = 0; i < sim_op_count; ++i)
    if (to_string(static_cast<sim_op>(i)) == name)
      return static_cast<sim_op>(i);
  bad(key, "unknown operation '" + name + "' (connect, ping, exec, reset, close)");
}

driver_errc errc_from(const std::string& key, const nlohmann::json& j) {
  if (!j.is_string())
    bad(key, "must be a string");
  for (auto code : {driver_errc::timeout, driver_errc::refused, driver_errc::auth,
                    driver_errc::broken, driver_errc::rejected, driver_errc::exception})
    if (to_string(code) == j.get<std::string>())
      return code;
  bad(key, "unknown driver error '" + j.get<std::string>() + "'");
}

std::string pattern_from(const std::string& key, const nlohmann::json& j,
                         const std::string& letters = "+-") {
  auto listed = "'" + std::string(1, letters[0]) + "'";
  for (std::size_t i = 1; i < letters.size(); ++i)
    listed += (i + 1 == letters.size() ? " and '" : ", '") + std::string(1, letters[i]) + "'";
  if (!j.is_string())
    bad(key, "must be a string of " + listed);
  auto pattern = j.get<std::string>();
  if (pattern.find_first_not_of(letters) != std::string::npos)
    bad(key, "must contain only " + listed);
  return pattern;
}

} // namespace

sim_script sim_script::from_json(const nlohmann::json& j) {
  if (!j.is_object())
    bad("script", "must be an object");
  sim_script s;
  for (const auto& [key, value] : j.items()) {
    if (key == "fail_connects") {
      if (!value.is_number_unsigned())
        bad(key, "must be a non-negative integer");
      s.fail_connects = value.get<uint32_t>();
    } else if (key == "connect_error") {
      s.connect_error = errc_from(key, value);
    } else if (key == "hang_ms") {
      if (!value.is_object())
        bad(key, "must be an object of operation -> milliseconds");
      for (const auto& [op, ms] : value.items()) {
        if (!ms.is_number_unsigned())
          bad(key + "." + op, "must be a non-negative integer");
        s.hang[static_cast<std::size_t>(op_from(key + "." + op, op))] = millis{ms.get<int64_t>()};
      }
    } else if (key == "throw_on") {
      if (!value.is_array())
        bad(key, "must be an array of operations");
      for (const auto& op : value) {
        if (!op.is_string())
          bad(key, "must be an array of operation names");
        s.throws[static_cast<std::size_t>(op_from(key, op.get<std::string>()))] = true;
      }
    } else if (key == "ping_pattern") {
      s.ping_pattern = pattern_from(key, value);
    } else if (key == "check_pattern") {
      s.check_pattern = pattern_from(key, value, "+~-");
    } else if (key == "exec_pattern") {
      s.exec_pattern = pattern_from(key, value);
    } else if (key == "exec_error") {
      s.exec_error = errc_from(key, value);
    } else {
      bad(key, "unknown key");
    }
  }
  return s;
}

} // namespace custodian::drivers
