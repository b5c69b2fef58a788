#include "actors/registry.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <caf/all.hpp>

#include "actors/dependency_graph.hpp"
#include "actors/pool.hpp"
#include "messages/errors.hpp"

namespace custodian {

namespace {

using registry_impl = registry_actor::extend<
  /// A pool's state or own health changed.
  caf::reacts_to<pool_report>>;

/// One pool, as the registry knows it.
struct entry {
  pool_actor handle;
  /// As the pool last reported them.
  pool_state state = pool_state::creating;
  pool_health health = pool_health::healthy;
  /// As the registry last told the pool.
  availability_notice notice;
  bool started = false;
  /// Its actor is gone: it counts as in error.
  bool ended = false;
  /// The registry's drain asked it to drain; then it drained or was stopped.
  bool draining = false;
  bool stopped = false;

  /// Nothing left to drain. A pool that ends while it drains is done once its
  /// drain request fails: it counts as forced.
  bool done() const { return stopped || (ended && !draining); }
};

/// A drain of every pool in progress.
struct drain_run {
  caf::typed_response_promise<drain_report> promise;
  drain_report report;
  caf::actor_clock::time_point deadline;
};

struct registry_state {
  static inline const char* name = "custodian.registry";

  resource_context ctx;
  dependency_graph graph;
  std::map<std::string, entry> pools;
  /// Set by the first drain: nothing is added or started from then on.
  bool stopping = false;
  std::optional<drain_run> drain;

  // Declared so that the state is no aggregate: CAF would build it from `self`.
  registry_state() = default;
  registry_state(const registry_state&) = delete;
  registry_state& operator=(const registry_state&) = delete;

