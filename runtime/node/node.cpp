#include "runtime/node/node.hpp"

#include <algorithm>
#include <chrono>
#include <limits>
#include <map>
#include <mutex>
#include <optional>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/record_json.hpp"
#include "actors/state_store.hpp"
#include "drivers/secrets.hpp"
#include "messages/errors.hpp"
#include "messages/event_json.hpp"
#include "messages/state_store_actor.hpp"
#include "runtime/node/event_log.hpp"
#include "runtime/node/json_log.hpp"
#include "runtime/node/node_impl.hpp"
#include "runtime/node/node_views.hpp"
#include "runtime/node/prometheus_text.hpp"
#include "runtime/runtime.hpp"

namespace custodian {

namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr const char* version_text = CUSTODIAN_VERSION;

/// The pool a resource id belongs to: ids are "<pool>-<n>", and pool names may
/// hold '-', so the longest pool name that fits wins.
std::optional<std::string> pool_of_resource(const running_pools& pools, const std::string& id) {
  std::optional<std::string> best;
  for (const auto& [name, pool] : pools) {
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

class log_feed final : public event_feed {
public:
  log_feed(event_log& log, uint64_t id) : log_(log), id_(id) {}
  ~log_feed() override { log_.unlisten(id_); }

private:
  event_log& log_;
  uint64_t id_;
};

} // namespace

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

api_error no_pool(const std::string& name) {
  return api_error(errc::not_found, "no pool named " + name, "name");
}

config_rejected::config_rejected(std::vector<config_problem> problems)
    : std::runtime_error(problems.empty() ? "config rejected" : to_string(problems.front())),
      problems_(std::move(problems)) {}

// --- store ------------------------------------------------------------------------

uint32_t node::impl::store_version(const std::string& pool, const json& config,
                                   const std::string& source, const requester& who) {
  config_version v;
  v.pool = pool;
  v.ts = caf::make_timestamp();
  v.source = source;
  v.requester = who;
  v.config = config.dump();
  return ask<uint32_t>(sys(), store, ask_timeout, caf::put_atom::value, std::move(v));
}

void node::impl::audit(const requester& who, const std::string& action, const std::string& target,
                       json detail) {
  audit_record r;
  r.ts = caf::make_timestamp();
  r.requester = who;
  r.action = action;
  r.target = target;
  r.detail = drivers::redact_secrets(std::move(detail)).dump();
  ask<uint64_t>(sys(), store, ask_timeout, caf::put_atom::value, std::move(r));
}

// --- events -----------------------------------------------------------------------

/// Every event goes into the log; state changes go to the store in one
/// transaction per batch; a pool that became active gets its quarantines back.
void node::impl::on_events(const event_batch& batch) {
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

/// What the node did, in its log: resource transitions and leases at debug,
/// the rest (pool states, health, quarantine, drift) at info. Events carry no
/// secrets. The JSON log has the event's seq, kind, pool and resource as fields too.
void node::impl::log_event(const event& ev) {
  auto routine =
    ev.kind == "transition" || ev.kind == "lease_acquired" || ev.kind == "lease_released";
  auto level = routine ? spdlog::level::debug : spdlog::level::info;
  if (!spdlog::should_log(level))
    return;
  log_fields fields{ev.seq, ev.kind, ev.pool, ev.resource};
  log_context about{fields};
  auto subject = ev.resource.empty() ? ev.pool : ev.resource;
  auto change =
    ev.to.empty() ? std::string{} : " " + (ev.from.empty() ? "" : ev.from + " -> ") + ev.to;
  auto detail = ev.detail == "{}" ? std::string{} : " " + ev.detail;
  spdlog::log(level, "{} {}{}{}", ev.kind, subject, change, detail);
}

void node::impl::apply_pending_quarantine(const std::string& pool) {
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
void node::impl::send_pending_quarantine(const std::string& pool) {
  auto i = pending_quarantine.find(pool);
  auto h = pending_handles.find(pool);
  if (i == pending_quarantine.end() || h == pending_handles.end())
    return;
  for (const auto& r : i->second)
    caf::anon_send(h->second, quarantine_atom::value, r.resource, r.reason);
  pending_quarantine.erase(i);
  active_early.erase(pool);
}

void node::impl::publish_drift(const std::string& pool, const std::string& message) {
  {
    std::lock_guard<std::mutex> guard{data_mtx};
    drift.push_back(json{{"pool", pool}, {"message", message}});
  }
  spdlog::warn("config drift: pool {}: {}", pool, message);
  event ev;
  ev.ts = caf::make_timestamp();
  ev.kind = "config_drift";
  ev.pool = pool;
  ev.detail = json{{"message", message}}.dump();
  caf::anon_send(rt->events(), publish_atom::value, std::move(ev));
}

// --- reads ------------------------------------------------------------------------

running_pools node::impl::running() const {
  std::lock_guard<std::mutex> guard{data_mtx};
  running_pools out;
  for (const auto& [name, r] : pools)
    out.emplace(name, running_pool{r.config, r.origin});
  return out;
}

bool node::impl::known(const std::string& name) const {
  std::lock_guard<std::mutex> guard{data_mtx};
  return pools.count(name) > 0;
}

pool_actor node::impl::handle(const std::string& name) {
  try {
    return rt->pool(name);
  } catch (const lease_error& e) {
    throw to_api_error(e);
  }
}

json node::impl::summary(const std::string& name, const pool_summary& standing,
                         const json& config) {
  auto stats = ask<pool_stats>(sys(), handle(name), ask_timeout, stats_atom::value);
  return pool_summary_json(standing, stats, config);
}

std::vector<pool_summary> node::impl::standings() {
  return ask<std::vector<pool_summary>>(sys(), rt->registry(), ask_timeout, status_atom::value);
}

pool_summary node::impl::standing_of(const std::string& name) {
  for (auto& s : standings())
    if (s.name == name)
      return s;
  throw no_pool(name);
}

json node::impl::detail(const std::string& name) {
  json config;
  uint32_t version = 0;
  std::vector<std::string> dependants;
  std::optional<json> drifted;
  {
    std::lock_guard<std::mutex> guard{data_mtx};
    auto i = pools.find(name);
    if (i == pools.end())
      throw no_pool(name);
    config = i->second.config;
    version = i->second.version;
    for (const auto& [other, o] : pools)
      for (const auto& d : dependencies_of(o.config))
        if (d.pool == name)
          dependants.push_back(other);
    for (const auto& d : drift)
      if (d.at("pool") == name)
        drifted = d.at("message");
  }
  auto out = while_there(name, [&] {
    auto h = handle(name);
    auto stats = ask<pool_stats>(sys(), h, ask_timeout, stats_atom::value);
    auto resources =
      ask<std::vector<resource_summary>>(sys(), h, ask_timeout, resources_atom::value);
    auto quarantine =
      ask<std::vector<quarantine_entry>>(sys(), h, ask_timeout, quarantine_atom::value);
    return pool_detail_json(standing_of(name), stats, resources, quarantine,
                            drivers::redact_secrets(config), version, dependants);
  });
  if (!out)
    throw no_pool(name);
  if (drifted)
    (*out)["drift"] = *drifted;
  return *out;
}

// --- start ------------------------------------------------------------------------

void node::impl::start() {
  std::vector<stored_pool> stored;
  for (auto& v : ask<std::vector<config_version>>(sys(), store, ask_timeout, caf::get_atom::value,
                                                  config_atom::value))
    stored.push_back(stored_pool{v.pool, v.version, std::move(v.config)});
  auto plan = plan_start(cfg.pools, stored, opts.prefer_stored, drivers);
  for (const auto& d : plan.drift)
    publish_drift(d.pool, d.message);
  std::vector<pool_record> records;
  for (auto& p : plan.pools) {
    auto name = p.config.at("name").get<std::string>();
    auto version = p.origin == pool_origin::file
                     ? store_version(name, p.config, "file", "custodiand")
                     : p.version;
    records.push_back(record_of(p.config, p.origin, version));
  }
  auto quarantined = ask<std::vector<quarantine_record>>(
    sys(), store, ask_timeout, caf::get_atom::value, quarantine_atom::value);
  {
    std::lock_guard<std::mutex> guard{pending_mtx};
    for (auto& q : quarantined)
      if (q.by_hand)
        pending_quarantine[q.pool].push_back(std::move(q));
  }
  add(std::move(records));
}

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
  // Refuses what comes from now on; the change in flight ends first.
  d.stopping = true;
  return d.in_turn([&d] {
    if (!d.stopped) {
      // The runtime drains the pools in reverse dependency order, then stops the
      // store it adopted.
      auto report = d.rt->shutdown();
      d.stopped = node_shutdown{report.drained, report.forced};
    }
    return *d.stopped;
  });
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
  {
    std::lock_guard<std::mutex> guard{d.data_mtx};
    out["drift"] = d.drift;
  }
  auto bus = ask<event_bus_stats>(d.sys(), d.rt->events(), ask_timeout, stats_atom::value);
  out["events"] = json{{"last_seq", bus.last_seq}, {"dropped", bus.dropped}};
  return out;
}

nlohmann::json node::pools() {
  auto& d = *impl_;
  d.refuse_while_stopping();
  auto known = d.running();
  auto out = json::array();
  for (const auto& s : d.standings()) {
    auto i = known.find(s.name);
    if (i == known.end())
      continue;
    if (auto summary =
          d.while_there(s.name, [&] { return d.summary(s.name, s, i->second.config); }))
      out.push_back(std::move(*summary));
  }
  return json{{"pools", out}};
}

nlohmann::json node::pool(const std::string& name) {
  auto& d = *impl_;
  d.refuse_while_stopping();
  return d.detail(name);
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
  if (!d.known(pool))
    throw no_pool(pool);
  auto h = d.handle(pool);
  // The scoped actor holds the lease: if this thread gives up, the pool reclaims
  // it when the actor ends.
  caf::scoped_actor self{d.sys()};
  auto granted = blocking_ask<lease>(self, h, bounded(timeout + 1'000ms), acquire_atom::value,
                                     caf::timespan{timeout});
  if (!granted)
    throw to_api_error(granted.error());
  auto response = blocking_ask<std::string>(self, h, bounded(timeout + 1'000ms), exec_atom::value,
                                            granted->id, body.at("request").dump());
  self->send(h, return_atom::value, granted->id);
  d.audit(who, "exec", pool, json{{"resource", granted->resource}});
  if (!response)
    throw to_api_error(response.error());
  auto parsed = json::parse(*response, nullptr, false);
  return json{{"resource", granted->resource},
              {"response", parsed.is_discarded() ? json(*response) : parsed}};
}

nlohmann::json node::resource_action(const std::string& id, const std::string& action,
                                     const nlohmann::json& body, const requester& who) {
  auto& d = *impl_;
  d.refuse_while_stopping();
  auto pool = pool_of_resource(d.running(), id);
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

nlohmann::json node::audit_log(uint64_t since, std::size_t limit) {
  auto& d = *impl_;
  auto records = ask<std::vector<audit_record>>(
    d.sys(), d.store, ask_timeout, caf::get_atom::value, audit_atom::value, since,
    static_cast<uint32_t>(std::min<std::size_t>(limit, std::numeric_limits<uint32_t>::max())));
  auto list = json::array();
  for (const auto& r : records)
    list.push_back(audit_json(r));
  return json{{"audit", list}};
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

nlohmann::json node::backup() {
  auto& d = *impl_;
  return json::parse(ask<std::string>(d.sys(), d.store, ask_timeout, backup_atom::value));
}

std::string node::metrics() {
  auto& d = *impl_;
  d.refuse_while_stopping();
  std::vector<pool_metrics> all;
  for (const auto& [name, pool] : d.running()) {
    auto found = d.while_there(name, [&, &name = name] {
      auto h = d.handle(name);
      pool_metrics m;
      m.stats = ask<pool_stats>(d.sys(), h, ask_timeout, stats_atom::value);
      m.resources =
        ask<std::vector<resource_summary>>(d.sys(), h, ask_timeout, resources_atom::value);
      return m;
    });
    if (found)
      all.push_back(std::move(*found));
  }
  auto bus = ask<event_bus_stats>(d.sys(), d.rt->events(), ask_timeout, stats_atom::value);
  return prometheus_text(all, bus);
}

} // namespace custodian
