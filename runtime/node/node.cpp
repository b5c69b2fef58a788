#include "runtime/node/node.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <set>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/dependency_graph.hpp"
#include "actors/state_store.hpp"
#include "drivers/secrets.hpp"
#include "messages/errors.hpp"
#include "messages/event_json.hpp"
#include "messages/state_store_actor.hpp"
#include "runtime/blocking_ask.hpp"
#include "runtime/config/pool_from_json.hpp"
#include "runtime/node/event_log.hpp"
#include "runtime/node/node_views.hpp"
#include "runtime/node/prometheus_text.hpp"
#include "runtime/runtime.hpp"

namespace custodian {

namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr auto ask_timeout = std::chrono::seconds{10};
constexpr const char* version_text = CUSTODIAN_VERSION;

api_error to_api_error(const caf::error& err) {
  if (err.category() == error_category)
    return api_error(static_cast<errc>(err.code()), message_of(err));
  if (err == caf::sec::request_timeout)
    return api_error(errc::timeout, "the node did not answer in time");
  return api_error::internal(describe(err));
}

api_error to_api_error(const lease_error& e) {
  return api_error(e.code(), e.what());
}

api_error bad_config(std::vector<config_problem> problems) {
  std::vector<api_problem> listed;
  for (auto& p : problems)
    listed.push_back(api_problem{p.path, p.message});
  auto first = listed.empty() ? api_problem{} : listed.front();
  auto message = listed.size() == 1 ? to_string(problems.front())
                                    : std::to_string(listed.size()) +
                                        " problems, the first: " + to_string(problems.front());
  return api_error(errc::bad_config, message, first.path, std::move(listed));
}

/// Asks an actor and waits (bounded) for its answer; errors become api_error.
template <class T, class Handle, class... Ts>
T ask(caf::actor_system& sys, const Handle& whom, caf::timespan within, Ts&&... xs) {
  auto answer = blocking_ask<T>(sys, whom, within, std::forward<Ts>(xs)...);
  if (!answer)
    throw to_api_error(answer.error());
  return std::move(*answer);
}

caf::timespan bounded(std::chrono::milliseconds ms) {
  return caf::timespan{ms};
}

/// Top-level keys whose values differ between two canonical configs.
std::vector<std::string> changed_keys(const json& before, const json& after) {
  std::vector<std::string> keys;
  for (const auto& [key, value] : after.items())
    if (!before.contains(key) || before.at(key) != value)
      keys.push_back(key);
  for (const auto& [key, value] : before.items())
    if (!after.contains(key))
      keys.push_back(key);
  return keys;
}

bool needs_new_driver(const std::vector<std::string>& changed) {
  return std::any_of(changed.begin(), changed.end(),
                     [](const std::string& k) { return k == "driver" || k == "driver_config"; });
}

std::vector<dependency> dependencies_of(const json& canonical) {
  std::vector<dependency> deps;
  for (const auto& d : canonical.value("depends_on", json::array()))
    deps.push_back(dependency{d.at("pool").get<std::string>(), d.value("kind", "hard") == "soft"
                                                                 ? dependency_kind::soft
                                                                 : dependency_kind::hard});
  return deps;
}

/// The pool a resource id belongs to: ids are "<pool>-<n>", and pool names may
/// hold '-', so the longest pool name that fits wins.
std::optional<std::string> pool_of_resource(const std::vector<std::string>& pools,
                                            const std::string& id) {
  std::optional<std::string> best;
  for (const auto& name : pools) {
    if (id.size() <= name.size() + 1 || id.compare(0, name.size(), name) != 0 ||
        id[name.size()] != '-')
      continue;
    auto rest = id.substr(name.size() + 1);
    if (!std::all_of(rest.begin(), rest.end(), [](char c) { return c >= '0' && c <= '9'; }))
      continue;
    if (!best || name.size() > best->size())
      best = name;
  }
  return best;
}

} // namespace

config_rejected::config_rejected(std::vector<config_problem> problems)
    : std::runtime_error(problems.empty() ? "config rejected" : to_string(problems.front())),
      problems_(std::move(problems)) {}

// --- the node's state -------------------------------------------------------------

