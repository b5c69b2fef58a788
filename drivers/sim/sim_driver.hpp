#pragma once
// The `sim` driver: a deterministic simulated resource with scripted faults, for
// tests and the demo. It counts every open and close so tests can prove that
// nothing leaks.

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "drivers/driver.hpp"
#include "drivers/sim/sim_script.hpp"

namespace custodian::drivers {

struct sim_counters {
  uint64_t connect_attempts = 0;
  uint64_t opens = 0;
  uint64_t closes = 0;
  uint64_t pings = 0;
  uint64_t execs = 0;
  uint64_t resets = 0;
};

class sim_driver final : public driver, public std::enable_shared_from_this<sim_driver> {
public:
  explicit sim_driver(sim_script default_script = {});

  /// Reads {"script": {...}, "resources": {"<resource id>": {...}}}; both optional.
  /// Throws std::invalid_argument naming the offending key.
  static std::shared_ptr<sim_driver> from_config(const nlohmann::json& driver_config);

  std::string name() const override;

  /// Scripts one resource; takes effect at its next call.
  void set_script(const std::string& resource_id, sim_script script);
  /// Scripts every resource without a script of its own.
  void set_default_script(sim_script script);
  /// Ends every hang now and disables hangs from here on (tests, fast shutdown).
  void release_hangs();

  sim_counters counters() const;
  /// Connections opened and not yet closed.
  uint64_t open_connections() const;

protected:
  driver_result<std::shared_ptr<connection>> do_connect(const std::string& resource_id,
                                                        millis timeout) override;

private:
  friend class sim_connection;

  /// Per-resource call counts that drive the cycling patterns.
  struct resource_track {
    uint64_t connects = 0;
    uint64_t pings = 0;
    uint64_t execs = 0;
  };

  /// Applies the script of `resource_id` to one call: hangs, throws, and returns
  /// the call's index for this resource (for patterns).
  uint64_t begin_call(const std::string& resource_id, sim_op op, sim_script& script);

  mutable std::mutex mtx_;
  std::condition_variable hang_cv_;
  bool hangs_released_ = false;
  sim_script default_script_;
  std::map<std::string, sim_script> scripts_;
  std::map<std::string, resource_track> tracks_;
  sim_counters counters_;
};

} // namespace custodian::drivers
