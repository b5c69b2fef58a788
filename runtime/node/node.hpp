#pragma once
// A custodiand node: the runtime with the pools of its config file, the state
// store, the log of recent events, and the node_api its admin server calls. No
// CAF in this header: custodiand's main and the admin server include it cheaply.

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "drivers/driver_catalog.hpp"
#include "runtime/config/config.hpp"
#include "runtime/node/node_api.hpp"

namespace custodian {

struct node_options {
  std::string config_file;
  /// When the stored config of a pool differs from the file's (drift), the
  /// stored one wins; by default the file does.
  bool prefer_stored = false;
};

/// The config file was rejected: every problem, each with its JSON path.
class config_rejected : public std::runtime_error {
public:
  explicit config_rejected(std::vector<config_problem> problems);
  const std::vector<config_problem>& problems() const noexcept { return problems_; }

private:
  std::vector<config_problem> problems_;
};

/// How the node's pools and resources stopped: drained, or stopped when the
/// shutdown timeout ran out.
struct node_shutdown {
  uint64_t drained = 0;
  uint64_t forced = 0;
};

class node final : public node_api {
public:
  /// Loads the config file (config_rejected), opens the store and recovers from it
  /// (std::runtime_error naming what failed), and starts the pools: each warms
  /// once its hard dependencies are active.
  node(node_options opts, drivers::driver_catalog drivers);
  /// Shuts down if `shutdown` was not called.
  ~node() override;

  node(const node&) = delete;
  node& operator=(const node&) = delete;

  /// The config the node started with (its admin and logging settings).
  const node_config& config() const;

  /// Drains the pools in reverse dependency order within the runtime's shutdown
  /// timeout, then stops everything. Idempotent; requests made meanwhile are
  /// refused with `unavailable`.
  node_shutdown shutdown();

  nlohmann::json readiness() override;
  nlohmann::json status() override;
  nlohmann::json pools() override;
  nlohmann::json pool(const std::string& name) override;
  nlohmann::json create_pool(const nlohmann::json& config, const requester& who) override;
  nlohmann::json update_pool(const std::string& name, const nlohmann::json& patch,
                             const requester& who) override;
  nlohmann::json delete_pool(const std::string& name, bool force, const requester& who) override;
  nlohmann::json pool_action(const std::string& name, const std::string& action,
                             const nlohmann::json& body, const requester& who) override;
  nlohmann::json exec(const std::string& pool, const nlohmann::json& body,
                      const requester& who) override;
  nlohmann::json resource_action(const std::string& id, const std::string& action,
                                 const nlohmann::json& body, const requester& who) override;
  nlohmann::json events(uint64_t since, std::size_t limit) override;
  std::unique_ptr<event_feed>
  follow_events(uint64_t since, std::function<void(const std::string&)> on_event) override;
  nlohmann::json audit_log(uint64_t since, std::size_t limit) override;
  nlohmann::json config_history(const std::string& name) override;
  nlohmann::json reload(const requester& who) override;
  nlohmann::json backup() override;
  nlohmann::json restore(const nlohmann::json& backup, const requester& who) override;
  std::string metrics() override;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace custodian