/// One pool of the node: its canonical config, what it was built into (its driver
/// is kept across hot updates), its latest stored version and where it came from.
struct pool_record {
  json config;
  pool_config cfg;
  uint32_t version = 0;
  /// "file" pools follow the config file on reload; "api" pools stay until deleted.
  std::string origin;
};

class log_feed final : public event_feed {
public:
  log_feed(event_log& log, uint64_t id) : log_(log), id_(id) {}
  ~log_feed() override { log_.unlisten(id_); }

private:
  event_log& log_;
  uint64_t id_;
};

struct node::impl {
  node_options opts;
  drivers::driver_catalog drivers;
  node_config cfg;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::unique_ptr<runtime> rt;
  state_store_actor store;
  event_log events;
  /// Serialises the changes of pools (API, reload, restore) and guards `pools`.
  std::mutex mtx;
  std::map<std::string, pool_record> pools;
  std::vector<json> drift;
  /// Quarantines by hand from before a restart, applied when their pool is active,
  /// and the pools' handles for that. Its own lock, held briefly: the event
  /// handler runs on a scheduler thread and must never wait for `mtx`.
  std::mutex pending_mtx;
  std::map<std::string, std::vector<quarantine_record>> pending_quarantine;
  std::map<std::string, pool_actor> pending_handles;
  /// Pools with pending quarantines that became active before add() kept their
  /// handle (the event can outrun add_pools' answer).
  std::set<std::string> active_early;
  std::atomic<bool> stopping{false};
  std::optional<node_shutdown> stopped;

  caf::actor_system& sys() { return rt->system(); }

  void refuse_while_stopping() const {
    if (stopping)
      throw api_error(errc::unavailable, "the node is shutting down");
  }

  // --- store ----------------------------------------------------------------------

  uint32_t store_version(const std::string& pool, const json& config, const std::string& source,
                         const requester& who) {
    config_version v;
    v.pool = pool;
    v.ts = caf::make_timestamp();
    v.source = source;
    v.requester = who;
    v.config = config.dump();
    return ask<uint32_t>(sys(), store, ask_timeout, caf::put_atom::value, std::move(v));
  }

  void audit(const requester& who, const std::string& action, const std::string& target,
             json detail = json::object()) {
    audit_record r;
    r.ts = caf::make_timestamp();
    r.requester = who;
    r.action = action;
    r.target = target;
    r.detail = drivers::redact_secrets(std::move(detail)).dump();
    ask<uint64_t>(sys(), store, ask_timeout, caf::put_atom::value, std::move(r));
  }

  // --- events ---------------------------------------------------------------------

  /// Every event goes into the log; state changes go to the store in one
  /// transaction per batch; a pool that became active gets its quarantines back.
  void on_events(const event_batch& batch) {
    state_updates updates;
    for (const auto& ev : batch.events) {
      log_event(ev);
      events.append(ev.seq, to_json_line(ev));
      if (ev.kind == "pool_transition") {
        updates.pools.push_back(pool_state_record{ev.pool, ev.to, "", ev.ts});
        if (ev.to == "active")
          apply_pending_quarantine(ev.pool);
      } else if (ev.kind == "pool_health") {
        updates.pools.push_back(pool_state_record{ev.pool, "", ev.to, ev.ts});
      } else if (ev.kind == "transition" && !ev.resource.empty()) {
        updates.resources.push_back(
          resource_state_record{ev.resource, ev.pool, ev.to, "", ev.ts, ev.to == "terminated"});
      } else if (ev.kind == "health" && !ev.resource.empty()) {
        updates.resources.push_back(
          resource_state_record{ev.resource, ev.pool, "", ev.to, ev.ts, false});
      }
    }
    if (!updates.pools.empty() || !updates.resources.empty())
      caf::anon_send(store, caf::put_atom::value, std::move(updates));
  }

  /// What the node did, in its log: resource transitions at debug, the rest
  /// (pool states, health, quarantine, drift) at info. Events carry no secrets.
  static void log_event(const event& ev) {
    auto level = ev.kind == "transition" ? spdlog::level::debug : spdlog::level::info;
    if (!spdlog::should_log(level))
      return;
    auto subject = ev.resource.empty() ? ev.pool : ev.resource;
    auto change =
      ev.to.empty() ? std::string{} : " " + (ev.from.empty() ? "" : ev.from + " -> ") + ev.to;
    auto detail = ev.detail == "{}" ? std::string{} : " " + ev.detail;
    spdlog::log(level, "{} {}{}{}", ev.kind, subject, change, detail);
  }

