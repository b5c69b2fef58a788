#pragma once
// The `process` driver: each resource is a managed child process that speaks
// lines on stdin and stdout (a filter, a worker, a local service). connect starts
// it (its own process group, a minimal environment, no inherited descriptors),
// exec writes a line and reads one back, ping checks it is alive (and its health
// command or port), close stops it (SIGTERM, SIGKILL after the grace period) and
// reaps it. A child that exits or is killed fails its resource, and the pool
// starts a new one. docs/drivers.md ("process") has the keys and the errors.

#include <memory>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

#include <nlohmann/json.hpp>

#include "drivers/driver.hpp"
#include "drivers/process/child_process.hpp"
#include "drivers/process/line_channel.hpp"
#include "drivers/process/process_settings.hpp"

namespace custodian::drivers {

/// The child of a lease, for an application that talks to it itself: valid on
/// the holder's thread while it holds the lease. The descriptors are the parent's
/// non-blocking ends of the child's stdin and stdout (-1 once closed); lines read
/// past exec's buffer are the holder's to account for (output left unread when
/// the lease comes back is discarded by the pool's reset).
struct process_handle {
  pid_t pid = -1;
  int stdin_fd = -1;
  int stdout_fd = -1;
};

class process_connection final : public connection {
public:
  process_connection(std::unique_ptr<child_process> child,
                     std::shared_ptr<const process_settings> settings,
                     std::vector<std::string> env);

  process_handle native() const;

protected:
  bool do_alive() override;
  bool do_needs_reset() override;
  driver_status do_ping(millis timeout) override;
  driver_result<nlohmann::json> do_exec(const nlohmann::json& request, millis timeout) override;
  driver_status do_reset(millis timeout) override;
  driver_status do_close(millis timeout) override;

private:
  friend class process_driver;

  /// Reads lines until `wanted` comes within `budget` (what comes before is dropped).
  driver_status await_line(const std::string& wanted, millis budget);
  /// Why the child cannot serve: an earlier failure, or it ended.
  std::optional<driver_error> unusable();
  /// Records a failure of the child's pipes (it is out of step from now on),
  /// naming how the child ended when it did.
  driver_error failed(driver_error err, const deadline& until);
  /// "the child (pid 42)".
  std::string who() const;

  std::unique_ptr<child_process> child_;
  std::shared_ptr<const process_settings> settings_;
  /// The child's environment, for its health command.
  std::vector<std::string> env_;
  line_channel lines_;
  std::optional<driver_error> failure_;
};

class process_driver final : public driver {
public:
  explicit process_driver(process_settings settings);

  /// Every problem of a driver_config, at paths relative to it.
  static std::vector<config_problem> problems_of(const nlohmann::json& driver_config);
  /// The driver of a valid driver_config; std::invalid_argument naming the first
  /// problem otherwise.
  static std::shared_ptr<process_driver> from_config(const nlohmann::json& driver_config);

  std::string name() const override;

protected:
  driver_result<std::shared_ptr<connection>> do_connect(const std::string& resource_id,
                                                        millis timeout) override;

private:
  std::shared_ptr<const process_settings> settings_;
};

} // namespace custodian::drivers
