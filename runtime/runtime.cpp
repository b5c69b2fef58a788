#include "runtime/runtime.hpp"

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <stdexcept>
#include <thread>

#include <caf/all.hpp>

#include "actors/acquire_completion.hpp"
#include "actors/blocking_executor.hpp"
#include "actors/lease_shelf.hpp"
#include "actors/registry.hpp"
#include "actors/root_supervisor.hpp"
#include "drivers/driver.hpp"
#include "messages/errors.hpp"
#include "messages/type_registry.hpp"
#include "runtime/blocking_ask.hpp"

namespace custodian {

namespace {

class runtime_system_config : public caf::actor_system_config {
public:
  explicit runtime_system_config(const runtime_config& cfg) {
    register_message_types(*this);
    set("scheduler.max-threads", cfg.scheduler_threads);
    apply_scheduler_profile(*this, cfg.scheduler);
  }
};

/// Bound of the runtime's own requests to its actors (startup, subscriptions).
constexpr auto control_timeout = std::chrono::seconds{10};

/// An error as the facade throws it: with its code, `unavailable` if it has none.
lease_error to_lease_error(const caf::error& err) {
  auto code = err.category() == error_category ? static_cast<errc>(err.code()) : errc::unavailable;
  return lease_error(code, "custodian runtime: " + describe(err));
}

template <class T, class Handle, class... Ts>
T ask(caf::actor_system& sys, const Handle& dest, Ts&&... xs) {
  auto answer = blocking_ask<T>(sys, dest, control_timeout, std::forward<Ts>(xs)...);
  if (!answer)
    throw to_lease_error(answer.error());
  return std::move(*answer);
}

} // namespace

void apply_scheduler_profile(caf::actor_system_config& cfg, scheduler_profile profile) {
  if (profile == scheduler_profile::wake_on_work) {
    // Skip CAF's middle stage of sleep-polling: after a short spin an idle thread
    // waits on its condition variable, which any enqueue, also from outside the
    // actor system, signals.
    cfg.set("work-stealing.moderate-poll-attempts", 0);
    cfg.set("work-stealing.aggressive-poll-attempts", 5000);
  }
}

struct runtime::impl {
  runtime_config cfg;
  /// Set when the runtime owns its actor system; empty when it joined one.
  std::unique_ptr<runtime_system_config> sys_cfg;
  std::unique_ptr<caf::actor_system> owned_sys;
  caf::actor_system& sys;
  std::shared_ptr<thread_pool_executor> executor;
  root_actor root;
  event_bus_actor bus;
  registry_actor registry;
  std::optional<shutdown_report> report;
  /// A pool as the blocking acquire knows it: its handle, and the shelf where it
  /// lends idle resources to threads (null until its first answer brings it).
  struct known_pool {
    pool_actor actor;
    std::shared_ptr<lease_shelf> shelf;
  };
  /// Pools the registry gave out: the blocking acquire looks its pool up here
  /// instead of asking the registry (a round trip from a thread) every time. A
  /// pool keeps its handle for as long as it lives.
  /// Read on every acquire, by threads that must not wait for each other.
  mutable std::shared_mutex handles_mtx;
  mutable std::map<std::string, known_pool> handles;

  /// Owns an actor system made from `c`.
  explicit impl(runtime_config c) : impl(c, std::make_unique<runtime_system_config>(c)) {}

  /// Joins `joined`, which the application owns and keeps alive.
  impl(runtime_config c, caf::actor_system& joined) : impl(c, nullptr, &joined) {}

  impl(runtime_config c, std::unique_ptr<runtime_system_config> own_cfg,
       caf::actor_system* joined = nullptr)
      : cfg(c), sys_cfg(std::move(own_cfg)),
        owned_sys(sys_cfg ? std::make_unique<caf::actor_system>(*sys_cfg) : nullptr),
        sys(owned_sys ? *owned_sys : *joined),
        executor(std::make_shared<thread_pool_executor>(
          thread_pool_executor::options{1, cfg.blocking_max_threads, std::chrono::seconds{30}})),
        root(spawn_root_supervisor(sys)) {
    try {
      bus = ask<event_bus_actor>(sys, root, caf::get_atom::value);
      registry = spawn_registry(sys, resource_context{executor, bus});
      ask<caf::ok_atom>(sys, root, adopt_atom::value, registry);
    } catch (...) {
      // ~actor_system would wait forever for a live tree.
      caf::anon_send_exit(root, caf::exit_reason::user_shutdown);
      if (registry)
        caf::anon_send_exit(registry, caf::exit_reason::user_shutdown);
      wait_for_tree();
      throw;
    }
  }

  void remember(const std::string& name, const pool_actor& handle) const {
    std::unique_lock<std::shared_mutex> guard{handles_mtx};
    if (auto& known = handles[name]; known.actor != handle)
      known = {handle, nullptr};
  }

  void remember_shelf(const std::string& name, const pool_actor& handle,
                      std::shared_ptr<lease_shelf> shelf) const {
    std::unique_lock<std::shared_mutex> guard{handles_mtx};
    if (auto i = handles.find(name); i != handles.end() && i->second.actor == handle)
      i->second.shelf = std::move(shelf);
  }

  known_pool lookup(const std::string& name) const {
    {
      std::shared_lock<std::shared_mutex> guard{handles_mtx};
      if (auto i = handles.find(name); i != handles.end())
        return i->second;
    }
    auto found = ask<pool_actor>(sys, registry, caf::get_atom::value, name);
    remember(name, found);
    return {found, nullptr};
  }