  void apply_pending_quarantine(const std::string& pool) {
    std::lock_guard<std::mutex> guard{pending_mtx};
    if (pending_handles.count(pool) == 0) {
      // Active before add() kept its handle: add() applies them.
      if (pending_quarantine.count(pool) > 0)
        active_early.insert(pool);
      return;
    }
    send_pending_quarantine(pool);
  }

  /// With pending_mtx held.
  void send_pending_quarantine(const std::string& pool) {
    auto i = pending_quarantine.find(pool);
    auto h = pending_handles.find(pool);
    if (i == pending_quarantine.end() || h == pending_handles.end())
      return;
    for (const auto& r : i->second)
      caf::anon_send(h->second, quarantine_atom::value, r.resource, r.reason);
    pending_quarantine.erase(i);
    active_early.erase(pool);
  }

  void publish_drift(const std::string& pool, const std::string& message) {
    drift.push_back(json{{"pool", pool}, {"message", message}});
    spdlog::warn("config drift: pool {}: {}", pool, message);
    event ev;
    ev.ts = caf::make_timestamp();
    ev.kind = "config_drift";
    ev.pool = pool;
    ev.detail = json{{"message", message}}.dump();
    caf::anon_send(rt->events(), publish_atom::value, std::move(ev));
  }

  // --- pools ----------------------------------------------------------------------

  pool_record record_of(const json& canonical, std::string origin, uint32_t version) {
    return pool_record{canonical, make_pool_config(canonical, drivers), version, std::move(origin)};
  }

  /// Checks that the pools, once `changes` are applied (null: removed), still form
  /// a valid dependency graph.
  void check_graph(const std::map<std::string, std::optional<json>>& changes) {
    dependency_graph graph;
    for (const auto& [name, r] : pools)
      if (changes.count(name) == 0)
        graph.add(name, dependencies_of(r.config));
    for (const auto& [name, c] : changes)
      if (c)
        graph.add(name, dependencies_of(*c));
    if (auto wrong = graph.validate())
      throw api_error(errc::bad_config, *wrong, "depends_on");
  }

  pool_actor handle(const std::string& name) {
    try {
      return rt->pool(name);
    } catch (const lease_error& e) {
      throw to_api_error(e);
    }
  }

  pool_record& existing(const std::string& name) {
    auto i = pools.find(name);
    if (i == pools.end())
      throw api_error(errc::not_found, "no pool named " + name, "name");
    return i->second;
  }

  json summary(const std::string& name, const pool_summary& standing) {
    auto stats = ask<pool_stats>(sys(), handle(name), ask_timeout, stats_atom::value);
    return pool_summary_json(standing, stats, pools.at(name).config);
  }

  std::vector<pool_summary> standings() {
    return ask<std::vector<pool_summary>>(sys(), rt->registry(), ask_timeout, status_atom::value);
  }

  pool_summary standing_of(const std::string& name) {
    for (auto& s : standings())
      if (s.name == name)
        return s;
    throw api_error(errc::not_found, "no pool named " + name, "name");
  }

  json detail(const std::string& name) {
    auto& r = existing(name);
    auto h = handle(name);
    auto stats = ask<pool_stats>(sys(), h, ask_timeout, stats_atom::value);
    auto resources =
      ask<std::vector<resource_summary>>(sys(), h, ask_timeout, resources_atom::value);
    auto quarantine =
      ask<std::vector<quarantine_entry>>(sys(), h, ask_timeout, quarantine_atom::value);
    std::vector<std::string> dependants;
    for (const auto& [other, o] : pools)
      for (const auto& d : dependencies_of(o.config))
        if (d.pool == name)
          dependants.push_back(other);
    auto out = pool_detail_json(standing_of(name), stats, resources, quarantine,
                                drivers::redact_secrets(r.config), r.version, dependants);
    for (const auto& d : drift)
      if (d.at("pool") == name)
        out["drift"] = d.at("message");
    return out;
  }

