#pragma once
// The embedding facade: a runtime owns an actor system, the blocking executor for
// driver calls and the root of the supervision tree, and shuts all of it down
// explicitly and completely.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "actors/pool.hpp"
#include "actors/resource.hpp"
#include "messages/event.hpp"
#include "messages/event_bus_actor.hpp"
#include "messages/registry_actor.hpp"
#include "messages/resource_actor.hpp"
#include "messages/root_actor.hpp"
#include "messages/type_registry.hpp"
#include "runtime/scoped_lease.hpp"

namespace caf {
class actor;
class actor_system;
class actor_system_config;
} // namespace caf

namespace custodian {

class blocking_executor;

/// How idle scheduler threads wait for work: the trade-off between the latency of
/// a message from outside the actor system and the CPU an idle node burns
/// (figures in bench/README.md).
enum class scheduler_profile {
  /// A thread polls briefly, then sleeps until work arrives: low idle CPU, and
  /// messages from non-actor threads (the blocking facade) are picked up at once.
  wake_on_work,
  /// CAF's defaults: threads keep polling with short sleeps for a while. A thread
  /// that is not an actor waits up to a sleep period for every message.
  caf_polling,
};

struct runtime_config {
  /// CAF scheduler threads. CAF's default of max(cores, 4) is slower on 2 cores.
  std::size_t scheduler_threads = 2;
  scheduler_profile scheduler = scheduler_profile::wake_on_work;
  /// Upper bound of threads running blocking driver calls.
  std::size_t blocking_max_threads = 64;
  /// How long shutdown waits for resources to drain before stopping them.
  std::chrono::milliseconds shutdown_timeout{10'000};
};

/// Applies a scheduler profile to the config of an actor system.
void apply_scheduler_profile(caf::actor_system_config& cfg, scheduler_profile profile);

class runtime {
public:
  /// Owns an actor system configured from `cfg`.
  explicit runtime(runtime_config cfg = {});
  /// Joins the application's actor system, which must outlive the runtime. Its
  /// threads and scheduler are the application's (`scheduler_threads` and
  /// `scheduler` are ignored: see `apply_scheduler_profile`); its config should
  /// have `register_message_types` applied. Shutdown stops only what the runtime
  /// started.
  runtime(caf::actor_system& sys, runtime_config cfg = {});
  /// Shuts down if `shutdown` was not called.
  ~runtime();

  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  caf::actor_system& system();
  blocking_executor& executor();
  event_bus_actor events() const;
  /// The registry of the runtime's pools, for actor-native requests.
  registry_actor registry() const;

  /// Spawns a resource actor (state `created`) under the root supervisor.
  resource_actor add_resource(resource_config cfg);

  /// Adds a pool to the registry; it warms min_idle resources once every pool it
  /// depends on hard is active (acquires wait in line until then). Throws
  /// `lease_error` (`bad_config`) naming what is wrong: a taken name, an unknown
  /// dependency, a cycle.
  pool_actor add_pool(pool_config cfg);

  /// Adds pools that may depend on each other, validated as a whole: on a
  /// `bad_config` none of them is added. Returns their handles in order.
  std::vector<pool_actor> add_pools(std::vector<pool_config> cfgs);

  /// The pool named `name` as the registry has it, for actor-native requests;
  /// `lease_error`: `not_found` if there is none, `unavailable` if it ended.
  pool_actor pool(const std::string& name) const;

  /// Leases a resource of pool `name` for a thread that is not an actor, waiting up
  /// to `timeout` in line. Throws `lease_error`: `not_found` (no such pool),
  /// `timeout` (with the pool's last creation error, if any), `unavailable`
  /// (draining, shut down), `dependency_unavailable` (a hard dependency of the pool
  /// is down; the message names the root cause). Never call it from an actor: it
  /// blocks the thread.
  scoped_lease acquire(const std::string& name, std::chrono::milliseconds timeout);

  /// Adopts an actor of the application (a store, say) into the tree: it is
  /// stopped when the tree stops, after the pools have drained.
  void adopt(const caf::actor& helper);

  /// Calls `handler` with every batch of matching events, on a scheduler thread:
  /// keep it short. Returns the subscription id.
  uint64_t on_events(event_filter filter, std::function<void(const event_batch&)> handler);

  /// Drains every resource and pool, pools in reverse dependency order (bounded by
  /// `shutdown_timeout`), stops every actor,
  /// waits for them and for the blocking workers. Idempotent; the report of the
  /// first call is returned again.
  shutdown_report shutdown();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace custodian