  /// Waits until every actor of the tree has ended. An owned system waits for all
  /// of its actors; a joined one holds the application's too, so the runtime waits
  /// for its root and then for the actors the root took down with it.
  void wait_for_tree() {
    if (owned_sys) {
      sys.await_all_actors_done();
      return;
    }
    {
      caf::scoped_actor self{sys};
      self->wait_for(root);
    }
    // The pools, supervisors and resources end after the root; each holds the
    // executor until its state is gone, so the runtime's is the last reference.
    while (executor.use_count() > 1)
      std::this_thread::sleep_for(std::chrono::milliseconds{1});
  }
};

runtime::runtime(runtime_config cfg) : impl_(std::make_unique<impl>(cfg)) {}

runtime::runtime(caf::actor_system& sys, runtime_config cfg)
    : impl_(std::make_unique<impl>(cfg, sys)) {}

runtime::~runtime() {
  shutdown();
}

caf::actor_system& runtime::system() {
  return impl_->sys;
}

blocking_executor& runtime::executor() {
  return *impl_->executor;
}

event_bus_actor runtime::events() const {
  return impl_->bus;
}

registry_actor runtime::registry() const {
  return impl_->registry;
}

resource_actor runtime::add_resource(resource_config cfg) {
  if (impl_->report)
    throw std::logic_error("custodian runtime: add_resource after shutdown");
  auto res =
    spawn_resource(impl_->sys, std::move(cfg), resource_context{impl_->executor, impl_->bus});
  ask<caf::ok_atom>(impl_->sys, impl_->root, adopt_atom::value, res);
  return res;
}

pool_actor runtime::add_pool(pool_config cfg) {
  std::vector<pool_config> one;
  one.push_back(std::move(cfg));
  return add_pools(std::move(one)).front();
}

std::vector<pool_actor> runtime::add_pools(std::vector<pool_config> cfgs) {
  if (impl_->report)
    throw std::logic_error("custodian runtime: add_pool after shutdown");
  std::vector<std::string> names;
  for (const auto& c : cfgs)
    names.push_back(c.name);
  auto added =
    ask<std::vector<pool_actor>>(impl_->sys, impl_->registry, add_atom::value,
                                 std::make_shared<const std::vector<pool_config>>(std::move(cfgs)));
  for (std::size_t i = 0; i < added.size(); ++i)
    impl_->remember(names[i], added[i]);
  return added;
}

pool_actor runtime::pool(const std::string& name) const {
  auto found = ask<pool_actor>(impl_->sys, impl_->registry, caf::get_atom::value, name);
  impl_->remember(name, found);
  return found;
}

namespace {

/// An idle resource from the pool's shelf, without a message (the one this thread
/// put back last if it is there): one whose connection died while idle is
/// reported to the pool and the next one tried.
std::optional<scoped_lease> take_from_shelf(const pool_actor& pool,
                                            const std::shared_ptr<lease_shelf>& shelf) {
  while (auto item = shelf->take(scoped_lease::put_back_last(*shelf))) {
    if (item->conn->alive())
      return scoped_lease{pool, std::move(item->granted), std::move(item->conn), shelf};
    shelf->forget(item->granted.id, true);
    caf::anon_send(pool, fail_atom::value, item->granted.id,
                   std::string{"its connection was closed while idle"});
  }
  return std::nullopt;
}

} // namespace

scoped_lease runtime::acquire(const std::string& name, std::chrono::milliseconds timeout) {
  auto known = impl_->lookup(name);
  if (known.shelf)
    if (auto taken = take_from_shelf(known.actor, known.shelf))
      return std::move(*taken);
  auto& target = known.actor;
  static thread_local const std::string thread_name =
    thread_holder_name(std::this_thread::get_id());
  auto slot = std::make_shared<acquire_slot>();
  caf::anon_send(target, acquire_atom::value, caf::timespan{timeout},
                 std::make_shared<acquire_completion>(slot, thread_name));
  // The pool answers by the deadline, or its completion reports it gone.
  slot->wait();
  if (!slot->ok())
    throw to_lease_error(slot->error());
  if (!known.shelf && slot->shelf())
    impl_->remember_shelf(name, target, std::move(slot->shelf()));
  return scoped_lease{std::move(target), std::move(slot->granted()), std::move(slot->connection())};
}

void runtime::adopt(const caf::actor& helper) {
  ask<caf::ok_atom>(impl_->sys, impl_->root, adopt_atom::value, helper);
}

uint64_t runtime::on_events(event_filter filter, std::function<void(const event_batch&)> handler) {
  auto bus = impl_->bus;
  auto sink =
    impl_->sys.spawn([bus, handler = std::move(handler)](
                       event_sink_actor::pointer self) -> event_sink_actor::behavior_type {
      return {[=](const event_batch& batch) {
        handler(batch);
        self->send(bus, ack_atom::value, batch.subscription);
      }};
    });
  ask<caf::ok_atom>(impl_->sys, impl_->root, adopt_atom::value, caf::actor_cast<caf::actor>(sink));
  return ask<uint64_t>(impl_->sys, bus, subscribe_atom::value, std::move(filter), sink);
}

shutdown_report runtime::shutdown() {
  auto& d = *impl_;
  if (d.report)
    return *d.report;
  auto deadline = caf::timespan{d.cfg.shutdown_timeout};
  // The root spends at most `deadline` draining and `deadline` flushing events.
  auto answer = blocking_ask<shutdown_report>(d.sys, d.root, 2 * deadline + std::chrono::seconds{1},
                                              shutdown_atom::value, deadline);
  shutdown_report report;
  if (answer)
    report = *answer;
  else // the root did not answer in time: stop the tree without draining
    caf::anon_send_exit(d.root, caf::exit_reason::user_shutdown);
  d.wait_for_tree();
  // Resource states posted the close of every handle they still held.
  d.executor->drain();
  d.report = report;
  return report;
}

} // namespace custodian
