#pragma once
// What the node does when two configs of its pools meet: a running pool and its
// new config (unchanged, changed in place, or replaced rolling), the config file
// and the store at start (drift), a reloaded file or a restored backup and the
// pools that run. Plain C++ over canonical configs (runtime/config/config.hpp),
// tested without actors; the node carries the plans out.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "actors/dependency_graph.hpp"
#include "drivers/driver_catalog.hpp"

namespace custodian {

/// How a running pool takes a new config.
enum class config_change {
  unchanged,
  /// Applied in place: the same resources stay.
  hot,
  /// A new driver or driver_config: every resource is replaced, a few at a time.
  rolling,
};

/// "unchanged", "hot" or "rolling", as the API answers it.
std::string to_string(config_change how);

struct change_plan {
  config_change how = config_change::unchanged;
  /// The top-level keys that differ: those of the new config first, then those it
  /// lost, each in key order.
  std::vector<std::string> changed;
};

change_plan plan_change(const nlohmann::json& before, const nlohmann::json& after);

/// Where a running pool came from: "file" pools follow the config file on reload,
/// "api" pools stay until deleted.
enum class pool_origin { file, api };

/// A pool the node runs, as the plans see it: its canonical config and origin.
struct running_pool {
  nlohmann::json config;
  pool_origin origin = pool_origin::file;
};

using running_pools = std::map<std::string, running_pool>;

/// The dependencies a canonical config declares (`depends_on`).
std::vector<dependency> dependencies_of(const nlohmann::json& canonical);

/// What is wrong with the pools' dependencies once `changes` are made to
/// `running` (a new config, or nothing for a pool that goes): a dependency on a
/// pool that is not there, or a cycle. Nothing when the new shape is sound.
std::optional<std::string>
dependency_problem(const running_pools& running,
                   const std::map<std::string, std::optional<nlohmann::json>>& changes);

/// A pool's latest config as the store keeps it.
struct stored_pool {
  std::string name;
  uint32_t version = 0;
  /// JSON text; it may have been written by an older node, or damaged.
  std::string config;
};

/// The stored config and the file's disagree about a pool, or the stored config
/// of a pool no longer runs.
struct config_drift {
  std::string pool;
  std::string message;
};

struct start_plan {
  struct pool {
    nlohmann::json config;
    pool_origin origin = pool_origin::file;
    /// The stored version an API pool keeps; a file pool is stored anew.
    uint32_t version = 0;
  };
  /// The file's pools in its order, then the API pools of the store by name.
  std::vector<pool> pools;
  std::vector<config_drift> drift;
};

/// The pools to start from the config file's (valid, canonical) and the store's:
/// a file pool whose stored config differs starts with the file's unless
/// `prefer_stored` and the stored one is still valid; an API pool lives on if
/// its stored config is still valid.
start_plan plan_start(const std::vector<nlohmann::json>& file_pools,
                      const std::vector<stored_pool>& stored, bool prefer_stored,
                      const drivers::driver_catalog& drivers);

struct reload_plan {
  /// Pools of the file that do not run, by name.
  std::vector<nlohmann::json> create;
  /// Pools of the file that run, with the file's config, by name; the file takes
  /// over a pool created through the API.
  std::vector<nlohmann::json> update;
  /// Pools that came from the file and left it, by name.
  std::vector<std::string> remove;
  /// What is wrong with the dependencies afterwards: then nothing is done.
  std::optional<std::string> problem;
};

/// A reloaded config file's (valid, canonical) pools against those that run.
reload_plan plan_reload(const std::vector<nlohmann::json>& file_pools,
                        const running_pools& running);

/// What a restored backup does to one of its pools.
struct restore_step {
  enum kind_t { create, update, refuse };
  std::string pool;
  kind_t kind = refuse;
  /// Canonical, for create and update.
  nlohmann::json config;
  /// The restored version a created pool keeps.
  uint32_t version = 0;
  /// Why a refused pool's config cannot run: its first problem.
  std::string problem;
};

/// One step per restored pool, in the store's order.
std::vector<restore_step> plan_restore(const std::vector<stored_pool>& restored,
                                       const running_pools& running,
                                       const drivers::driver_catalog& drivers);

} // namespace custodian
