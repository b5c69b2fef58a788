#include "actors/resource.hpp"

#include <array>
#include <atomic>
#include <functional>
#include <optional>
#include <random>
#include <utility>
#include <vector>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "actors/blocking_executor.hpp"
#include "actors/bounded_history.hpp"
#include "actors/transition_table.hpp"
#include "drivers/driver.hpp"
#include "messages/errors.hpp"

namespace custodian {

namespace {

// Messages the actor sends itself or receives from its blocking workers; not part
// of the public interface.
using done_atom = caf::atom_constant<caf::atom("done")>;
using expire_atom = caf::atom_constant<caf::atom("expire")>;
using retry_atom = caf::atom_constant<caf::atom("retry")>;

using resource_impl = resource_actor::extend<
  /// The driver call with this id has finished; its outcome is in the ticket.
  caf::reacts_to<done_atom, uint64_t>,
  /// The deadline of the driver call with this id has passed.
  caf::reacts_to<expire_atom, uint64_t>,
  /// The backoff before the connect retry with this id has elapsed.
  caf::reacts_to<retry_atom, uint64_t>>;

/// Shared by the actor and the blocking worker running one driver call. Whoever
/// moves it out of `pending` owns the outcome: the worker (`completed`, then it
/// tells the actor) or the actor (`abandoned` on timeout, then the worker disposes
/// of what the call produced).
struct call_ticket {
  enum : int { pending, completed, abandoned };
  std::atomic<int> phase{pending};
  // Written by the worker before it completes the ticket.
  std::optional<drivers::driver_error> error;
  std::shared_ptr<drivers::connection> opened;
  nlohmann::json response;
  drivers::probe_result probe;

  bool claim(int outcome) {
    int expected = pending;
    return phase.compare_exchange_strong(expected, outcome);
  }
};

using ticket_ptr = std::shared_ptr<call_ticket>;

/// The driver call in flight and what to do with its outcome.
struct active_call {
  uint64_t id = 0;
  ticket_ptr ticket;
  std::function<void(call_ticket&)> on_done;
  std::function<void()> on_timeout;
};

/// Closes a connection on a blocking worker; the actor never blocks on a close.
void retire(blocking_executor& executor, std::shared_ptr<drivers::connection> conn,
            std::chrono::milliseconds timeout) {
  if (conn)
    executor.post([conn = std::move(conn), timeout] { conn->close(timeout); });
}

struct resource_state {
  static inline const char* name = "custodian.resource";

  resource_config cfg;
  resource_context ctx;
  lifecycle_state state = lifecycle_state::created;
  bool recoverable = false;
  std::shared_ptr<drivers::connection> conn;
  bounded_history<transition_record> history;
  std::string last_error;
  uint32_t init_attempts = 0;
  uint64_t next_id = 1;
  std::optional<active_call> call;
  /// Id of the pending connect retry; retries with another id are stale.
  uint64_t retry_id = 0;
  /// The initialize, maintain or drain request waiting for the current state's end.
  caf::typed_response_promise<lifecycle_state> pending_reply;
  /// A maintain that came while a call (a health probe) ran: it starts when the
  /// call ends, and answers `pending_reply`.
  bool maintain_after_call = false;
  /// In `in_use`: the lease a pool lent it on (0 when a holder acquired it
  /// directly) and who holds it.
  lease_note lease;
  /// Draws backoff jitter; small on purpose (a Mersenne twister is 2.5 KB per resource).
  std::minstd_rand rng;
  /// The behaviours of the hot path (available, in use), built on first use and
  /// reused by every later `become`; the others are built when entered, so that an
  /// idle resource keeps two, not five.
  std::array<std::optional<resource_impl::behavior_type>, 2> behaviors;

  resource_state() = default;
  resource_state(const resource_state&) = delete;
  resource_state& operator=(const resource_state&) = delete;

  // Runs when the actor ends for any reason: nothing it opened may leak.
  ~resource_state() {
    if (!ctx.executor)
      return;
    if (call && !call->ticket->claim(call_ticket::abandoned))
      retire(*ctx.executor, std::move(call->ticket->opened), cfg.cleanup_timeout);
    drop_connection();
  }

