#pragma once
// The script of a simulated resource: which calls fail, hang or throw. Scripts are
// deterministic: patterns cycle, counters are per resource id, nothing is random.

#include <array>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "drivers/driver.hpp"

namespace custodian::drivers {

enum class sim_op : uint8_t { connect, ping, exec, reset, close };
inline constexpr std::size_t sim_op_count = 5;

std::string to_string(sim_op op);

struct sim_script {
  /// The first N connects of each resource fail with `connect_error`.
  uint32_t fail_connects = 0;
  driver_errc connect_error = driver_errc::refused;
  /// How long each call blocks before it answers (0 = at once), per operation.
  std::array<millis, sim_op_count> hang{};
  /// Operations whose call throws instead of answering.
  std::array<bool, sim_op_count> throws{};
  /// Ping results, cycled per resource: '+' succeeds, '-' fails (broken). Empty = '+'.
  std::string ping_pattern;
  /// The sim's own health stage, run after each passed ping and cycled with the
  /// pings: '+' passes, '~' finds the connection degraded, '-' fails it. Empty = '+'.
  std::string check_pattern;
  /// Exec results, cycled per resource: '+' succeeds, '-' fails with `exec_error`.
  std::string exec_pattern;
  driver_errc exec_error = driver_errc::rejected;

  millis hang_of(sim_op op) const { return hang[static_cast<std::size_t>(op)]; }
  bool throws_on(sim_op op) const { return throws[static_cast<std::size_t>(op)]; }

  /// Reads a script such as
  /// {"fail_connects": 2, "connect_error": "auth", "hang_ms": {"connect": 500},
  ///  "throw_on": ["exec"], "ping_pattern": "++-", "check_pattern": "+~",
  ///  "exec_pattern": "+-",
  ///  "exec_error": "broken"}.
  /// Throws std::invalid_argument naming the offending key for unknown keys or bad values.
  static sim_script from_json(const nlohmann::json& j);
};

} // namespace custodian::drivers
