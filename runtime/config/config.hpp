#pragma once
// The node's JSON config (docs/config.md): parsed and validated whole, every
// problem named by its JSON path, defaults filled in from one table. No CAF here,
// so the validator, the admin server and the fuzzer need no actor system;
// runtime/config/pool_from_json.hpp turns a pool's canonical JSON into a pool_config.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "drivers/config_schema.hpp"
#include "drivers/driver_catalog.hpp"
#include "messages/store_kind.hpp"

namespace custodian {

/// "pools[2].max_size: must be ≥ min_idle (4)"; just the message at the root.
std::string to_string(const config_problem& problem);

struct admin_settings {
  std::string bind = "127.0.0.1";
  /// 0 = any free port (tests).
  uint16_t port = 8080;
  /// Name of the environment variable holding the bearer token; empty = no token.
  std::string token_env;
};

struct cluster_settings {
  /// 0 = the registry is not published.
  uint16_t port = 0;
  /// "host:port" of the nodes to connect to.
  std::vector<std::string> peers;
};

struct store_settings {
  store_kind kind = store_kind::sqlite;
  std::string path = "var/custodian.db";
};

std::string to_string(store_kind kind);

struct logging_settings {
  /// trace, debug, info, warn, error, critical or off.
  std::string level = "info";
  /// text or json.
  std::string format = "text";
};

struct node_config {
  std::string name = "custodian";
  admin_settings admin;
  cluster_settings cluster;
  store_settings store;
  logging_settings logging;
  /// Each pool's JSON, valid and canonical (see canonical_pool_config).
  std::vector<nlohmann::json> pools;
};

/// Either a config or the problems that keep it from being one (never both).
struct config_result {
  std::optional<node_config> config;
  std::vector<config_problem> problems;
};

/// Parses and validates a whole config; collects every problem.
config_result parse_node_config(std::string_view text, const drivers::driver_catalog& drivers);

/// parse_node_config on a file's contents; an unreadable file is one problem at
/// the root naming the file and the system's reason.
config_result load_node_config(const std::string& file, const drivers::driver_catalog& drivers);

/// Every problem of one pool's config (POST pools, PATCH, reload), with paths
/// under `prefix` ("pools[2]", or "" for a lone pool). Checks what one pool can
/// know: that its dependencies exist and form no cycle is checked with the others.
std::vector<config_problem> validate_pool_config(const nlohmann::json& pool,
                                                 const std::string& prefix,
                                                 const drivers::driver_catalog& drivers);

/// A valid pool's config with every key present, defaults filled in; sections
/// that are off (health, quarantine) are null. Keys are in nlohmann::json's order
/// (sorted), so equal configs dump equal. Only for configs that validate.
nlohmann::json canonical_pool_config(const nlohmann::json& valid_pool);

} // namespace custodian