  void hold_connection(std::shared_ptr<drivers::connection> c) {
    conn = std::move(c);
    if (cfg.view)
      cfg.view->show(conn);
  }

  /// Hands the connection to a blocking worker to close.
  void drop_connection() {
    if (cfg.view)
      cfg.view->show(nullptr);
    retire(*ctx.executor, std::move(conn), cfg.cleanup_timeout);
  }
};

using self_ptr = resource_impl::stateful_pointer<resource_state>;
using state_result = caf::result<lifecycle_state>;

resource_impl::behavior_type behavior_of(self_ptr self, lifecycle_state state);

// --- bookkeeping --------------------------------------------------------------

std::string describe_state(const resource_state& st) {
  if (st.state != lifecycle_state::failed)
    return to_string(st.state);
  return st.recoverable ? "failed (recoverable)" : "failed (not recoverable)";
}

/// An error whose message names this resource.
caf::error resource_error(self_ptr self, errc code, const std::string& what) {
  return make_error(code, "resource " + self->state.cfg.id + ": " + what);
}

void publish(self_ptr self, std::string kind, std::string from, std::string to,
             std::string detail) {
  auto& st = self->state;
  if (!st.ctx.events)
    return;
  self->send(st.ctx.events, publish_atom::value,
             event{0, caf::make_timestamp(), std::move(kind), st.cfg.pool, st.cfg.id,
                   std::move(from), std::move(to), std::move(detail)});
}

/// Moves to `to`: records it, publishes it and switches behaviour. The event is a
/// `transition` unless `kind` names another (a lease's), with `more` detail
/// (JSON members, each led by a comma). Internal transitions are valid by
/// construction; the table check guards that claim.
void transition(self_ptr self, lifecycle_state to, std::string reason,
                const char* kind = "transition", const std::string& more = {}) {
  auto& st = self->state;
  auto from = st.state;
  if (!is_valid_transition(from, to, st.recoverable)) {
    // A bug in this actor: refuse to enter an undefined state.
    self->quit(resource_error(self, errc::invalid_transition,
                              "internal " + describe_state(st) + " -> " + to_string(to)));
    return;
  }
  st.history.push(transition_record{from, to, caf::make_timestamp(), reason});
  st.state = to;
  if (from == lifecycle_state::in_use)
    st.lease = {}; // in use no more, whether returned or failed
  // Written by hand: this runs on every transition, a JSON object would cost more
  // than the rest of the transition.
  auto detail = R"({"reason":)" + nlohmann::json(reason).dump() + more;
  if (to == lifecycle_state::failed)
    detail += st.recoverable ? R"(,"recoverable":true)" : R"(,"recoverable":false)";
  detail += '}';
  publish(self, kind, to_string(from), to_string(to), std::move(detail));
  self->become(behavior_of(self, to));
}

void fail(self_ptr self, bool recoverable, std::string reason) {
  self->state.recoverable = recoverable;
  self->state.last_error = reason;
  transition(self, lifecycle_state::failed, std::move(reason));
}

/// Answers the initialize, maintain or drain request that waited for this moment:
/// with `err`, or else with the state reached.
void reply(self_ptr self, caf::error err = {}) {
  auto& promise = self->state.pending_reply;
  if (!promise.pending())
    return;
  if (err)
    promise.deliver(std::move(err));
  else
    promise.deliver(self->state.state);
}

caf::error reject(self_ptr self, lifecycle_state to) {
  auto& st = self->state;
  return resource_error(self, errc::invalid_transition,
                        describe_state(st) + " -> " + to_string(to));
}

caf::error reject_call(self_ptr self, const char* what, const char* needs) {
  auto& st = self->state;
  return resource_error(self, errc::invalid_transition,
                        std::string{what} + " is not valid in " + describe_state(st) + " (needs " +
                          needs + ")");
}

caf::error busy(self_ptr self, const char* what) {
  return resource_error(self, errc::unavailable,
                        std::string{"cannot "} + what + " while a driver call is in flight");
}

std::string driver_failure(const char* what, const drivers::driver_error& err) {
  return std::string{what} + " failed: " + to_string(err.code) + ": " + err.message;
}

// --- driver calls on blocking workers -------------------------------------------

/// Runs `work` on a blocking worker with a deadline. Exactly one of `on_done` and
/// `on_timeout` runs, on the actor.
void start_call(self_ptr self, std::chrono::milliseconds timeout,
                std::function<void(call_ticket&)> work, std::function<void(call_ticket&)> on_done,
                std::function<void()> on_timeout) {
  auto& st = self->state;
  auto id = st.next_id++;
  auto ticket = std::make_shared<call_ticket>();
  st.call = active_call{id, ticket, std::move(on_done), std::move(on_timeout)};
  auto weak_self = caf::actor_cast<caf::weak_actor_ptr>(self);
  st.ctx.executor->post(
    [ticket, work = std::move(work), weak_self, id, close_timeout = st.cfg.cleanup_timeout] {
      work(*ticket);
      if (ticket->claim(call_ticket::completed)) {
        // If the actor is gone, its state's destructor disposes of the outcome.
        if (auto hdl = caf::actor_cast<caf::actor>(weak_self))
          caf::anon_send(hdl, done_atom::value, id);
        return;
      }
      // The actor gave up on this call: a connection it opened has no owner.
      if (ticket->opened)
        ticket->opened->close(close_timeout);
    });
  self->delayed_send(self, timeout, expire_atom::value, id);
}

void begin_cleanup(self_ptr self);

void run_maintenance(self_ptr self);

/// After any driver call ends: a drain that waited for it may proceed, and a
/// maintain that waited for it starts.
void after_call(self_ptr self) {
  auto& st = self->state;
  if (std::exchange(st.maintain_after_call, false)) {
    if (st.state == lifecycle_state::ready || st.state == lifecycle_state::idle) {
      run_maintenance(self);
      return;
    }
    reply(self, reject(self, lifecycle_state::maintenance));
  }
  if (st.state == lifecycle_state::draining)
    begin_cleanup(self);
}

void on_call_done(self_ptr self, uint64_t id) {
  auto& st = self->state;
  if (!st.call || st.call->id != id)
    return;
  auto call = std::move(*st.call);
  st.call.reset();
  call.on_done(*call.ticket);
  after_call(self);
}

void on_call_expired(self_ptr self, uint64_t id) {
  auto& st = self->state;
  if (!st.call || st.call->id != id)
    return; // finished in time
  if (!st.call->ticket->claim(call_ticket::abandoned))
    return; // the outcome is already on its way
  auto call = std::move(*st.call);
  st.call.reset();
  call.on_timeout();
  after_call(self);
}

// --- initializing -----------------------------------------------------------------

void connect_attempt(self_ptr self);

void schedule_retry(self_ptr self, const drivers::driver_error& err) {
  auto& st = self->state;
  std::uniform_real_distribution<double> draw{0.0, 1.0};
  auto delay = backoff_delay(st.cfg.init.backoff, st.init_attempts, draw(st.rng));
  st.retry_id = st.next_id++;
  publish(self, "init_retry", "", "",
          nlohmann::json{{"attempt", st.init_attempts},
                         {"max_retries", st.cfg.init.max_retries},
                         {"delay_ms", delay.count()},
                         {"error", driver_failure("connect", err)}}
            .dump());
  self->delayed_send(self, delay, retry_atom::value, st.retry_id);
}

/// Only a connect that timed out or a driver that threw may be this attempt's bad
/// luck. Anything else says something about the backend (it refused, does not
/// serve, rejected the credentials, is a standby, closed the connection as it was
/// made: a server shutting down): the resource does not retry it but reports it at
/// once, so that its pool (which paces creations by the class of failure) and
/// those waiting on it hear now.
bool about_the_backend(drivers::driver_errc code) {
  return code != drivers::driver_errc::timeout && code != drivers::driver_errc::exception;
}

void connect_attempt(self_ptr self) {
  auto& st = self->state;
  ++st.init_attempts;
  auto timeout = st.cfg.init.timeout;
  start_call(
    self, timeout,
    [driver = st.cfg.driver, id = st.cfg.id, timeout](call_ticket& t) {
      auto res = driver->connect(id, timeout);
      if (res)
        t.opened = std::move(res.value());
      else
        t.error = res.error();
    },
    [self](call_ticket& t) {
      auto& st = self->state;
      if (!t.error) {
        st.hold_connection(std::move(t.opened));
        st.last_error.clear();
        transition(self, lifecycle_state::ready,
                   "connected on attempt " + std::to_string(st.init_attempts));
        reply(self);
        return;
      }
      st.last_error = driver_failure("connect", *t.error);
      if (st.init_attempts <= st.cfg.init.max_retries && !about_the_backend(t.error->code)) {
        schedule_retry(self, *t.error);
        return;
      }
      auto reason = st.init_attempts == 1
                      ? st.last_error
                      : st.last_error + " (" + std::to_string(st.init_attempts) + " attempts)";
      fail(self, false, reason);
      reply(self, make_error(errc::driver_error, "resource " + st.cfg.id + ": " + reason,
                             static_cast<uint8_t>(t.error->code)));
    },
    [self, timeout] {
      auto& st = self->state;
      auto reason = "connect timed out after " + std::to_string(timeout.count()) + " ms (attempt " +
                    std::to_string(st.init_attempts) + ")";
      fail(self, true, reason);
      reply(self, resource_error(self, errc::timeout, reason));
    });
}

void on_retry(self_ptr self, uint64_t id) {
  auto& st = self->state;
  if (st.state == lifecycle_state::initializing && id == st.retry_id)
    connect_attempt(self);
}

state_result begin_initialize(self_ptr self) {
  auto& st = self->state;
  // A holder may report a failure while its exec still runs: one call at a time.
  if (st.call)
    return busy(self, "initialize");
  auto reason = st.state == lifecycle_state::created ? "initialize" : "recover: " + st.last_error;
  // A recovering resource drops its broken connection before it opens a new one.
  st.drop_connection();
  st.init_attempts = 0;
  st.pending_reply = self->make_response_promise<lifecycle_state>();
  transition(self, lifecycle_state::initializing, reason);
  connect_attempt(self);
  return st.pending_reply;
}

// --- maintenance, exec, ping --------------------------------------------------

state_result begin_maintenance(self_ptr self) {
  auto& st = self->state;
  if (st.maintain_after_call || st.pending_reply.pending())
    return busy(self, "maintain");
  st.pending_reply = self->make_response_promise<lifecycle_state>();
  // A probe is running: the reset waits for it (its pool asked because the holder
  // may have left state behind, which a probe does not change).
  if (st.call)
    st.maintain_after_call = true;
  else
    run_maintenance(self);
  return st.pending_reply;
}

void run_maintenance(self_ptr self) {
  auto& st = self->state;
  transition(self, lifecycle_state::maintenance, "maintain");
  auto timeout = st.cfg.operation_timeout;
  start_call(
    self, timeout,
    [conn = st.conn, timeout](call_ticket& t) {
      if (auto res = conn->reset(timeout); !res)
        t.error = res.error();
    },
    [self](call_ticket& t) {
      if (t.error) {
        auto reason = driver_failure("reset", *t.error);
        fail(self, true, reason);
        reply(self, resource_error(self, errc::driver_error, reason));
        return;
      }
      transition(self, lifecycle_state::ready, "maintenance done");
      reply(self);
    },
    [self, timeout] {
      auto reason = "reset timed out after " + std::to_string(timeout.count()) + " ms";
      fail(self, true, reason);
      reply(self, resource_error(self, errc::timeout, reason));
    });
}

caf::result<std::string> run_exec(self_ptr self, const std::string& request) {
  auto& st = self->state;
  if (st.call)
    return busy(self, "exec");
  auto parsed = nlohmann::json::parse(request, nullptr, false);
  if (parsed.is_discarded())
    return resource_error(self, errc::bad_request, "exec request is not JSON");
  auto promise = self->make_response_promise<std::string>();
  auto timeout = st.cfg.operation_timeout;
  start_call(
    self, timeout,
    [conn = st.conn, parsed = std::move(parsed), timeout](call_ticket& t) {
      auto res = conn->exec(parsed, timeout);
      if (res)
        t.response = std::move(res.value());
      else
        t.error = res.error();
    },
    [self, promise](call_ticket& t) mutable {
      auto& st = self->state;
      if (!t.error) {
        promise.deliver(t.response.dump());
        return;
      }
      auto reason = driver_failure("exec", *t.error);
      // The failure's class tells the pool whether the connection broke.
      promise.deliver(make_error(errc::driver_error, "resource " + st.cfg.id + ": " + reason,
                                 static_cast<uint8_t>(t.error->code)));
      // Only the holder's resource fails; after the lease the pool decides.
      if (drivers::breaks_connection(*t.error) && st.state == lifecycle_state::in_use)
        fail(self, true, reason);
    },
    [self, promise, timeout]() mutable {
      auto& st = self->state;
      auto reason = "exec timed out after " + std::to_string(timeout.count()) + " ms";
      promise.deliver(resource_error(self, errc::timeout, reason));
      // The connection's state is unknown after an abandoned call.
      if (st.state == lifecycle_state::in_use)
        fail(self, true, reason);
    });
  return promise;
}

caf::result<ping_result> run_ping(self_ptr self) {
  auto& st = self->state;
  if (st.call)
    return busy(self, "ping");
  auto promise = self->make_response_promise<ping_result>();
  auto timeout = st.cfg.operation_timeout;
  start_call(
    self, timeout,
    [conn = st.conn, timeout](call_ticket& t) {
      auto res = conn->ping(timeout);
      if (res) {
        t.probe = std::move(res.value());
      } else {
        t.error = res.error();
        // A connection that is closed (the server ended it) cannot pass a later
        // probe: the reason says so, and the health checker need not wait for more.
        if (!conn->alive())
          t.error->code = drivers::driver_errc::closed;
      }
    },
    [self, promise](call_ticket& t) mutable {
      if (t.error)
        promise.deliver(
          make_error(errc::driver_error,
                     "resource " + self->state.cfg.id + ": " + driver_failure("ping", *t.error),
                     static_cast<uint8_t>(t.error->code)));
      else
        promise.deliver(
          ping_result{static_cast<uint64_t>(t.probe.latency.count()), std::move(t.probe.degraded)});
    },
    [self, promise, timeout]() mutable {
      promise.deliver(resource_error(
        self, errc::timeout, "ping timed out after " + std::to_string(timeout.count()) + " ms"));
    });
  return promise;
}

// --- draining and cleanup ---------------------------------------------------------

state_result begin_drain(self_ptr self) {
  auto& st = self->state;
  st.pending_reply = self->make_response_promise<lifecycle_state>();
  transition(self, lifecycle_state::draining, "drain");
  if (st.call)
    // The active call gets at most the drain timeout; whichever deadline comes
    // first abandons it.
    self->delayed_send(self, st.cfg.drain_timeout, expire_atom::value, st.call->id);
  else
    begin_cleanup(self);
  return st.pending_reply;
}

void begin_cleanup(self_ptr self) {
  auto& st = self->state;
  transition(self, lifecycle_state::cleanup, "drained");
  if (!st.conn) {
    transition(self, lifecycle_state::terminated, "no handle to close");
    reply(self);
    return;
  }
  auto timeout = st.cfg.cleanup_timeout;
  if (st.cfg.view)
    st.cfg.view->show(nullptr);
  start_call(
    self, timeout,
    [conn = std::move(st.conn), timeout](call_ticket& t) {
      if (auto res = conn->close(timeout); !res)
        t.error = res.error();
    },
    [self](call_ticket& t) {
      auto reason = t.error ? driver_failure("close", *t.error) + " (handle released)"
                            : std::string{"handle closed"};
      transition(self, lifecycle_state::terminated, reason);
      reply(self);
    },
    [self, timeout] {
      transition(self, lifecycle_state::terminated,
                 "close timed out after " + std::to_string(timeout.count()) +
                   " ms; it completes on its worker");
      reply(self);
    });
}

// --- behaviours: one per lifecycle state --------------------------------------

resource_status status_of(self_ptr self) {
  auto& st = self->state;
  return resource_status{st.cfg.id,      st.cfg.pool,         st.cfg.driver->name(), st.state,
                         st.recoverable, st.call.has_value(), st.init_attempts,      st.last_error,
                         st.lease.lease, st.lease.holder};
}

// A pool's lease, told one-way. Its transitions are published as
// lease_acquired and lease_released, with the holder, the wait and the hold time.

std::string lease_detail(const lease_note& lease, const char* time_field, uint64_t us) {
  return R"(,"lease":)" + std::to_string(lease.lease) + R"(,"holder":)" +
         nlohmann::json(lease.holder).dump() + ",\"" + time_field + "\":" + std::to_string(us);
}

void lent(self_ptr self, lease_note note) {
  auto& st = self->state;
  auto reason = "leased to " + note.holder + " (lease " + std::to_string(note.lease) + ")";
  auto more = lease_detail(note, "wait_us", note.wait_us);
  st.lease = std::move(note);
  transition(self, lifecycle_state::in_use, std::move(reason), "lease_acquired", more);
}

void lease_ended(self_ptr self, const lease_end& end) {
  auto& st = self->state;
  if (end.lease != st.lease.lease)
    return; // not the lease it is in use on: one from before a failure, say
  auto more = lease_detail(st.lease, "hold_us", end.hold_us);
  transition(self, lifecycle_state::idle, end.reason + " (lease " + std::to_string(end.lease) + ")",
             "lease_released", more);
}

/// Completes a state's handlers for the eight operations with the handlers that
/// behave the same in every state.
template <class... Operations>
resource_impl::behavior_type with_common_handlers(self_ptr self, Operations... ops) {
  return {
    std::move(ops)...,
    [self](status_atom) { return status_of(self); },
    [self](history_atom) { return self->state.history.to_vector(); },
    [self](done_atom, uint64_t id) { on_call_done(self, id); },
    [self](expire_atom, uint64_t id) { on_call_expired(self, id); },
    [self](retry_atom, uint64_t id) { on_retry(self, id); },
  };
}

// Handlers for an operation that is not valid in the current state: they reply
// `invalid_transition` and change nothing.

template <class Atom>
auto refuse(self_ptr self, lifecycle_state to) {
  return [self, to](Atom) -> state_result { return reject(self, to); };
}

auto refuse_fail(self_ptr self) {
  return [self](fail_atom, const std::string&) -> state_result {
    return reject(self, lifecycle_state::failed);
  };
}

auto refuse_exec(self_ptr self) {
  return [self](exec_atom, const std::string&) -> caf::result<std::string> {
    return reject_call(self, "exec", "in_use");
  };
}

// A lease told one-way while the resource is not available (it failed or is
// busy meanwhile) or not in use: nothing to do, the pool learns of the failure on
// its own.
auto ignore_lent() {
  return [](acquire_atom, const lease_note&) {};
}

auto ignore_lease_end() {
  return [](release_atom, const lease_end&) {};
}

auto refuse_ping(self_ptr self) {
  return [self](ping_atom) -> caf::result<ping_result> {
    return reject_call(self, "ping", "ready or idle");
  };
}

resource_impl::behavior_type created(self_ptr self) {
  using s = lifecycle_state;
  return with_common_handlers(
    self, [self](initialize_atom) -> state_result { return begin_initialize(self); },
    refuse<acquire_atom>(self, s::in_use), refuse<release_atom>(self, s::idle),
    refuse<maintain_atom>(self, s::maintenance), refuse<drain_atom>(self, s::draining),
    refuse_fail(self), refuse_exec(self), refuse_ping(self), ignore_lent(), ignore_lease_end());
}

/// ready and idle differ only in name: both can be handed out, maintained,
/// probed and drained.
resource_impl::behavior_type available(self_ptr self) {
  using s = lifecycle_state;
  return with_common_handlers(
    self, refuse<initialize_atom>(self, s::initializing),
    [self](acquire_atom) -> state_result {
      transition(self, s::in_use, "acquired");
      return s::in_use;
    },
    [self](acquire_atom, lease_note& note) { lent(self, std::move(note)); },
    refuse<release_atom>(self, s::idle), ignore_lease_end(),
    [self](maintain_atom) -> state_result { return begin_maintenance(self); },
    [self](drain_atom) -> state_result { return begin_drain(self); }, refuse_fail(self),
    refuse_exec(self), [self](ping_atom) { return run_ping(self); });
}

resource_impl::behavior_type in_use(self_ptr self) {
  using s = lifecycle_state;
  return with_common_handlers(
    self, refuse<initialize_atom>(self, s::initializing), refuse<acquire_atom>(self, s::in_use),
    [self](release_atom) -> state_result {
      transition(self, s::idle, "released");
      return s::idle;
    },
    ignore_lent(), [self](release_atom, const lease_end& end) { lease_ended(self, end); },
    refuse<maintain_atom>(self, s::maintenance), refuse<drain_atom>(self, s::draining),
    [self](fail_atom, const std::string& reason) -> state_result {
      fail(self, true, "reported by holder: " + reason);
      return s::failed;
    },
    [self](exec_atom, const std::string& request) { return run_exec(self, request); },
    [self](ping_atom) -> caf::result<ping_result> {
      auto& holder = self->state.lease.holder;
      return resource_error(self, errc::leased,
                            "ping is not valid in in_use: leased to " +
                              (holder.empty() ? std::string{"its holder"} : holder));
    });
}

resource_impl::behavior_type failed(self_ptr self) {
  using s = lifecycle_state;
  return with_common_handlers(
    self,
    [self](initialize_atom) -> state_result {
      if (!self->state.recoverable)
        return reject(self, s::initializing);
      return begin_initialize(self);
    },
    refuse<acquire_atom>(self, s::in_use), refuse<release_atom>(self, s::idle),
    refuse<maintain_atom>(self, s::maintenance),
    [self](drain_atom) -> state_result { return begin_drain(self); }, refuse_fail(self),
    refuse_exec(self), refuse_ping(self), ignore_lent(), ignore_lease_end());
}

/// initializing, maintenance, draining, cleanup and terminated: the state ends by
/// itself (or never), no operation is valid meanwhile.
resource_impl::behavior_type busy_or_final(self_ptr self) {
  using s = lifecycle_state;
  return with_common_handlers(
    self, refuse<initialize_atom>(self, s::initializing), refuse<acquire_atom>(self, s::in_use),
    refuse<release_atom>(self, s::idle), refuse<maintain_atom>(self, s::maintenance),
    refuse<drain_atom>(self, s::draining), refuse_fail(self), refuse_exec(self), refuse_ping(self),
    ignore_lent(), ignore_lease_end());
}

resource_impl::behavior_type behavior_of(self_ptr self, lifecycle_state state) {
  using builder = resource_impl::behavior_type (*)(self_ptr);
  auto pick = [](lifecycle_state x) -> std::pair<std::size_t, builder> {
    switch (x) {
    case lifecycle_state::ready:
    case lifecycle_state::idle:
      return {0, available};
    case lifecycle_state::in_use:
      return {1, in_use};
    case lifecycle_state::created:
      return {2, created};
    case lifecycle_state::failed:
      return {3, failed};
    case lifecycle_state::initializing:
    case lifecycle_state::maintenance:
    case lifecycle_state::draining:
    case lifecycle_state::cleanup:
    case lifecycle_state::terminated:
      break;
    }
    return {4, busy_or_final};
  };
  auto [slot, build] = pick(state);
  if (slot >= self->state.behaviors.size())
    return build(self);
  auto& cached = self->state.behaviors[slot];
  if (!cached)
    cached = build(self);
  return *cached;
}

resource_impl::behavior_type resource(self_ptr self, resource_config cfg, resource_context ctx) {
  auto& st = self->state;
  st.rng.seed(static_cast<std::minstd_rand::result_type>(
    cfg.seed != 0 ? cfg.seed : std::hash<std::string>{}(cfg.id)));
  st.history = bounded_history<transition_record>{cfg.history_limit};
  st.cfg = std::move(cfg);
  st.ctx = std::move(ctx);
  return behavior_of(self, lifecycle_state::created);
}

} // namespace

resource_actor spawn_resource(caf::actor_system& sys, resource_config cfg, resource_context ctx) {
  return sys.spawn(resource, std::move(cfg), std::move(ctx));
}

} // namespace custodian