  /// Adds pools (validated and canonical) to the runtime as one batch.
  void add(std::vector<pool_record> records) {
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
    for (auto& r : records) {
      auto name = r.cfg.name;
      pools.insert_or_assign(name, std::move(r));
    }
  }

  /// Applies a new canonical config to a running pool; replies what was applied.
  json apply(const std::string& name, const json& canonical, const std::string& source,
             const requester& who) {
    auto& r = existing(name);
    auto changed = changed_keys(r.config, canonical);
    if (changed.empty())
      return json{{"version", r.version}, {"applied", "unchanged"}, {"changed", json::array()}};
    auto cfg = make_pool_config(canonical, drivers);
    auto rolling = needs_new_driver(changed);
    if (!rolling)
      cfg.driver = r.cfg.driver; // the same resources stay
    ask<caf::ok_atom>(sys(), rt->registry(), ask_timeout, configure_atom::value,
                      std::make_shared<const pool_config>(cfg));
    r.cfg = std::move(cfg);
    r.config = canonical;
    r.version = store_version(name, canonical, source, who);
    return json{
      {"version", r.version}, {"applied", rolling ? "rolling" : "hot"}, {"changed", changed}};
  }

  json remove(const std::string& name, bool force, const requester& who) {
    auto& r = existing(name);
    auto within = r.cfg.drain_timeout + 2'000ms;
    auto drained = ask<bool>(sys(), rt->registry(), bounded(within + 5'000ms), remove_atom::value,
                             name, force, caf::timespan{within});
    config_version gone;
    gone.pool = name;
    gone.ts = caf::make_timestamp();
    gone.source = "api";
    gone.requester = who;
    gone.deleted = true;
    ask<uint32_t>(sys(), store, ask_timeout, caf::put_atom::value, std::move(gone));
    pools.erase(name);
    return json{{"deleted", name}, {"drained", drained}, {"forced", !drained}};
  }

  /// Validates a pool's config whole: bad_config with every problem.
  json validated(const json& config, const std::string& prefix = "") {
    auto problems = validate_pool_config(config, prefix, drivers);
    if (!problems.empty())
      throw bad_config(std::move(problems));
    return canonical_pool_config(config);
  }

  // --- start ----------------------------------------------------------------------

  void start() {
    std::map<std::string, config_version> stored;
    for (auto& v : ask<std::vector<config_version>>(sys(), store, ask_timeout, caf::get_atom::value,
                                                    config_atom::value))
      stored.emplace(v.pool, std::move(v));
    std::vector<pool_record> records;
    for (const auto& file_pool : cfg.pools) {
      auto name = file_pool.at("name").get<std::string>();
      auto chosen = file_pool;
      auto kept = stored.find(name);
      if (kept != stored.end()) {
        auto was = json::parse(kept->second.config, nullptr, false);
        if (!was.is_discarded() && was != file_pool) {
          auto keys = changed_keys(was, file_pool);
          std::string listed;
          for (const auto& k : keys)
            listed += (listed.empty() ? "" : ", ") + k;
          auto usable = validate_pool_config(was, "", drivers).empty();
          auto stored_wins = opts.prefer_stored && usable;
          publish_drift(name, "the stored config (version " + std::to_string(kept->second.version) +
                                ") differs from the file in " + listed + "; the " +
                                (stored_wins ? "stored config" : "file") + " wins");
          if (stored_wins)
            chosen = canonical_pool_config(was);
        }
        stored.erase(kept);
      }
      auto version = store_version(name, chosen, "file", "custodiand");
      records.push_back(record_of(chosen, "file", version));
    }
    // Pools created through the API live on in the store.
    for (auto& [name, v] : stored) {
      auto was = json::parse(v.config, nullptr, false);
      if (was.is_discarded() || !validate_pool_config(was, "", drivers).empty()) {
        publish_drift(name, "the stored config is no longer valid; the pool is not started");
        continue;
      }
      records.push_back(record_of(canonical_pool_config(was), "api", v.version));
    }
    {
      std::lock_guard<std::mutex> guard{pending_mtx};
      for (auto& q : ask<std::vector<quarantine_record>>(
             sys(), store, ask_timeout, caf::get_atom::value, quarantine_atom::value))
        if (q.by_hand)
          pending_quarantine[q.pool].push_back(std::move(q));
    }
    std::lock_guard<std::mutex> guard{mtx};
    add(std::move(records));
  }
};

// --- node -------------------------------------------------------------------------

node::node(node_options opts, drivers::driver_catalog drivers) : impl_(std::make_unique<impl>()) {
  auto& d = *impl_;
  d.opts = std::move(opts);
  d.drivers = std::move(drivers);
  auto loaded = load_node_config(d.opts.config_file, d.drivers);
  if (!loaded.config)
    throw config_rejected(std::move(loaded.problems));
  d.cfg = std::move(*loaded.config);
  d.rt = std::make_unique<runtime>();
  state_store_config store_cfg;
  store_cfg.kind = d.cfg.store.kind;
  store_cfg.path = d.cfg.store.path;
  auto store = spawn_state_store(d.sys(), store_cfg);
  if (!store)
    throw std::runtime_error("store " + d.cfg.store.path + ": " + describe(store.error()));
  d.store = std::move(*store);
  // Stopped with the tree, after the pools: their last changes reach it.
  d.rt->adopt(caf::actor_cast<caf::actor>(d.store));
  event_filter everything;
  everything.capacity = 65'536;
  d.rt->on_events(everything, [&d](const event_batch& batch) { d.on_events(batch); });
  try {
    d.start();
  } catch (const api_error& e) {
    throw std::runtime_error(std::string{"starting the pools: "} + e.what());
  }
}

node::~node() {
  shutdown();
}

const node_config& node::config() const {
  return impl_->cfg;
}

node_shutdown node::shutdown() {
  auto& d = *impl_;
  std::lock_guard<std::mutex> guard{d.mtx};
  if (d.stopped)
    return *d.stopped;
  d.stopping = true;
  // The runtime drains the pools in reverse dependency order, then stops the
  // store it adopted.
  auto report = d.rt->shutdown();
  node_shutdown out{report.drained, report.forced};
  d.stopped = out;
  return out;
}

nlohmann::json node::readiness() {
  auto& d = *impl_;
  if (d.stopping)
    return json{{"ready", false}, {"reason", "shutting down"}};
  for (const auto& s : d.standings())
    if (s.state != pool_state::active && s.state != pool_state::scaling &&
        s.state != pool_state::suspended)
      return json{{"ready", false}, {"reason", "pool " + s.name + " is " + to_string(s.state)}};
  return json{{"ready", true}, {"reason", ""}};
}

nlohmann::json node::status() {
  auto& d = *impl_;
  d.refuse_while_stopping();
  auto out = json{{"node", d.cfg.name}, {"version", version_text}};
  out["uptime_s"] =
    std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - d.started)
      .count();
  out["ready"] = readiness().at("ready");
  out["pools"] = pools().at("pools");
  std::lock_guard<std::mutex> guard{d.mtx};
  out["drift"] = d.drift;
  auto bus = ask<event_bus_stats>(d.sys(), d.rt->events(), ask_timeout, stats_atom::value);
  out["events"] = json{{"last_seq", bus.last_seq}, {"dropped", bus.dropped}};
  return out;
}

