// What changes a node's pools: created, updated, resized, drained, deleted through
// the API, and the config file reloaded or a backup restored. Each change runs on
// the node's thread of changes (node_impl.hpp), after the one before it; what to
// do is planned by runtime/node/config_plan.hpp, carried out here.

#include <chrono>
#include <map>
#include <mutex>
#include <optional>

#include <caf/all.hpp>

#include "messages/state_store_actor.hpp"
#include "runtime/config/pool_from_json.hpp"
#include "runtime/node/node_impl.hpp"

namespace custodian {

using namespace std::chrono_literals;
using nlohmann::json;

// --- the parts of a change --------------------------------------------------------

pool_record node::impl::record_of(const json& canonical, pool_origin origin, uint32_t version) {
  return pool_record{canonical, make_pool_config(canonical, drivers), version, origin};
}

pool_record& node::impl::existing(const std::string& name) {
  auto i = pools.find(name);
  if (i == pools.end())
    throw no_pool(name);
  return i->second;
}

void node::impl::check_graph(const std::map<std::string, std::optional<json>>& changes) {
  if (auto wrong = dependency_problem(running(), changes))
    throw api_error(errc::bad_config, *wrong, "depends_on");
}

void node::impl::add(std::vector<pool_record> records) {
  std::vector<pool_config> cfgs;
  for (const auto& r : records)
    cfgs.push_back(r.cfg);
  std::vector<pool_actor> handles;
  try {
    handles = rt->add_pools(std::move(cfgs));
  } catch (const lease_error& e) {
    throw to_api_error(e);
  }
  {
    std::lock_guard<std::mutex> guard{pending_mtx};
    for (std::size_t i = 0; i < records.size(); ++i) {
      const auto& name = records[i].cfg.name;
      if (pending_quarantine.count(name) == 0)
        continue;
      pending_handles.emplace(name, handles[i]);
      if (active_early.count(name) > 0)
        send_pending_quarantine(name);
    }
  }
  std::lock_guard<std::mutex> guard{data_mtx};
  for (auto& r : records) {
    auto name = r.cfg.name;
    pools.insert_or_assign(name, std::move(r));
  }
}

json node::impl::apply(const std::string& name, const json& canonical, const std::string& source,
                       const requester& who) {
  auto& r = existing(name);
  auto plan = plan_change(r.config, canonical);
  if (plan.how == config_change::unchanged)
    return json{{"version", r.version}, {"applied", "unchanged"}, {"changed", json::array()}};
  auto cfg = make_pool_config(canonical, drivers);
  if (plan.how == config_change::hot)
    cfg.driver = r.cfg.driver; // the same resources stay
  ask<caf::ok_atom>(sys(), rt->registry(), ask_timeout, configure_atom::value,
                    std::make_shared<const pool_config>(cfg));
  auto version = store_version(name, canonical, source, who);
  {
    std::lock_guard<std::mutex> guard{data_mtx};
    r.cfg = std::move(cfg);
    r.config = canonical;
    r.version = version;
  }
  return json{{"version", version}, {"applied", to_string(plan.how)}, {"changed", plan.changed}};
}

json node::impl::remove(const std::string& name, bool force, const requester& who) {
  auto within = existing(name).cfg.drain_timeout + 2'000ms;
  auto drained = ask<bool>(sys(), rt->registry(), bounded(within + 5'000ms), remove_atom::value,
                           name, force, caf::timespan{within});
  config_version gone;
  gone.pool = name;
  gone.ts = caf::make_timestamp();
  gone.source = "api";
  gone.requester = who;
  gone.deleted = true;
  ask<uint32_t>(sys(), store, ask_timeout, caf::put_atom::value, std::move(gone));
  {
    std::lock_guard<std::mutex> guard{data_mtx};
    pools.erase(name);
  }
  return json{{"deleted", name}, {"drained", drained}, {"forced", !drained}};
}

json node::impl::validated(const json& config) {
  auto problems = validate_pool_config(config, "", drivers);
  if (!problems.empty())
    throw bad_config(std::move(problems));
  return canonical_pool_config(config);
}

// --- the API's changes ------------------------------------------------------------

nlohmann::json node::create_pool(const nlohmann::json& config, const requester& who) {
  auto& d = *impl_;
  d.refuse_while_stopping();
  auto canonical = d.validated(config);
  auto name = canonical.at("name").get<std::string>();
  return d.serially([&] {
    if (d.pools.count(name) > 0)
      throw api_error(errc::conflict, "a pool named " + name + " exists", "name");
    d.check_graph({{name, canonical}});
    auto version = d.store_version(name, canonical, "api", who);
    d.add({d.record_of(canonical, pool_origin::api, version)});
    d.audit(who, "create", name);
    return d.detail(name);
  });
}

nlohmann::json node::update_pool(const std::string& name, const nlohmann::json& patch,
                                 const requester& who) {
  auto& d = *impl_;
  d.refuse_while_stopping();
  if (!patch.is_object())
    throw api_error(errc::bad_request, "a merge patch must be a JSON object");
  return d.serially([&] {
    auto merged = d.existing(name).config;
    merged.merge_patch(patch);
    if (merged.value("name", json{}) != json(name))
      throw api_error(errc::bad_request, "a pool's name cannot change (it is " + name + ")",
                      "name");
    auto canonical = d.validated(merged);
    d.check_graph({{name, canonical}});
    auto out = d.apply(name, canonical, "api", who);
    d.audit(who, "update", name, json{{"changed", out.at("changed")}});
    return out;
  });
}

nlohmann::json node::delete_pool(const std::string& name, bool force, const requester& who) {
  auto& d = *impl_;
  d.refuse_while_stopping();
  return d.serially([&] {
    d.existing(name);
    auto out = d.remove(name, force, who);
    d.audit(who, "delete", name, json{{"force", force}, {"drained", out.at("drained")}});
    return out;
  });
}

nlohmann::json node::pool_action(const std::string& name, const std::string& action,
                                 const nlohmann::json& body, const requester& who) {
  auto& d = *impl_;
  d.refuse_while_stopping();
  return d.serially([&] {
    auto& r = d.existing(name);
    auto h = d.handle(name);
    if (action == "drain") {
      ask<pool_state>(d.sys(), h, bounded(r.cfg.drain_timeout + 5'000ms), drain_atom::value);
    } else if (action == "suspend") {
      ask<pool_state>(d.sys(), h, ask_timeout, suspend_atom::value);
    } else if (action == "resume") {
      ask<pool_state>(d.sys(), h, ask_timeout, resume_atom::value);
    } else if (action == "resize") {
      auto size = [&](const char* key, uint32_t current) {
        if (!body.contains(key))
          return current;
        const auto& v = body.at(key);
        if (!v.is_number_unsigned() || v.get<uint64_t>() > 1'000'000)
          throw api_error(errc::bad_request,
                          std::string{key} + " must be an integer in [0, 1000000]", key);
        return v.get<uint32_t>();
      };
      auto min_idle = size("min_idle", r.cfg.min_idle);
      auto max_size = size("max_size", r.cfg.max_size);
      ask<pool_stats>(d.sys(), h, ask_timeout, resize_atom::value, min_idle, max_size);
      // The stored config follows, so that a restart keeps the new sizes.
      auto canonical = r.config;
      canonical["min_idle"] = min_idle;
      canonical["max_size"] = max_size;
      auto version = d.store_version(name, canonical, "api", who);
      std::lock_guard<std::mutex> guard{d.data_mtx};
      r.cfg.min_idle = min_idle;
      r.cfg.max_size = max_size;
      r.config = canonical;
      r.version = version;
    } else {
      throw api_error(errc::not_found, "no pool action " + action, "action");
    }
    d.audit(who, action, name, body.is_object() ? body : json::object());
    return d.summary(name, d.standing_of(name), r.config);
  });
}

nlohmann::json node::reload(const requester& who) {
  auto& d = *impl_;
  d.refuse_while_stopping();
  auto loaded = load_node_config(d.opts.config_file, d.drivers);
  if (!loaded.config)
    throw bad_config(std::move(loaded.problems));
  return d.serially([&] {
    auto plan = plan_reload(loaded.config->pools, d.running());
    if (plan.problem)
      throw api_error(errc::bad_config, *plan.problem, "depends_on");
    auto results = json::array();
    std::vector<pool_record> created;
    for (const auto& c : plan.create) {
      auto name = c.at("name").get<std::string>();
      auto version = d.store_version(name, c, "reload", who);
      created.push_back(d.record_of(c, pool_origin::file, version));
      results.push_back(json{{"name", name}, {"applied", "created"}});
    }
    if (!created.empty())
      d.add(std::move(created));
    for (const auto& c : plan.update) {
      auto name = c.at("name").get<std::string>();
      {
        // The file takes over a pool created through the API.
        std::lock_guard<std::mutex> guard{d.data_mtx};
        d.existing(name).origin = pool_origin::file;
      }
      auto applied = d.apply(name, c, "reload", who);
      if (applied.at("applied") != "unchanged")
        results.push_back(json{{"name", name}, {"applied", applied.at("applied")}});
    }
    for (const auto& name : plan.remove) {
      try {
        d.remove(name, false, who);
        results.push_back(json{{"name", name}, {"applied", "deleted"}});
      } catch (const api_error& e) {
        results.push_back(json{{"name", name}, {"applied", "failed"}, {"error", e.what()}});
      }
    }
    d.audit(who, "reload", d.opts.config_file, json{{"pools", results}});
    return json{{"pools", results}};
  });
}

nlohmann::json node::restore(const nlohmann::json& backup, const requester& who) {
  auto& d = *impl_;
  d.refuse_while_stopping();
  if (!backup.is_object())
    throw api_error(errc::bad_request, "a backup is a JSON object");
  // Redacted secrets cannot come back: a config holding "<redacted>" is refused
  // by the store's validation of the document or ends up invalid below.
  return d.serially([&] {
    ask<caf::ok_atom>(d.sys(), d.store, ask_timeout, restore_atom::value, backup.dump());
    std::vector<stored_pool> restored;
    for (auto& v : ask<std::vector<config_version>>(d.sys(), d.store, ask_timeout,
                                                    caf::get_atom::value, config_atom::value))
      restored.push_back(stored_pool{v.pool, v.version, std::move(v.config)});
    auto results = json::array();
    std::vector<pool_record> created;
    for (const auto& step : plan_restore(restored, d.running(), d.drivers)) {
      if (step.kind == restore_step::refuse) {
        results.push_back(
          json{{"name", step.pool}, {"applied", "failed"}, {"error", step.problem}});
      } else if (step.kind == restore_step::create) {
        created.push_back(d.record_of(step.config, pool_origin::api, step.version));
        results.push_back(json{{"name", step.pool}, {"applied", "created"}});
      } else {
        auto applied = d.apply(step.pool, step.config, "restore", who);
        results.push_back(json{{"name", step.pool}, {"applied", applied.at("applied")}});
      }
    }
    if (!created.empty())
      d.add(std::move(created));
    d.audit(who, "restore", "backup", json{{"pools", results}});
    return json{{"restored", json{{"pools", results}}}};
  });
}

} // namespace custodian
