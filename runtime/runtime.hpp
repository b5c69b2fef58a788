#pragma once
// The embedding facade: a runtime owns an actor system, the blocking executor for
// driver calls and the root of the supervision tree, and shuts all of it down
// explicitly and completely.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "actors/pool.hpp"
#include "actors/resource.hpp"
#include "messages/event.hpp"
#include "messages/event_bus_actor.hpp"
#include "messages/resource_actor.hpp"
#include "messages/root_actor.hpp"

namespace caf {
class actor_system;
}

namespace custodian {

class blocking_executor;

struct runtime_config {
  /// CAF scheduler threads. CAF's default of max(cores, 4) is slower on 2 cores.
  std::size_t scheduler_threads = 2;
  /// Upper bound of threads running blocking driver calls.
  std::size_t blocking_max_threads = 64;
  /// How long shutdown waits for resources to drain before stopping them.
  std::chrono::milliseconds shutdown_timeout{10'000};
};

class runtime {
public:
  explicit runtime(runtime_config cfg = {});
  /// Shuts down if `shutdown` was not called.
  ~runtime();

  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  caf::actor_system& system();
  blocking_executor& executor();
  event_bus_actor events() const;

  /// Spawns a resource actor (state `created`) under the root supervisor.
  resource_actor add_resource(resource_config cfg);

  /// Spawns a pool under the root supervisor; it warms min_idle resources.
  pool_actor add_pool(pool_config cfg);

  /// Calls `handler` with every batch of matching events, on a scheduler thread:
  /// keep it short. Returns the subscription id.
  uint64_t on_events(event_filter filter, std::function<void(const event_batch&)> handler);

  /// Drains every resource (bounded by `shutdown_timeout`), stops every actor,
  /// waits for them and for the blocking workers. Idempotent; the report of the
  /// first call is returned again.
  shutdown_report shutdown();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace custodian