nlohmann::json node::pools() {
  auto& d = *impl_;
  d.refuse_while_stopping();
  std::lock_guard<std::mutex> guard{d.mtx};
  auto out = json::array();
  for (const auto& s : d.standings())
    if (d.pools.count(s.name) > 0)
      out.push_back(d.summary(s.name, s));
  return json{{"pools", out}};
}

nlohmann::json node::pool(const std::string& name) {
  auto& d = *impl_;
  d.refuse_while_stopping();
  std::lock_guard<std::mutex> guard{d.mtx};
  return d.detail(name);
}

nlohmann::json node::create_pool(const nlohmann::json& config, const requester& who) {
  auto& d = *impl_;
  d.refuse_while_stopping();
  auto canonical = d.validated(config);
  auto name = canonical.at("name").get<std::string>();
  std::lock_guard<std::mutex> guard{d.mtx};
  if (d.pools.count(name) > 0)
    throw api_error(errc::conflict, "a pool named " + name + " exists", "name");
  d.check_graph({{name, canonical}});
  auto version = d.store_version(name, canonical, "api", who);
  d.add({d.record_of(canonical, "api", version)});
  d.audit(who, "create", name);
  return d.detail(name);
}

nlohmann::json node::update_pool(const std::string& name, const nlohmann::json& patch,
                                 const requester& who) {
  auto& d = *impl_;
  d.refuse_while_stopping();
  if (!patch.is_object())
    throw api_error(errc::bad_request, "a merge patch must be a JSON object");
  std::lock_guard<std::mutex> guard{d.mtx};
  auto merged = d.existing(name).config;
  merged.merge_patch(patch);
  if (merged.value("name", json{}) != json(name))
    throw api_error(errc::bad_request, "a pool's name cannot change (it is " + name + ")", "name");
  auto canonical = d.validated(merged);
  d.check_graph({{name, canonical}});
  auto out = d.apply(name, canonical, "api", who);
  d.audit(who, "update", name, json{{"changed", out.at("changed")}});
  return out;
}

