#pragma once
// The inside of a node (runtime/node/node.hpp), shared by the files that make it:
// node.cpp (start, events, reads, shutdown) and pool_changes.cpp (what changes the
// pools: the API, reload, restore).
//
// Threads: the admin server's threads call in at any time. The changes of pools
// run one at a time, in arrival order, on the node's thread of changes
// (`serially`): that thread alone writes `pools` and `drift`, under `data_mtx`,
// and reads them without it; every other thread reads them under `data_mtx`.
// No lock is held while the node asks an actor.

#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

#include <caf/all.hpp>

#include "actors/blocking_executor.hpp"
#include "messages/state_store_actor.hpp"
#include "runtime/blocking_ask.hpp"
#include "runtime/node/config_plan.hpp"
#include "runtime/node/event_log.hpp"
#include "runtime/node/node.hpp"
#include "runtime/runtime.hpp"

namespace custodian {

inline constexpr auto ask_timeout = std::chrono::seconds{10};

/// What an actor's error says to the API: its custodian code and message; a
/// request nobody answered in time is a timeout, anything else internal.
api_error to_api_error(const caf::error& err);
api_error to_api_error(const lease_error& e);
/// Every problem of a config, the first one in the message.
api_error bad_config(std::vector<config_problem> problems);
api_error no_pool(const std::string& name);

/// Asks an actor and waits (bounded) for its answer; errors become api_error.
template <class T, class Handle, class... Ts>
T ask(caf::actor_system& sys, const Handle& whom, caf::timespan within, Ts&&... xs) {
  auto answer = blocking_ask<T>(sys, whom, within, std::forward<Ts>(xs)...);
  if (!answer)
    throw to_api_error(answer.error());
  return std::move(*answer);
}

inline caf::timespan bounded(std::chrono::milliseconds ms) {
  return caf::timespan{ms};
}

/// One pool of the node: its canonical config, what it was built into (its driver
/// is kept across hot updates), its latest stored version and where it came from.
struct pool_record {
  nlohmann::json config;
  pool_config cfg;
  uint32_t version = 0;
  pool_origin origin = pool_origin::file;
};

struct node::impl {
  node_options opts;
  drivers::driver_catalog drivers;
  node_config cfg;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::unique_ptr<runtime> rt;
  state_store_actor store;
  event_log events;
  /// Guards `pools` and `drift`, and only them: never held while asking.
  mutable std::mutex data_mtx;
  std::map<std::string, pool_record> pools;
  std::vector<nlohmann::json> drift;
  /// Quarantines by hand from before a restart, applied when their pool is active,
  /// and the pools' handles for that. Its own lock, held briefly: the event
  /// handler runs on a scheduler thread.
  std::mutex pending_mtx;
  std::map<std::string, std::vector<quarantine_record>> pending_quarantine;
  std::map<std::string, pool_actor> pending_handles;
  /// Pools with pending quarantines that became active before add() kept their
  /// handle (the event can outrun add_pools' answer).
  std::set<std::string> active_early;
  std::atomic<bool> stopping{false};
  std::optional<node_shutdown> stopped;
  /// The thread of changes; last, so that it ends before the rest goes.
  thread_pool_executor changes{{1, 1}};

  caf::actor_system& sys() { return rt->system(); }

  void refuse_while_stopping() const {
    if (stopping)
      throw api_error(errc::unavailable, "the node is shutting down");
  }

  /// Runs `job` on the thread of changes after every job before it; returns what
  /// it returns or throws what it throws.
  template <class F>
  auto in_turn(F job) -> decltype(job()) {
    // Shared with the thread, which may still be leaving the task when the
    // result wakes this one.
    auto task = std::make_shared<std::packaged_task<decltype(job())()>>(std::move(job));
    auto result = task->get_future();
    changes.post([task] { (*task)(); });
    return result.get();
  }

  /// A change of pools, in turn; refused once the node shuts down (a change that
  /// waited behind the shutdown included).
  template <class F>
  auto serially(F change) -> decltype(change()) {
    return in_turn([this, &change] {
      refuse_while_stopping();
      return change();
    });
  }

  // --- store (node.cpp) -------------------------------------------------------------

  uint32_t store_version(const std::string& pool, const nlohmann::json& config,
                         const std::string& source, const requester& who);
  void audit(const requester& who, const std::string& action, const std::string& target,
             nlohmann::json detail = nlohmann::json::object());

  // --- events (node.cpp) ------------------------------------------------------------

  void on_events(const event_batch& batch);
  static void log_event(const event& ev);
  void apply_pending_quarantine(const std::string& pool);
  void send_pending_quarantine(const std::string& pool);
  void publish_drift(const std::string& pool, const std::string& message);

  // --- reads (node.cpp), from any thread ----------------------------------------------

  /// The pools' configs and origins as they are now.
  running_pools running() const;
  bool known(const std::string& name) const;
  pool_actor handle(const std::string& name);
  nlohmann::json summary(const std::string& name, const pool_summary& standing,
                         const nlohmann::json& config);
  std::vector<pool_summary> standings();
  pool_summary standing_of(const std::string& name);
  nlohmann::json detail(const std::string& name);

  /// What `read` finds out about pool `name`, or nothing if the pool was deleted
  /// meanwhile (a read of a pool being deleted fails however it fails).
  template <class F>
  std::optional<std::invoke_result_t<F>> while_there(const std::string& name, F read) {
    try {
      return read();
    } catch (const api_error&) {
      if (known(name))
        throw;
      return std::nullopt;
    }
  }

  // --- changes (pool_changes.cpp), on the thread of changes -------------------------

  pool_record record_of(const nlohmann::json& canonical, pool_origin origin, uint32_t version);
  pool_record& existing(const std::string& name);
  /// bad_config when the pools, once `changes` are made (nothing: removed), do not
  /// form a valid dependency graph.
  void check_graph(const std::map<std::string, std::optional<nlohmann::json>>& changes);
  /// Adds pools (validated and canonical) to the runtime as one batch.
  void add(std::vector<pool_record> records);
  /// Applies a new canonical config to a running pool; replies what was applied.
  nlohmann::json apply(const std::string& name, const nlohmann::json& canonical,
                       const std::string& source, const requester& who);
  nlohmann::json remove(const std::string& name, bool force, const requester& who);
  /// Validates a pool's config whole: bad_config with every problem.
  nlohmann::json validated(const nlohmann::json& config);

  // --- start (node.cpp) ---------------------------------------------------------------

  void start();
};

} // namespace custodian
