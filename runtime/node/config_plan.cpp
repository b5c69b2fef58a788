#include "runtime/node/config_plan.hpp"

#include <algorithm>

#include "runtime/config/config.hpp"

namespace custodian {

using nlohmann::json;

std::string to_string(config_change how) {
  switch (how) {
  case config_change::unchanged:
    return "unchanged";
  case config_change::hot:
    return "hot";
  case config_change::rolling:
    return "rolling";
  }
  return "unknown";
}

change_plan plan_change(const json& before, const json& after) {
  change_plan out;
  for (const auto& [key, value] : after.items())
    if (!before.contains(key) || before.at(key) != value)
      out.changed.push_back(key);
  for (const auto& [key, value] : before.items())
    if (!after.contains(key))
      out.changed.push_back(key);
  if (out.changed.empty())
    return out;
  auto new_driver = std::any_of(out.changed.begin(), out.changed.end(), [](const std::string& k) {
    return k == "driver" || k == "driver_config";
  });
  out.how = new_driver ? config_change::rolling : config_change::hot;
  return out;
}

std::vector<dependency> dependencies_of(const json& canonical) {
  std::vector<dependency> deps;
  for (const auto& d : canonical.value("depends_on", json::array()))
    deps.push_back(dependency{d.at("pool").get<std::string>(), d.value("kind", "hard") == "soft"
                                                                 ? dependency_kind::soft
                                                                 : dependency_kind::hard});
  return deps;
}

std::optional<std::string>
dependency_problem(const running_pools& running,
                   const std::map<std::string, std::optional<json>>& changes) {
  dependency_graph graph;
  for (const auto& [name, pool] : running)
    if (changes.count(name) == 0)
      graph.add(name, dependencies_of(pool.config));
  for (const auto& [name, config] : changes)
    if (config)
      graph.add(name, dependencies_of(*config));
  return graph.validate();
}

namespace {

/// A stored config that a pool can start with: parsed, valid, canonical.
std::optional<json> usable(const std::string& text, const drivers::driver_catalog& drivers) {
  auto config = json::parse(text, nullptr, false);
  if (config.is_discarded() || !validate_pool_config(config, "", drivers).empty())
    return std::nullopt;
  return canonical_pool_config(config);
}

std::string listed(const std::vector<std::string>& keys) {
  std::string out;
  for (const auto& k : keys)
    out += (out.empty() ? "" : ", ") + k;
  return out;
}

} // namespace

start_plan plan_start(const std::vector<json>& file_pools, const std::vector<stored_pool>& stored,
                      bool prefer_stored, const drivers::driver_catalog& drivers) {
  std::map<std::string, const stored_pool*> left;
  for (const auto& s : stored)
    left.emplace(s.name, &s);
  start_plan out;
  for (const auto& file_pool : file_pools) {
    auto name = file_pool.at("name").get<std::string>();
    auto chosen = file_pool;
    auto kept = left.find(name);
    if (kept != left.end()) {
      const auto& s = *kept->second;
      auto was = json::parse(s.config, nullptr, false);
      if (!was.is_discarded() && was != file_pool) {
        auto stored_config = usable(s.config, drivers);
        auto stored_wins = prefer_stored && stored_config;
        out.drift.push_back({name, "the stored config (version " + std::to_string(s.version) +
                                     ") differs from the file in " +
                                     listed(plan_change(was, file_pool).changed) + "; the " +
                                     (stored_wins ? "stored config" : "file") + " wins"});
        if (stored_wins)
          chosen = *stored_config;
      }
      left.erase(kept);
    }
    out.pools.push_back({std::move(chosen), pool_origin::file, 0});
  }
  // Pools created through the API live on in the store.
  for (const auto& [name, s] : left) {
    auto config = usable(s->config, drivers);
    if (!config) {
      out.drift.push_back({name, "the stored config is no longer valid; the pool is not started"});
      continue;
    }
    out.pools.push_back({std::move(*config), pool_origin::api, s->version});
  }
  return out;
}

reload_plan plan_reload(const std::vector<json>& file_pools, const running_pools& running) {
  std::map<std::string, std::optional<json>> changes;
  for (const auto& p : file_pools)
    changes[p.at("name").get<std::string>()] = p;
  for (const auto& [name, pool] : running)
    if (pool.origin == pool_origin::file && changes.count(name) == 0)
      changes[name] = std::nullopt;
  reload_plan out;
  // The whole new shape is checked before anything changes.
  out.problem = dependency_problem(running, changes);
  if (out.problem)
    return out;
  for (auto& [name, config] : changes) {
    if (!config)
      out.remove.push_back(name);
    else if (running.count(name) == 0)
      out.create.push_back(std::move(*config));
    else
      out.update.push_back(std::move(*config));
  }
  return out;
}

std::vector<restore_step> plan_restore(const std::vector<stored_pool>& restored,
                                       const running_pools& running,
                                       const drivers::driver_catalog& drivers) {
  std::vector<restore_step> out;
  for (const auto& s : restored) {
    restore_step step;
    step.pool = s.name;
    auto config = json::parse(s.config, nullptr, false);
    auto problems = config.is_discarded() ? std::vector<config_problem>{{"config", "not JSON"}}
                                          : validate_pool_config(config, "", drivers);
    if (!problems.empty()) {
      step.problem = to_string(problems.front());
      out.push_back(std::move(step));
      continue;
    }
    step.kind = running.count(s.name) == 0 ? restore_step::create : restore_step::update;
    step.config = canonical_pool_config(config);
    step.version = s.version;
    out.push_back(std::move(step));
  }
  return out;
}

} // namespace custodian