nlohmann::json node::delete_pool(const std::string& name, bool force, const requester& who) {
  auto& d = *impl_;
  d.refuse_while_stopping();
  std::lock_guard<std::mutex> guard{d.mtx};
  d.existing(name);
  auto out = d.remove(name, force, who);
  d.audit(who, "delete", name, json{{"force", force}, {"drained", out.at("drained")}});
  return out;
}

nlohmann::json node::pool_action(const std::string& name, const std::string& action,
                                 const nlohmann::json& body, const requester& who) {
  auto& d = *impl_;
  d.refuse_while_stopping();
  std::lock_guard<std::mutex> guard{d.mtx};
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
        throw api_error(errc::bad_request, std::string{key} + " must be an integer in [0, 1000000]",
                        key);
      return v.get<uint32_t>();
    };
    auto min_idle = size("min_idle", r.cfg.min_idle);
    auto max_size = size("max_size", r.cfg.max_size);
    ask<pool_stats>(d.sys(), h, ask_timeout, resize_atom::value, min_idle, max_size);
    // The stored config follows, so that a restart keeps the new sizes.
    auto canonical = r.config;
    canonical["min_idle"] = min_idle;
    canonical["max_size"] = max_size;
    r.cfg.min_idle = min_idle;
    r.cfg.max_size = max_size;
    r.config = canonical;
    r.version = d.store_version(name, canonical, "api", who);
  } else {
    throw api_error(errc::not_found, "no pool action " + action, "action");
  }
  d.audit(who, action, name, body.is_object() ? body : json::object());
  return d.summary(name, d.standing_of(name));
}

