#pragma once
// The resource actor: one resource, one driver connection, one lifecycle state
// machine in which every state is a behaviour. Driver calls run on the blocking
// executor; the actor enforces their timeouts and stays responsive meanwhile.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "actors/backoff_schedule.hpp"
#include "messages/event_bus_actor.hpp"
#include "messages/resource_actor.hpp"

namespace caf {
class actor_system;
}

namespace custodian {

namespace drivers {
class connection;
class driver;
} // namespace drivers

class blocking_executor;

struct init_policy {
  /// Bound of one connect attempt; exceeding it fails the resource (recoverable).
  std::chrono::milliseconds timeout{5'000};
  /// Connect failures retried before the resource fails for good.
  uint32_t max_retries = 3;
  backoff_policy backoff;
};

/// The connection a resource holds, shown to lease holders in the same process so
/// that they can use the driver handle directly; empty while the resource has none.
class connection_view {
public:
  void show(std::shared_ptr<drivers::connection> conn) { conn_.store(std::move(conn)); }
  std::shared_ptr<drivers::connection> get() const { return conn_.load(); }

private:
  std::atomic<std::shared_ptr<drivers::connection>> conn_;
};

struct resource_config {
  std::string id;
  std::string pool;
  std::shared_ptr<drivers::driver> driver;
  init_policy init;
  /// Bound of ping, exec and reset.
  std::chrono::milliseconds operation_timeout{5'000};
  /// How long drain waits for the active driver call.
  std::chrono::milliseconds drain_timeout{30'000};
  /// Bound of close.
  std::chrono::milliseconds cleanup_timeout{5'000};
  /// Transitions kept in the history; older ones are dropped.
  std::size_t history_limit = 64;
  /// Seeds the backoff jitter; 0 derives the seed from `id`.
  uint64_t seed = 0;
  /// Where the resource shows its connection (pools set it); may be null.
  std::shared_ptr<connection_view> view;
};

/// What a resource actor needs from the runtime around it.
struct resource_context {
  std::shared_ptr<blocking_executor> executor;
  /// Receives every transition; may be a null handle (no events).
  event_bus_actor events;
};

/// Spawns a resource actor in state `created`. `cfg.driver` and `ctx.executor`
/// must be set.
resource_actor spawn_resource(caf::actor_system& sys, resource_config cfg, resource_context ctx);

} // namespace custodian