  // Runs when the registry ends for any reason: its pools end with it.
  ~registry_state() {
    for (const auto& [name, e] : pools)
      if (!e.ended)
        caf::anon_send_exit(e.handle, caf::exit_reason::user_shutdown);
  }
};

using self_ptr = registry_impl::stateful_pointer<registry_state>;

caf::error registry_error(errc code, const std::string& what) {
  return make_error(code, "registry: " + what);
}

// --- the cascade ----------------------------------------------------------------

/// Computes every pool's availability from the pools' own health and tells each
/// pool whose availability changed.
void cascade(self_ptr self) {
  auto& st = self->state;
  if (st.stopping)
    return; // draining pools have no availability to keep
  std::map<std::string, pool_health> health;
  for (const auto& [name, e] : st.pools)
    health.emplace(name, e.ended ? pool_health::unhealthy : e.health);
  auto cascaded = st.graph.cascade(health);
  for (auto& [name, e] : st.pools) {
    availability_notice notice{cascaded.at(name), st.graph.explain(name, cascaded)};
    if (notice == e.notice)
      continue;
    e.notice = notice;
    if (!e.ended)
      self->send(e.handle, std::move(notice));
  }
}

/// Starts, in start order, every pool waiting whose hard dependencies are active.
void start_ready(self_ptr self) {
  auto& st = self->state;
  if (st.stopping)
    return;
  for (const auto& name : st.graph.start_order()) {
    auto& e = st.pools.at(name);
    if (e.started || e.ended)
      continue;
    auto deps = st.graph.dependencies(name);
    auto ready = std::all_of(deps.begin(), deps.end(), [&](const dependency& d) {
      return d.kind == dependency_kind::soft || st.pools.at(d.pool).state == pool_state::active;
    });
    if (!ready)
      continue;
    e.started = true;
    // Its reports say how the start goes; a pool that ended meanwhile is reported
    // by its down message.
    self->request(e.handle, caf::infinite, start_atom::value)
      .then([](pool_state) {}, [](caf::error&) {});
  }
}

void on_report(self_ptr self, const pool_report& report) {
  auto& st = self->state;
  auto i = st.pools.find(report.pool);
  if (i == st.pools.end() || i->second.ended)
    return;
  auto& e = i->second;
  auto health_changed = e.health != report.health;
  e.state = report.state;
  e.health = report.health;
  if (health_changed)
    cascade(self);
  if (report.state == pool_state::active)
    start_ready(self);
}

void on_pool_down(self_ptr self, const caf::down_msg& msg) {
  auto& st = self->state;
  for (auto& [name, e] : st.pools)
    if (e.handle.address() == msg.source) {
      e.ended = true;
      e.state = pool_state::error;
      e.health = pool_health::unhealthy;
      cascade(self);
      return;
    }
}

// --- adding -------------------------------------------------------------------------

/// Checks a batch against the pools already there; on success `graph` holds both.
caf::error check_batch(const registry_state& st, const std::vector<pool_config>& batch,
                       dependency_graph& graph) {
  std::set<std::string> names;
  for (const auto& c : batch) {
    if (c.name.empty())
      return registry_error(errc::bad_config, "a pool needs a name");
    if (st.pools.count(c.name) > 0 || !names.insert(c.name).second)
      return registry_error(errc::bad_config, "a pool named " + c.name + " exists");
    if (!(c.unhealthy_share > 0.0 && c.unhealthy_share <= 1.0))
      return registry_error(errc::bad_config, "pool " + c.name + ": unhealthy_share " +
                                                std::to_string(c.unhealthy_share) +
                                                " is not in (0, 1]");
    graph.add(c.name, c.depends_on);
  }
  if (auto wrong = graph.validate())
    return registry_error(errc::bad_config, *wrong);
  return {};
}

caf::result<std::vector<pool_actor>> add(self_ptr self, const pool_configs& batch) {
  auto& st = self->state;
  if (st.stopping)
    return registry_error(errc::unavailable, "stopping: no pool can be added");
  if (!batch)
    return registry_error(errc::bad_request, "no pools to add");
  auto graph = st.graph;
  if (auto err = check_batch(st, *batch, graph))
    return err;
  st.graph = std::move(graph);
  std::vector<pool_actor> handles;
  for (const auto& c : *batch) {
    auto handle = spawn_pool(self->system(), c, st.ctx, pool_start::on_request);
    self->monitor(handle);
    // Asked before its start (messages between two actors keep their order), so
    // the registry hears of every change from then on.
    self
      ->request(handle, caf::infinite, watch_atom::value, caf::actor_cast<pool_watcher_actor>(self))
      .then([self](const pool_report& report) { on_report(self, report); }, [](caf::error&) {});
    st.pools[c.name].handle = handle;
    handles.push_back(std::move(handle));
  }
  start_ready(self);
  return handles;
}

caf::result<pool_actor> find(self_ptr self, const std::string& name) {
  auto& st = self->state;
  auto i = st.pools.find(name);
  if (i == st.pools.end())
    return registry_error(errc::not_found, "no pool named " + name);
  if (i->second.ended)
    return registry_error(errc::unavailable, "pool " + name + " has ended");
  return i->second.handle;
}

std::vector<pool_summary> summaries(self_ptr self) {
  auto& st = self->state;
  std::vector<pool_summary> out;
  for (const auto& name : st.graph.start_order()) {
    const auto& e = st.pools.at(name);
    out.push_back(pool_summary{name, e.state, e.health, e.notice.now, e.notice.reason});
  }
  return out;
}

// --- changing pools at run time -----------------------------------------------------

void drain_next(self_ptr self);

caf::result<caf::ok_atom> configure(self_ptr self, const pool_update& update) {
  auto& st = self->state;
  if (!update)
    return registry_error(errc::bad_request, "no config to apply");
  auto i = st.pools.find(update->name);
  if (i == st.pools.end())
    return registry_error(errc::not_found, "no pool named " + update->name);
  if (i->second.ended)
    return registry_error(errc::unavailable, "pool " + update->name + " has ended");
  auto graph = st.graph;
  graph.add(update->name, update->depends_on);
  if (auto wrong = graph.validate())
    return registry_error(errc::bad_config, *wrong);
  st.graph = std::move(graph);
  cascade(self);
  start_ready(self);
  auto promise = self->make_response_promise<caf::ok_atom>();
  self->request(i->second.handle, caf::infinite, configure_atom::value, update)
    .then([promise](caf::ok_atom ok) mutable { promise.deliver(ok); },
          [promise](caf::error& err) mutable { promise.deliver(std::move(err)); });
  return promise;
}

/// Forgets a pool that was drained or stopped, and what its dependants made of it.
void forget(self_ptr self, const std::string& name) {
  auto& st = self->state;
  auto i = st.pools.find(name);
  if (i == st.pools.end())
    return;
  self->demonitor(i->second.handle.address());
  if (!i->second.ended)
    self->send_exit(i->second.handle, caf::exit_reason::user_shutdown);
  st.pools.erase(i);
  st.graph.remove(name);
  cascade(self);
  if (st.drain)
    drain_next(self); // the registry's drain may have waited for this one
}

caf::result<bool> remove(self_ptr self, const std::string& name, bool force, caf::timespan within) {
  auto& st = self->state;
  auto i = st.pools.find(name);
  if (i == st.pools.end())
    return registry_error(errc::not_found, "no pool named " + name);
  if (st.stopping)
    return registry_error(errc::unavailable, "stopping: pools are being drained");
  auto dependants = st.graph.dependants(name);
  if (!dependants.empty()) {
    std::string names;
    for (const auto& d : dependants)
      names += (names.empty() ? "" : ", ") + d;
    return registry_error(errc::conflict, "pool " + name + " is a dependency of " + names +
                                            ": change or remove them first");
  }
  if (force || i->second.ended) {
    forget(self, name);
    return false;
  }
  if (i->second.draining)
    return registry_error(errc::unavailable, "pool " + name + " is being removed");
  i->second.draining = true;
  auto promise = self->make_response_promise<bool>();
  self->request(i->second.handle, within, drain_atom::value)
    .then(
      [self, name, promise](pool_state) mutable {
        forget(self, name);
        promise.deliver(true);
      },
      [self, name, promise](caf::error&) mutable {
        forget(self, name);
        promise.deliver(false);
      });
  return promise;
}

// --- draining -----------------------------------------------------------------------

/// A pool of the drain is done: drained in time, or stopped.
void finish_pool(self_ptr self, const std::string& name, bool drained) {
  auto& st = self->state;
  auto& e = st.pools.at(name);
  e.stopped = true;
  if (!drained)
    self->send_exit(e.handle, caf::exit_reason::user_shutdown);
  auto& report = st.drain->report;
  (drained ? report.drained : report.forced).push_back(name);
}

/// Drains every pool whose dependants are all done, each bounded by what is left
/// of the deadline; replies once every pool is done.
void drain_next(self_ptr self) {
  auto& st = self->state;
  // Dependants come first in stop order, so a pool finished in this pass frees
  // what it depends on in the same pass.
  for (const auto& name : st.graph.stop_order()) {
    auto& e = st.pools.at(name);
    if (e.done() || e.draining)
      continue;
    auto dependants = st.graph.dependants(name);
    if (!std::all_of(dependants.begin(), dependants.end(),
                     [&](const std::string& d) { return st.pools.at(d).done(); }))
      continue;
    e.draining = true;
    auto left = st.drain->deadline - self->clock().now();
    if (e.state == pool_state::destroyed || left <= caf::timespan::zero()) {
      finish_pool(self, name, e.state == pool_state::destroyed);
      continue;
    }
    self->request(e.handle, left, drain_atom::value)
      .then(
        [self, name](pool_state) {
          finish_pool(self, name, true);
          drain_next(self);
        },
        [self, name](caf::error&) {
          finish_pool(self, name, false);
          drain_next(self);
        });
  }
  if (std::all_of(st.pools.begin(), st.pools.end(),
                  [](const auto& p) { return p.second.done(); })) {
    auto run = std::move(*st.drain);
    st.drain.reset();
    run.promise.deliver(std::move(run.report));
  }
}

caf::result<drain_report> drain(self_ptr self, caf::timespan within) {
  auto& st = self->state;
  if (st.drain)
    return registry_error(errc::unavailable, "a drain is in progress");
  st.stopping = true;
  st.drain.emplace();
  st.drain->promise = self->make_response_promise<drain_report>();
  st.drain->deadline = self->clock().now() + within;
  auto promise = st.drain->promise;
  drain_next(self);
  return promise;
}

registry_impl::behavior_type registry(self_ptr self, resource_context ctx) {
  self->state.ctx = std::move(ctx);
  self->set_down_handler([self](caf::down_msg& msg) { on_pool_down(self, msg); });
  return {
    [self](add_atom, const pool_configs& batch) { return add(self, batch); },
    [self](caf::get_atom, const std::string& name) { return find(self, name); },
    [self](status_atom) { return summaries(self); },
    [self](configure_atom, const pool_update& update) { return configure(self, update); },
    [self](remove_atom, const std::string& name, bool force, caf::timespan within) {
      return remove(self, name, force, within);
    },
    [self](drain_atom, caf::timespan within) { return drain(self, within); },
    [self](const pool_report& report) { on_report(self, report); },
  };
}

} // namespace

registry_actor spawn_registry(caf::actor_system& sys, resource_context ctx) {
  return sys.spawn(registry, std::move(ctx));
}

} // namespace custodian