nlohmann::json node::exec(const std::string& pool, const nlohmann::json& body,
                          const requester& who) {
  auto& d = *impl_;
  d.refuse_while_stopping();
  if (!body.is_object() || !body.contains("request"))
    throw api_error(errc::bad_request, "the body needs a \"request\" for the driver", "request");
  auto timeout = 5'000ms;
  if (body.contains("timeout_ms")) {
    if (!body.at("timeout_ms").is_number_unsigned() ||
        body.at("timeout_ms").get<uint64_t>() > 600'000)
      throw api_error(errc::bad_request, "timeout_ms must be an integer in [0, 600000]",
                      "timeout_ms");
    timeout = std::chrono::milliseconds{body.at("timeout_ms").get<uint64_t>()};
  }
  pool_actor h;
  {
    std::lock_guard<std::mutex> guard{d.mtx};
    d.existing(pool);
    h = d.handle(pool);
  }
  // The scoped actor holds the lease: if this thread gives up, the pool reclaims
  // it when the actor ends.
  caf::scoped_actor self{d.sys()};
  std::optional<lease> granted;
  caf::error failed;
  self->request(h, bounded(timeout + 1'000ms), acquire_atom::value, caf::timespan{timeout})
    .receive([&](lease& l) { granted = std::move(l); }, [&](caf::error& err) { failed = err; });
  if (!granted)
    throw to_api_error(failed);
  std::optional<std::string> response;
  self
    ->request(h, bounded(timeout + 1'000ms), exec_atom::value, granted->id,
              body.at("request").dump())
    .receive([&](std::string& r) { response = std::move(r); },
             [&](caf::error& err) { failed = err; });
  self->send(h, return_atom::value, granted->id);
  d.audit(who, "exec", pool, json{{"resource", granted->resource}});
  if (!response)
    throw to_api_error(failed);
  auto parsed = json::parse(*response, nullptr, false);
  return json{{"resource", granted->resource},
              {"response", parsed.is_discarded() ? json(*response) : parsed}};
}

nlohmann::json node::resource_action(const std::string& id, const std::string& action,
                                     const nlohmann::json& body, const requester& who) {
  auto& d = *impl_;
  d.refuse_while_stopping();
  std::lock_guard<std::mutex> guard{d.mtx};
  std::vector<std::string> names;
  for (const auto& [name, r] : d.pools)
    names.push_back(name);
  auto pool = pool_of_resource(names, id);
  if (!pool)
    throw api_error(errc::not_found, "no resource " + id, "id");
  auto h = d.handle(*pool);
  if (action == "quarantine") {
    auto reason = std::string{"quarantined by an operator"};
    if (body.is_object() && body.contains("reason")) {
      if (!body.at("reason").is_string())
        throw api_error(errc::bad_request, "reason must be a string", "reason");
      reason = body.at("reason").get<std::string>();
    }
    ask<caf::ok_atom>(d.sys(), h, ask_timeout, quarantine_atom::value, id, reason);
    quarantine_record q;
    q.resource = id;
    q.pool = *pool;
    q.reason = reason;
    q.by_hand = true;
    q.since = caf::make_timestamp();
    ask<caf::ok_atom>(d.sys(), d.store, ask_timeout, caf::put_atom::value, std::move(q));
  } else if (action == "release") {
    ask<caf::ok_atom>(d.sys(), h, ask_timeout, release_atom::value, id);
    ask<caf::ok_atom>(d.sys(), d.store, ask_timeout, release_atom::value, id);
  } else if (action == "maintain") {
    ask<caf::ok_atom>(d.sys(), h, ask_timeout, maintain_atom::value, id);
  } else {
    throw api_error(errc::not_found, "no resource action " + action, "action");
  }
  d.audit(who, action, id, body.is_object() ? body : json::object());
  return json{{"resource", id}, {"pool", *pool}, {"action", action}, {"ok", true}};
}

nlohmann::json node::events(uint64_t since, std::size_t limit) {
  auto page = impl_->events.since(since, limit);
  auto list = json::array();
  for (const auto& line : page.lines)
    list.push_back(json::parse(line));
  return json{{"events", list}, {"last_seq", page.last_seq}, {"oldest_seq", page.oldest_seq}};
}

std::unique_ptr<event_feed> node::follow_events(uint64_t since,
                                                std::function<void(const std::string&)> on_event) {
  auto& log = impl_->events;
  auto id = log.listen(since, std::move(on_event));
  return std::make_unique<log_feed>(log, id);
}

nlohmann::json node::config_history(const std::string& name) {
  auto& d = *impl_;
  auto versions =
    ask<std::vector<config_version>>(d.sys(), d.store, ask_timeout, history_atom::value, name);
  auto list = json::array();
  for (const auto& v : versions) {
    auto config =
      v.deleted ? json(nullptr) : drivers::redact_secrets(json::parse(v.config, nullptr, false));
    list.push_back(json{{"version", v.version},
                        {"ts", to_rfc3339(v.ts)},
                        {"source", v.source},
                        {"requester", v.requester},
                        {"deleted", v.deleted},
                        {"config", config}});
  }
  return json{{"pool", name}, {"versions", list}};
}

nlohmann::json node::reload(const requester& who) {
  auto& d = *impl_;
  d.refuse_while_stopping();
  auto loaded = load_node_config(d.opts.config_file, d.drivers);
  if (!loaded.config)
    throw bad_config(std::move(loaded.problems));
  std::lock_guard<std::mutex> guard{d.mtx};
  std::map<std::string, std::optional<json>> changes;
  for (const auto& p : loaded.config->pools)
    changes[p.at("name").get<std::string>()] = p;
  for (const auto& [name, r] : d.pools)
    if (r.origin == "file" && changes.count(name) == 0)
      changes[name] = std::nullopt;
  // The whole new shape is checked before anything changes.
  d.check_graph(changes);
  auto results = json::array();
  std::vector<pool_record> created;
  std::set<std::string> fresh;
  for (const auto& [name, c] : changes) {
    if (!c || d.pools.count(name) > 0)
      continue;
    auto version = d.store_version(name, *c, "reload", who);
    created.push_back(d.record_of(*c, "file", version));
    fresh.insert(name);
    results.push_back(json{{"name", name}, {"applied", "created"}});
  }
  if (!created.empty())
    d.add(std::move(created));
  for (const auto& [name, c] : changes) {
    if (!c || fresh.count(name) > 0)
      continue;
    auto& r = d.pools.at(name);
    r.origin = "file"; // the file takes over a pool created through the API
    auto applied = d.apply(name, *c, "reload", who);
    if (applied.at("applied") != "unchanged")
      results.push_back(json{{"name", name}, {"applied", applied.at("applied")}});
  }
  for (const auto& [name, c] : changes)
    if (!c) {
      try {
        d.remove(name, false, who);
        results.push_back(json{{"name", name}, {"applied", "deleted"}});
      } catch (const api_error& e) {
        results.push_back(json{{"name", name}, {"applied", "failed"}, {"error", e.what()}});
      }
    }
  d.audit(who, "reload", d.opts.config_file, json{{"pools", results}});
  return json{{"pools", results}};
}

nlohmann::json node::backup() {
  auto& d = *impl_;
  return json::parse(ask<std::string>(d.sys(), d.store, ask_timeout, backup_atom::value));
}

nlohmann::json node::restore(const nlohmann::json& backup, const requester& who) {
  auto& d = *impl_;
  d.refuse_while_stopping();
  if (!backup.is_object())
    throw api_error(errc::bad_request, "a backup is a JSON object");
  // Redacted secrets cannot come back: a config holding "<redacted>" is refused
  // by the store's validation of the document or ends up invalid below.
  std::lock_guard<std::mutex> guard{d.mtx};
  ask<caf::ok_atom>(d.sys(), d.store, ask_timeout, restore_atom::value, backup.dump());
  auto current = ask<std::vector<config_version>>(d.sys(), d.store, ask_timeout,
                                                  caf::get_atom::value, config_atom::value);
  auto results = json::array();
  std::vector<pool_record> created;
  for (const auto& v : current) {
    auto config = json::parse(v.config, nullptr, false);
    auto problems = config.is_discarded() ? std::vector<config_problem>{{"config", "not JSON"}}
                                          : validate_pool_config(config, "", d.drivers);
    if (!problems.empty()) {
      results.push_back(
        json{{"name", v.pool}, {"applied", "failed"}, {"error", to_string(problems.front())}});
      continue;
    }
    auto canonical = canonical_pool_config(config);
    if (d.pools.count(v.pool) == 0) {
      created.push_back(d.record_of(canonical, "api", v.version));
      results.push_back(json{{"name", v.pool}, {"applied", "created"}});
    } else {
      auto applied = d.apply(v.pool, canonical, "restore", who);
      results.push_back(json{{"name", v.pool}, {"applied", applied.at("applied")}});
    }
  }
  if (!created.empty())
    d.add(std::move(created));
  d.audit(who, "restore", "backup", json{{"pools", results}});
  return json{{"restored", json{{"pools", results}}}};
}

std::string node::metrics() {
  auto& d = *impl_;
  d.refuse_while_stopping();
  std::vector<pool_metrics> all;
  {
    std::lock_guard<std::mutex> guard{d.mtx};
    for (const auto& [name, r] : d.pools) {
      auto h = d.handle(name);
      pool_metrics m;
      m.stats = ask<pool_stats>(d.sys(), h, ask_timeout, stats_atom::value);
      m.resources =
        ask<std::vector<resource_summary>>(d.sys(), h, ask_timeout, resources_atom::value);
      all.push_back(std::move(m));
    }
  }
  auto bus = ask<event_bus_stats>(d.sys(), d.rt->events(), ask_timeout, stats_atom::value);
  return prometheus_text(all, bus);
}

} // namespace custodian
