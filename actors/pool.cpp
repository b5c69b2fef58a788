#include "actors/pool.hpp"

#include <algorithm>
#include <deque>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <utility>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "actors/acquire_completion.hpp"
#include "actors/creation_pacing.hpp"
#include "actors/deadline_index.hpp"
#include "actors/deadline_timer.hpp"
#include "actors/lease_shelf.hpp"
#include "actors/lease_table.hpp"
#include "actors/pool_health_policy.hpp"
#include "actors/pool_supervisor.hpp"
#include "actors/recovery_probe.hpp"
#include "actors/waiter_queue.hpp"
#include "drivers/driver.hpp"
#include "messages/errors.hpp"

namespace custodian {

namespace {

// Messages the pool sends itself; not part of the public interface.
using sweep_atom = caf::atom_constant<caf::atom("sweep")>;
using deadline_atom = caf::atom_constant<caf::atom("deadline")>;
using grow_atom = caf::atom_constant<caf::atom("grow")>;
using retry_atom = caf::atom_constant<caf::atom("retry")>;
using recover_atom = caf::atom_constant<caf::atom("recover")>;

using pool_impl = pool_actor::extend<
  /// A resource's health status changed (from the pool's health checker).
  caf::reacts_to<health_report>,
  /// What became of a resource the pool put in quarantine.
  caf::reacts_to<quarantine_outcome>,
  /// The earliest deadline (waiter, lease TTL, lifetime, idle timeout) may have passed.
  caf::reacts_to<sweep_atom>,
  /// The drain timeout has passed.
  caf::reacts_to<deadline_atom>,
  /// The backoff after failed creations has elapsed.
  caf::reacts_to<grow_atom>,
  /// The backoff after the pool's supervisor gave up has elapsed.
  caf::reacts_to<retry_atom>,
  /// A failed resource was busy when probed in place: probe it again (slot,
  /// reason, last chance).
  caf::reacts_to<recover_atom, uint64_t, std::string, bool>,
  /// A resource was started again (resource_restart_watcher).
  caf::reacts_to<spawn_atom, std::string, resource_actor>,
  /// The supervisor restarted resources, or gave up (supervisor_watcher_actor).
  caf::reacts_to<child_restarted>, caf::reacts_to<supervisor_escalated>>;

using time_point = std::chrono::steady_clock::time_point;

/// Why a lease past its TTL was taken back; its late return is reported as a leak.
const std::string leak_reason = "leaked: held past lease_ttl_ms";
const std::string replaced_reason = "replaced: its pool's config changed";

enum class slot_state : uint8_t {
  creating,
  idle,
  validating, ///< idle, being checked before it is handed out again
  leased,
  recovering,  ///< failed; probed in place (initialized again if broken)
  quarantined, ///< held by the quarantine, never handed out
  retiring,
};

std::string to_string(slot_state x) {
  switch (x) {
  case slot_state::creating:
    return "creating";
  case slot_state::idle:
    return "idle";
  case slot_state::validating:
    return "validating";
  case slot_state::leased:
    return "leased";
  case slot_state::recovering:
    return "recovering";
  case slot_state::quarantined:
    return "quarantined";
  case slot_state::retiring:
    return "retiring";
  }
  return "unknown";
}

/// One resource of the pool.
struct slot {
  /// Null until the supervisor has spawned it.
  resource_actor handle;
  std::string id;
  slot_state state = slot_state::creating;
  /// Its connection, for holders in this process.
  std::shared_ptr<connection_view> view;
  /// When max_lifetime (less its jitter) retires it; max() without a limit.
  time_point retire_at = time_point::max();
  /// Past its lifetime while leased: retired when it comes back.
  bool expired = false;
  time_point idle_since;
  /// An exec on its lease is running (one at a time, like the resource itself).
  bool exec_in_flight = false;
  /// As the health checker last reported it.
  health_status health = health_status::unknown;
  /// When it was last known to work (created, returned, checked): a check on
  /// acquire is skipped within the bypass window after it.
  time_point last_good;
  /// Failures in a row (with a quarantine config): at the threshold it is ejected.
  uint32_t failures = 0;
  /// Kept in as degraded because the quarantine was full: healthy again once it
  /// works (its failures in a row are reset).
  bool degraded_by_failures = false;
  /// An operator asked to quarantine it while it was leased (why): done on return.
  std::string quarantine_on_return;
  /// Probes in place that found it busy in a row: a few are no verdict, more are.
  uint32_t busy_probes = 0;
  /// Made from a config replaced since: a rolling replace retires it.
  bool outdated = false;
};

/// Who holds a lease or waits for one: an actor, or a thread using the blocking
/// facade (no address; named for leak reports).
struct holder_ref {
  caf::actor_addr actor;
  std::string thread;

  bool operator==(const holder_ref&) const = default;
};

/// Where the answer to one acquire goes: an actor's response promise or the
/// completion of a blocking caller.
struct lease_reply {
  caf::typed_response_promise<lease> promise;
  blocking_acquire blocking;
  time_point queued_at;
};

using waiter_list = waiter_queue<lease_reply, holder_ref>;

/// How the pool stands with the registry: who hears of its changes, what it told
/// them last, and the availability its dependencies give it.
struct pool_standing {
  pool_watcher_actor watcher;
  pool_report reported;
  availability_notice notice;
};

struct pool_data {
  static inline const char* name = "custodian.pool";

  pool_config cfg;
  /// What every resource is made from: the config's template with pool and driver.
  std::shared_ptr<const resource_config> resource_template;
  resource_context ctx;
  /// Spawns, owns and restarts the resources; monitored: when it gives up, the
  /// pool goes to `error` and tries again with a new one.
  pool_supervisor_actor supervisor;
  /// Counts the supervisors: replies meant for an earlier one are ignored.
  uint64_t generation = 0;
  /// Why the last supervisor gave up, and how many tries in a row failed since.
  std::string escalation;
  uint32_t failed_tries = 0;
  /// Probes the resources; null without a health config.
  health_checker_actor checker;
  /// Holds ejected resources and tries to recover them; spawned on first use.
  quarantine_actor quarantine;
  /// The quarantine policy changed while resources were in quarantine: they finish
  /// on the old schedule, and a new quarantine takes the next ejection after them.
  bool quarantine_outdated = false;
  /// Slot ids by resource id, for health reports.
  std::map<std::string, uint64_t> by_resource;
  /// Idle or leased slots reported degraded: while there are any, acquire looks
  /// for a healthy idle one first.
  std::size_t degraded = 0;
  pool_state state = pool_state::creating;
  std::map<uint64_t, slot> slots;
  /// Idle slots; the front has been idle longest.
  std::deque<uint64_t> idle;
  lease_table<holder_ref> leases;
  waiter_list waiters;
  deadline_index lifetimes;
  std::set<caf::actor_addr> monitored;
  /// The holder of the latest acquire: skips the monitor lookup for a client that
  /// acquires in a loop.
  caf::actor_addr last_watched;
  uint64_t next_slot = 1;
  /// Slots in state `creating` and `quarantined` (kept by set_slot_state), and
  /// slots reported unhealthy (kept by set_health): the pool's health is judged
  /// after every change, so it is not counted afresh each time.
  uint32_t creating = 0;
  std::size_t quarantined = 0;
  std::size_t unhealthy = 0;
  pool_stats counters;
  /// The one timer of the sweep.
  deadline_timer sweep_timer;
  caf::typed_response_promise<pool_state> drain_reply;
  /// Slots retiring: being drained, then forgotten.
  std::size_t retiring = 0;
  /// Spaces out creations after failures by their class, and knows when the
  /// backend is down (acquires are then told why at once).
  creation_pacing pacing;
  std::mt19937_64 rng;
  pool_standing standing;
  /// A rolling replace: slots made from an earlier config, the replacement being
  /// created (its slot id; 0 = none), and replacements ready for which no outdated
  /// slot could be retired yet (it was leased): the pool is that far above max_size.
  std::size_t outdated = 0;
  uint64_t replacing = 0;
  std::size_t spare = 0;
  /// Idle resources lent to this process's threads (actors/lease_shelf.hpp):
  /// stocked once a thread acquires, until an actor does; held (not stocked)
  /// while a message other than the hot path's is handled; the longest idle
  /// since of what was stocked, for the idle sweep.
  std::shared_ptr<lease_shelf> shelf = std::make_shared<lease_shelf>();
  bool shelf_wanted = false;
  /// Times in a row the pool found nobody waiting in line since someone last
  /// did: under contention the line is fair, so the shelf waits for calm.
  uint32_t calm = std::numeric_limits<uint32_t>::max();
  uint32_t shelf_held = 0;
  std::optional<time_point> shelf_oldest;

  pool_data() = default;
  pool_data(const pool_data&) = delete;
  pool_data& operator=(const pool_data&) = delete;

  // Runs when the pool ends for any reason: its resources end with their
  // supervisor, and threads find its shelf empty.
  ~pool_data() {
    shelf->retire();
    if (supervisor)
      caf::anon_send_exit(supervisor, caf::exit_reason::user_shutdown);
  }

  /// Resources alive or being created, not retiring: what max_size bounds.
  std::size_t live() const { return slots.size() - retiring; }

  bool serving() const { return state == pool_state::active || state == pool_state::scaling; }

  bool closing() const {
    return state == pool_state::draining || state == pool_state::destroying ||
           state == pool_state::destroyed;
  }
};

using self_ptr = pool_impl::stateful_pointer<pool_data>;

/// Moves a slot to `to`, keeping the count of slots being created.
void set_slot_state(pool_data& st, slot& s, slot_state to) {
  auto count = [&](slot_state x, int by) {
    if (x == slot_state::creating)
      st.creating += by;
    else if (x == slot_state::quarantined)
      st.quarantined += by;
  };
  count(s.state, -1);
  count(to, +1);
  s.state = to;
}

/// Sets a slot's health, keeping the counts of degraded and unhealthy slots.
void set_health(pool_data& st, slot& s, health_status to) {
  auto count = [&](health_status x, int by) {
    if (x == health_status::degraded)
      st.degraded += by;
    else if (x == health_status::unhealthy)
      st.unhealthy += by;
  };
  count(s.health, -1);
  count(to, +1);
  s.health = to;
}

// The pool's standing in the registry; see the handlers below.
void review_standing(self_ptr self);
caf::error refusal_by_dependency(self_ptr self);

caf::error pool_error(self_ptr self, errc code, const std::string& what) {
  return make_error(code, "pool " + self->state.cfg.name + ": " + what);
}

void publish(self_ptr self, std::string kind, std::string resource, std::string from,
             std::string to, std::string detail) {
  auto& st = self->state;
  if (st.ctx.events)
    self->send(st.ctx.events, publish_atom::value,
               event{0, caf::make_timestamp(), std::move(kind), st.cfg.name, std::move(resource),
                     std::move(from), std::move(to), std::move(detail)});
}

void set_state(self_ptr self, pool_state to, const std::string& reason) {
  auto from = self->state.state;
  if (from == to)
    return;
  self->state.state = to;
  publish(self, "pool_transition", "", to_string(from), to_string(to),
          nlohmann::json{{"reason", reason}}.dump());
  review_standing(self);
}

std::string holder_name(const holder_ref& holder) {
  if (holder.actor)
    return "actor " + std::to_string(holder.actor.id());
  return holder.thread.empty() ? "anonymous" : holder.thread;
}

std::string slot_name(self_ptr self, uint64_t slot_id) {
  auto i = self->state.slots.find(slot_id);
  return i != self->state.slots.end() ? i->second.id : "";
}

// --- the single timer ---------------------------------------------------------

/// The idle deadline that can retire something: only while more than min_idle
/// are idle, else the sweep would fire for nothing.
std::optional<time_point> idle_deadline(const pool_data& st) {
  if (st.cfg.idle_timeout.count() == 0 || st.idle.size() <= st.cfg.min_idle)
    return std::nullopt;
  return st.slots.at(st.idle.front()).idle_since + st.cfg.idle_timeout;
}

/// Idle resources, with the pool or on the shelf.
std::size_t idle_now(const pool_data& st) {
  return st.idle.size() + (st.shelf_oldest ? st.shelf->available() : 0);
}

/// The idle deadline of what waits on the shelf: the sweep takes it back to see.
/// As for idle_deadline, only while more than min_idle are idle: with fewer, a
/// sweep would find nothing to retire, stock the shelf again with the same
/// deadline and fire at once, for ever.
std::optional<time_point> shelf_deadline(const pool_data& st) {
  if (st.cfg.idle_timeout.count() == 0 || !st.shelf_oldest || idle_now(st) <= st.cfg.min_idle)
    return std::nullopt;
  return *st.shelf_oldest + st.cfg.idle_timeout;
}

/// Arms the sweep for the earliest deadline, unless one armed earlier covers it.
void arm_sweep(self_ptr self) {
  auto& st = self->state;
  std::optional<time_point> next;
  for (auto candidate : {st.waiters.next_deadline(), st.leases.next_deadline(), st.lifetimes.next(),
                         idle_deadline(st), shelf_deadline(st)})
    if (candidate && (!next || *candidate < *next))
      next = candidate;
  if (auto delay = st.sweep_timer.arm(next, self->clock().now()))
    self->delayed_send(self, *delay, sweep_atom::value);
}

caf::error timeout_error(self_ptr self) {
  auto& st = self->state;
  std::string what = "acquire timed out waiting in line";
  // The waiter learns why nothing could be created, not just that time ran out.
  if (!st.pacing.last_error().empty())
    what += "; last creation error: " + st.pacing.last_error();
  return pool_error(self, errc::timeout, what);
}

/// What an acquire hears while the backend is known down: the last creation's
/// error (the server's own words), at once.
caf::error backend_down_error(self_ptr self) {
  return pool_error(self, errc::unavailable, "backend down: " + self->state.pacing.last_error());
}

void refuse(lease_reply& reply, caf::error err) {
  if (reply.blocking)
    reply.blocking->fail(std::move(err));
  else
    reply.promise.deliver(std::move(err));
}

// --- resources ------------------------------------------------------------------

void serve_waiters(self_ptr self);
void on_failure(self_ptr self, uint64_t slot_id, const std::string& reason);
void eject(self_ptr self, uint64_t slot_id, const std::string& reason);
void grow(self_ptr self);
void roll(self_ptr self);
void retire_replaced(self_ptr self);
void check_drained(self_ptr self);
void settle_scaling(self_ptr self);
void revalidate_idle(self_ptr self);
void back_in_line(self_ptr self, uint64_t slot_id, slot_state from);

/// A resource worked: its failures in a row start again from zero, and a
/// resource kept in as degraded for them is no longer.
void clear_failures(pool_data& st, slot& s) {
  s.failures = 0;
  if (s.degraded_by_failures) {
    s.degraded_by_failures = false;
    if (s.health == health_status::degraded)
      set_health(st, s, health_status::unknown);
  }
}

/// Stops probing a slot's resource.
void forget_health(self_ptr self, slot& s) {
  auto& st = self->state;
  set_health(st, s, health_status::unknown);
  if (st.by_resource.erase(s.id) > 0 && st.checker)
    self->send(st.checker, unwatch_atom::value, s.id);
  review_standing(self);
}

/// Has the supervisor stop a resource for good (not to be started again).
void stop_resource(self_ptr self, const std::string& id) {
  if (self->state.supervisor)
    self->request(self->state.supervisor, caf::infinite, stop_atom::value, id)
      .then([](caf::ok_atom) {}, [](caf::error&) {});
}

/// Ends the quarantine's attempts on a resource the pool lets go of; the outcome
/// it sends back then finds the resource gone and is ignored.
void drop_from_quarantine(self_ptr self, const slot& s) {
  if (s.state == slot_state::quarantined && self->state.quarantine)
    self->request(self->state.quarantine, caf::infinite, release_atom::value, s.id)
      .then([](caf::ok_atom) {}, [](caf::error&) {});
}

/// A retiring resource has drained (or could not): its actor is stopped for good
/// and the pool forgets it. Idempotent.
void finish_retirement(self_ptr self, uint64_t slot_id) {
  auto& st = self->state;
  auto i = st.slots.find(slot_id);
  if (i == st.slots.end() || i->second.state != slot_state::retiring)
    return; // finished already, or its supervisor gave up and took it along
  stop_resource(self, i->second.id);
  st.slots.erase(i);
  --st.retiring;
  ++st.counters.closed;
  check_drained(self);
  settle_scaling(self);
}

/// An outdated slot is retiring: a spare replacement no longer waits for it, and
/// the last one ends the rolling replace.
void on_outdated_gone(self_ptr self) {
  auto& st = self->state;
  --st.outdated;
  st.spare = std::min(st.spare, st.outdated);
  if (st.outdated == 0)
    publish(self, "rolling_replace_done", "", "", "", "{}");
}

/// Ends a resource: drains it (it closes its handle) and forgets it. The pool
/// refills to min_idle at once, not at the next sweep.
void retire(self_ptr self, uint64_t slot_id, const std::string& reason) {
  auto& st = self->state;
  auto i = st.slots.find(slot_id);
  if (i == st.slots.end() || i->second.state == slot_state::retiring)
    return;
  drop_from_quarantine(self, i->second);
  if (std::exchange(i->second.outdated, false))
    on_outdated_gone(self);
  set_slot_state(st, i->second, slot_state::retiring);
  ++st.retiring;
  std::erase(st.idle, slot_id);
  forget_health(self, i->second);
  if (i->second.retire_at != time_point::max())
    st.lifetimes.remove(i->second.retire_at, slot_id);
  publish(self, "resource_retired", i->second.id, "", "",
          nlohmann::json{{"reason", reason}}.dump());
  auto handle = i->second.handle;
  if (!handle) {
    // Not started yet: the answer to its start finds the slot gone.
    finish_retirement(self, slot_id);
  } else {
    // A resource that cannot drain now (initializing, in use, failed badly) is
    // stopped; its state closes whatever it holds. The bound covers one that ends
    // mid-drain: its promise dies with it, unanswered.
    auto bound = caf::timespan{st.resource_template->drain_timeout +
                               st.resource_template->cleanup_timeout + std::chrono::seconds{1}};
    self->request(handle, bound, drain_atom::value)
      .then([self, slot_id](lifecycle_state) { finish_retirement(self, slot_id); },
            [self, slot_id](caf::error&) { finish_retirement(self, slot_id); });
  }
  grow(self);
}

/// When max_lifetime retires a resource created now: a little early, by a random
/// share of the lifetime, so that resources created together leave one by one.
time_point lifetime_end(self_ptr self, time_point now) {
  auto& st = self->state;
  if (st.cfg.max_lifetime.count() == 0)
    return time_point::max();
  std::uniform_real_distribution<double> draw{0.0, std::clamp(st.cfg.lifetime_jitter, 0.0, 1.0)};
  auto lifetime = std::chrono::duration_cast<caf::timespan>(st.cfg.max_lifetime);
  return now + lifetime - std::chrono::duration_cast<caf::timespan>(lifetime * draw(st.rng));
}

/// Starts probing a slot's resource, if the pool has health checks.
void watch_health(self_ptr self, uint64_t slot_id) {
  auto& st = self->state;
  if (!st.checker)
    return;
  auto& s = st.slots.at(slot_id);
  st.by_resource.emplace(s.id, slot_id);
  self->request(st.checker, caf::infinite, watch_atom::value, s.id, s.handle)
    .then([](caf::ok_atom) {}, [](caf::error&) {});
}

void on_created(self_ptr self, uint64_t slot_id) {
  auto& st = self->state;
  ++st.counters.created;
  st.pacing.succeeded();
  st.failed_tries = 0; // a resource works: the pool's tries start afresh
  auto i = st.slots.find(slot_id);
  if (i == st.slots.end() || i->second.state != slot_state::creating)
    return;
  auto now = self->clock().now();
  set_slot_state(st, i->second, slot_state::idle);
  i->second.idle_since = now;
  i->second.last_good = now;
  i->second.retire_at = lifetime_end(self, now);
  if (i->second.retire_at != time_point::max())
    st.lifetimes.add(i->second.retire_at, slot_id);
  st.idle.push_back(slot_id);
  watch_health(self, slot_id);
  if (slot_id == st.replacing) {
    st.replacing = 0;
    ++st.spare;
    retire_replaced(self);
  }
  if (st.state == pool_state::initializing && st.creating == 0)
    set_state(self, pool_state::active, "min_idle warmed");
  serve_waiters(self);
  settle_scaling(self);
  arm_sweep(self);
  review_standing(self);
}

void on_creation_failed(self_ptr self, uint64_t slot_id, const caf::error& err) {
  auto& st = self->state;
  if (slot_id == st.replacing)
    st.replacing = 0; // roll tries again after the creation backoff
  ++st.counters.creation_failures;
  auto why = message_of(err);
  auto cheap = drivers::cheap_to_retry(static_cast<drivers::driver_errc>(driver_reason_of(err)));
  std::uniform_real_distribution<double> draw{0.0, 1.0};
  auto delay = st.pacing.failed(self->clock().now(), why, cheap, draw(st.rng));
  self->delayed_send(self, delay, grow_atom::value);
  // Nothing idle and nothing but this creation on its way: those waiting hear why
  // now, not at their deadline (and the retirement below starts no creation for
  // them: the next acquire may).
  if (st.idle.empty() && st.creating <= 1)
    while (auto w = st.waiters.pop())
      refuse(w->payload, backend_down_error(self));
  retire(self, slot_id, "creation failed: " + why);
  if (st.state == pool_state::initializing && st.creating == 0)
    set_state(self, pool_state::active, "min_idle warmed with failures");
  review_standing(self);
}

/// Initializes a slot's resource, just started (or started again).
void initialize(self_ptr self, uint64_t slot_id, resource_actor handle) {
  auto& st = self->state;
  auto i = st.slots.find(slot_id);
  if (i == st.slots.end() || i->second.state != slot_state::creating)
    return; // retired meanwhile: the supervisor was told to stop it
  i->second.handle = handle;
  // The answer counts only while the slot still has this actor: one restarted
  // meanwhile waits for its new one.
  auto current = [self, slot_id, handle, gen = st.generation] {
    auto& st = self->state;
    auto j = st.slots.find(slot_id);
    return st.generation == gen && j != st.slots.end() && j->second.handle == handle;
  };
  self->request(handle, caf::infinite, initialize_atom::value)
    .then(
      [self, slot_id, current](lifecycle_state) {
        if (current())
          on_created(self, slot_id);
      },
      [self, slot_id, current](caf::error& err) {
        if (current())
          on_creation_failed(self, slot_id, err);
      });
}

uint64_t create_resource(self_ptr self) {
  auto& st = self->state;
  auto slot_id = st.next_slot++;
  auto id = st.cfg.name + "-" + std::to_string(slot_id);
  auto view = std::make_shared<connection_view>();
  slot created;
  created.id = id;
  created.view = view;
  st.slots.emplace(slot_id, std::move(created));
  ++st.creating; // a slot starts in state creating
  auto spec = resource_child(st.resource_template, st.ctx, std::move(id), std::move(view),
                             caf::actor_cast<resource_restart_watcher>(self));
  self->request(st.supervisor, caf::infinite, start_atom::value, std::move(spec))
    .then(
      [self, slot_id](caf::actor& handle) {
        initialize(self, slot_id, caf::actor_cast<resource_actor>(handle));
      },
      [self, slot_id, gen = st.generation](caf::error& err) {
        // The supervisor could not start it, or is gone (the pool hears of that).
        if (self->state.generation == gen && self->state.slots.count(slot_id) > 0)
          on_creation_failed(self, slot_id, err);
      });
  return slot_id;
}

/// Creates resources for waiters that no creation in progress will serve, and
/// up to min_idle, within max_size.
void grow(self_ptr self) {
  auto& st = self->state;
  // A pool waiting for its start creates nothing yet.
  if (st.closing() || st.state == pool_state::error || st.state == pool_state::creating)
    return;
  auto live = st.live();
  auto idle = idle_now(st);
  if (st.pacing.backend_down()) {
    // One creation at a time probes a backend known down: on demand at once when
    // that is cheap, else after the backoff (grow_atom comes back). It is tried
    // even without demand when nothing is left, since the pool counts as
    // unhealthy until one succeeds and its dependants refuse their acquires.
    auto wanted = !st.waiters.empty() || idle < st.cfg.min_idle || live == 0;
    if (st.creating > 0 || !st.pacing.may_create(self->clock().now(), !st.waiters.empty()))
      return;
    if (wanted && live < st.cfg.max_size)
      create_resource(self);
    else
      roll(self); // a rolling replace probes the new backend the same way
    return;
  }
  while (live < st.cfg.max_size &&
         (st.creating < st.waiters.size() || idle + st.creating < st.cfg.min_idle)) {
    create_resource(self);
    ++live;
  }
  roll(self);
}

/// A pool scaling after a resize is active again once it is within its bounds.
void settle_scaling(self_ptr self) {
  auto& st = self->state;
  if (st.state == pool_state::scaling && st.creating == 0 && st.live() <= st.cfg.max_size)
    set_state(self, pool_state::active, "resized");
}

// --- leases -----------------------------------------------------------------------

/// Takes the next idle resource; one past its lifetime is retired instead.
/// Takes the next idle slot in LIFO or FIFO order, or, while some are degraded,
/// the next healthy one if there is any.
uint64_t pop_idle(pool_data& st) {
  if (st.degraded > 0) {
    auto healthy = [&](uint64_t id) { return st.slots.at(id).health != health_status::degraded; };
    auto found = st.idle.end();
    if (st.cfg.lifo) {
      if (auto r = std::find_if(st.idle.rbegin(), st.idle.rend(), healthy); r != st.idle.rend())
        found = std::next(r).base();
    } else {
      found = std::find_if(st.idle.begin(), st.idle.end(), healthy);
    }
    if (found != st.idle.end()) {
      auto slot_id = *found;
      st.idle.erase(found);
      return slot_id;
    }
  }
  uint64_t slot_id;
  if (st.cfg.lifo) {
    slot_id = st.idle.back();
    st.idle.pop_back();
  } else {
    slot_id = st.idle.front();
    st.idle.pop_front();
  }
  return slot_id;
}

std::optional<uint64_t> take_idle(self_ptr self) {
  auto& st = self->state;
  while (!st.idle.empty()) {
    auto slot_id = pop_idle(st);
    auto& s = st.slots.at(slot_id);
    if (s.retire_at != time_point::max() && s.retire_at <= self->clock().now()) {
      ++st.counters.expired;
      retire(self, slot_id, "max_lifetime reached");
      continue;
    }
    // The server may have closed it while it was idle (a restart, a terminated
    // backend): the driver can tell without a round trip, so it is never handed
    // out; whatever closed it may have closed the others too.
    if (auto conn = s.view->get(); conn && !conn->alive()) {
      ++st.counters.dead_on_acquire;
      on_failure(self, slot_id, "its connection was closed while idle");
      revalidate_idle(self);
      continue;
    }
    return slot_id;
  }
  return std::nullopt;
}

void record_wait(pool_data& st, caf::timespan waited) {
  auto us = static_cast<uint64_t>(
    std::max<int64_t>(0, std::chrono::duration_cast<std::chrono::microseconds>(waited).count()));
  auto bucket = std::lower_bound(acquire_wait_bounds_us.begin(), acquire_wait_bounds_us.end(), us) -
                acquire_wait_bounds_us.begin();
  ++st.counters.acquire_wait_histogram[static_cast<std::size_t>(bucket)];
  st.counters.acquire_wait_total_us += us;
}

/// Leases an idle slot to `holder`; counted as an acquire unless it is for the shelf.
lease open_lease(self_ptr self, uint64_t slot_id, holder_ref holder, bool counted = true) {
  auto& st = self->state;
  auto& s = st.slots.at(slot_id);
  set_slot_state(st, s, slot_state::leased);
  // The clock is read only when a TTL needs it: this is the hot path.
  auto has_ttl = st.cfg.lease_ttl.count() > 0;
  auto& entry = st.leases.open(slot_id, std::move(holder),
                               has_ttl ? self->clock().now() : time_point{}, st.cfg.lease_ttl);
  if (counted)
    ++st.counters.acquired;
  if (has_ttl)
    arm_sweep(self);
  return lease{entry.id, st.cfg.name, s.id, s.handle};
}

/// Leases an idle slot to a waiter and answers it.
void grant(self_ptr self, uint64_t slot_id, holder_ref holder, lease_reply& reply) {
  auto granted = open_lease(self, slot_id, std::move(holder));
  if (reply.blocking)
    reply.blocking->grant(std::move(granted), self->state.slots.at(slot_id).view->get(),
                          self->state.shelf);
  else
    reply.promise.deliver(std::move(granted));
}

// --- the shelf ------------------------------------------------------------------

const holder_ref shelf_holder{{}, "the shelf"};

/// Whether idle resources may wait on the shelf: while a thread acquires, the
/// pool serves and nobody waited in line for as many returns as it has
/// resources, and no acquire needs the pool itself (a check on acquire, a lease
/// TTL that times each lease, a dependency refusing).
bool may_shelve(self_ptr self) {
  auto& st = self->state;
  return st.shelf_wanted && st.shelf_held == 0 && st.serving() && st.waiters.empty() &&
         st.calm >= st.cfg.max_size && st.cfg.lease_ttl.count() == 0 &&
         !(st.cfg.health && st.cfg.health->on_acquire) && !refusal_by_dependency(self);
}

/// Lends the idle resources to the shelf, each as a lease the shelf holds; ones
/// degraded, outdated or with no connection stay with the pool.
void stock_shelf(self_ptr self) {
  auto& st = self->state;
  if (st.idle.empty() || !may_shelve(self))
    return;
  std::vector<lease_shelf::stocked> items;
  std::deque<uint64_t> kept;
  for (auto slot_id : st.idle) {
    auto& s = st.slots.at(slot_id);
    auto conn = s.view->get();
    if (!conn || s.outdated || s.health == health_status::degraded) {
      kept.push_back(slot_id);
      continue;
    }
    if (!st.shelf_oldest || s.idle_since < *st.shelf_oldest)
      st.shelf_oldest = s.idle_since;
    items.push_back(
      {{open_lease(self, slot_id, shelf_holder, false), std::move(conn)}, s.idle_since});
  }
  st.idle = std::move(kept);
  st.shelf->stock(std::move(items), st.cfg.lifo);
  if (st.cfg.idle_timeout.count() > 0)
    arm_sweep(self);
}

/// Takes back what the shelf holds: those resources are idle with the pool again
/// (idle since their last return, which the pool did not see, if a thread used
/// them), and the leases threads hold come back through the pool. False if
/// nothing came back.
bool recall_shelf(self_ptr self) {
  auto& st = self->state;
  if (!std::exchange(st.shelf_oldest, std::nullopt))
    return false; // nothing was stocked since the last recall
  auto back = st.shelf->recall();
  if (back.empty())
    return false;
  auto now = self->clock().now();
  for (const auto& r : back) {
    auto [outcome, entry] = st.leases.close(r.lease);
    if (outcome != lease_close::released)
      continue;
    auto& s = st.slots.at(entry->slot);
    set_slot_state(st, s, slot_state::idle);
    s.idle_since = r.used ? now : r.idle_since;
    st.idle.push_back(entry->slot);
  }
  // The sweep reads the front as the longest idle.
  std::stable_sort(st.idle.begin(), st.idle.end(), [&](uint64_t a, uint64_t b) {
    return st.slots.at(a).idle_since < st.slots.at(b).idle_since;
  });
  return true;
}

/// Holds the shelf's resources with the pool while a message that may look at or
/// change them is handled, and stocks the shelf again after: the shelf lends
/// resources only between the messages of the blocking hot path.
class shelf_hold {
public:
  explicit shelf_hold(self_ptr self) : self_(self) {
    recall_shelf(self_);
    ++self_->state.shelf_held;
  }
  ~shelf_hold() {
    --self_->state.shelf_held;
    stock_shelf(self_);
  }
  shelf_hold(const shelf_hold&) = delete;
  shelf_hold& operator=(const shelf_hold&) = delete;

private:
  self_ptr self_;
};

/// Answers the waiters whose time is up with their timeout: never served late.
void expire_waiters(self_ptr self, time_point now) {
  auto& st = self->state;
  for (auto& w : st.waiters.expire(now)) {
    ++st.counters.timeouts;
    refuse(w.payload, timeout_error(self));
  }
}

/// Whether a resource must pass a check before it is handed out.
bool needs_check(self_ptr self, const slot& s) {
  auto& h = self->state.cfg.health;
  return h && h->on_acquire && self->clock().now() - s.last_good > h->bypass_window;
}

void enqueue(self_ptr self, caf::timespan timeout, holder_ref holder, lease_reply reply);

/// Checks an idle resource (a ping) for one requester: it gets the resource if the
/// check passes; if not, the resource is retired and the requester waits in line
/// again until its deadline.
void check_then_grant(self_ptr self, uint64_t slot_id, holder_ref holder, lease_reply reply,
                      time_point deadline) {
  auto& st = self->state;
  auto& s = st.slots.at(slot_id);
  set_slot_state(st, s, slot_state::validating);
  auto hand_over = [self, slot_id, holder, reply]() mutable {
    auto& st = self->state;
    auto i = st.slots.find(slot_id);
    if (i == st.slots.end() || i->second.state != slot_state::validating)
      return false;
    i->second.last_good = self->clock().now();
    grant(self, slot_id, std::move(holder), reply);
    return true;
  };
  // The requester waits in line again (until its deadline) when the resource
  // failed its check or was taken out meanwhile (drained, quarantined).
  auto wait_again = [self, holder, reply, deadline]() mutable {
    auto& st = self->state;
    auto now = self->clock().now();
    if (deadline <= now) {
      ++st.counters.timeouts;
      refuse(reply, timeout_error(self));
      return;
    }
    enqueue(self, deadline - now, std::move(holder), std::move(reply));
    serve_waiters(self);
  };
  self->request(s.handle, caf::timespan{st.cfg.health->timeout}, ping_atom::value)
    .then(
      [hand_over, wait_again](const ping_result&) mutable {
        if (!hand_over())
          wait_again();
      },
      [self, slot_id, hand_over, wait_again](caf::error& err) mutable {
        // Busy (a health probe is running) is no verdict: the probe decides.
        if (busy(err) && hand_over())
          return;
        auto& st = self->state;
        if (auto i = st.slots.find(slot_id);
            i != st.slots.end() && i->second.state == slot_state::validating) {
          ++st.counters.validation_failures;
          on_failure(self, slot_id, "failed its check on acquire: " + describe(err));
        }
        wait_again();
      });
}

/// Gives an idle resource to a requester, checking it first when on_acquire asks.
void hand_over(self_ptr self, uint64_t slot_id, holder_ref holder, lease_reply& reply,
               time_point deadline) {
  if (needs_check(self, self->state.slots.at(slot_id)))
    check_then_grant(self, slot_id, std::move(holder), std::move(reply), deadline);
  else
    grant(self, slot_id, std::move(holder), reply);
}

void serve_waiters(self_ptr self) {
  auto& st = self->state;
  if (!st.serving())
    return;
  if (st.waiters.empty()) {
    if (st.calm < std::numeric_limits<uint32_t>::max())
      ++st.calm;
    grow(self);
    stock_shelf(self);
    return;
  }
  auto now = self->clock().now();
  expire_waiters(self, now);
  while (!st.waiters.empty()) {
    auto slot_id = take_idle(self);
    if (!slot_id)
      break;
    auto w = *st.waiters.pop();
    record_wait(st, now - w.payload.queued_at);
    hand_over(self, *slot_id, std::move(w.holder), w.payload, w.deadline);
  }
  grow(self);
  stock_shelf(self);
}

void watch(self_ptr self, const caf::actor_addr& holder) {
  auto& st = self->state;
  if (!holder || holder == st.last_watched)
    return;
  st.last_watched = holder;
  if (st.monitored.insert(holder).second)
    self->monitor(holder);
}

/// What an acquire gets at once: a refusal, an idle resource (only if nobody
/// waits in line before it), or neither: then it waits.
struct first_answer {
  caf::error refused;
  std::optional<uint64_t> slot;
};

first_answer answer_at_once(self_ptr self) {
  auto& st = self->state;
  if (st.closing() || st.state == pool_state::error)
    return {pool_error(self, errc::unavailable, "acquire refused: pool is " + to_string(st.state)),
            std::nullopt};
  if (auto refused = refusal_by_dependency(self))
    return {std::move(refused), std::nullopt};
  if (st.serving() && st.waiters.empty())
    if (auto slot_id = take_idle(self)) {
      ++st.counters.acquire_wait_histogram[0];
      grow(self); // keeps min_idle idle while this one is out
      return {{}, slot_id};
    }
  // The backend is known down and no creation will answer soon: say why now. A
  // creation in flight, or one this acquire may start (after a cheap failure),
  // answers it instead.
  if (st.serving() && st.pacing.backend_down() && st.creating == 0 &&
      (st.live() >= st.cfg.max_size || !st.pacing.may_create(self->clock().now(), true)))
    return {backend_down_error(self), std::nullopt};
  return {};
}

/// Queues an acquire behind earlier ones, with its own deadline. Nothing waits on
/// the shelf while someone waits in line: what it held serves the line.
void enqueue(self_ptr self, caf::timespan timeout, holder_ref holder, lease_reply reply) {
  auto& st = self->state;
  auto now = self->clock().now();
  reply.queued_at = now;
  st.waiters.push(std::move(reply), std::move(holder), now + timeout);
  st.calm = 0;
  arm_sweep(self);
  if (recall_shelf(self))
    serve_waiters(self);
  else
    grow(self);
}

caf::result<lease> acquire_for_actor(self_ptr self, caf::timespan timeout) {
  // Actors acquire through the pool: the shelf is for threads.
  self->state.shelf_wanted = false;
  shelf_hold hold{self};
  auto sender = caf::actor_cast<caf::actor_addr>(self->current_sender());
  watch(self, sender);
  auto now = answer_at_once(self);
  if (now.refused)
    return std::move(now.refused);
  if (now.slot && !needs_check(self, self->state.slots.at(*now.slot)))
    return open_lease(self, *now.slot, holder_ref{sender, {}});
  auto promise = self->make_response_promise<lease>();
  lease_reply reply{promise, nullptr, {}};
  if (now.slot)
    check_then_grant(self, *now.slot, holder_ref{sender, {}}, std::move(reply),
                     self->clock().now() + timeout);
  else
    enqueue(self, timeout, holder_ref{sender, {}}, std::move(reply));
  return promise;
}

void acquire_for_thread(self_ptr self, caf::timespan timeout, const blocking_acquire& reply) {
  // The caller found the shelf empty; from now on it is stocked for threads.
  self->state.shelf_wanted = true;
  holder_ref holder{{}, reply->holder()};
  lease_reply answer{{}, reply, {}};
  auto now = answer_at_once(self);
  if (now.refused)
    refuse(answer, std::move(now.refused));
  else if (now.slot)
    hand_over(self, *now.slot, std::move(holder), answer, self->clock().now() + timeout);
  else
    enqueue(self, timeout, std::move(holder), std::move(answer));
  stock_shelf(self);
}

/// Has a resource reset by its driver (out of line meanwhile) and puts it back in
/// line; a failure there is handled as any other failure of the resource.
void reset_then_back_in_line(self_ptr self, uint64_t slot_id, const std::string& why) {
  auto& st = self->state;
  auto& s = st.slots.at(slot_id);
  set_slot_state(st, s, slot_state::validating);
  publish(self, "maintenance", s.id, "", "", nlohmann::json{{"reason", why}}.dump());
  auto bound = caf::timespan{st.cfg.resource.operation_timeout + std::chrono::seconds{1}};
  self->request(s.handle, bound, maintain_atom::value)
    .then([self, slot_id](lifecycle_state) { back_in_line(self, slot_id, slot_state::validating); },
          [self, slot_id](caf::error& err) {
            auto i = self->state.slots.find(slot_id);
            if (i != self->state.slots.end() && i->second.state == slot_state::validating)
              on_failure(self, slot_id, "maintenance failed: " + describe(err));
          });
}

/// Puts a resource whose lease ended back in line, unless it must go.
void give_back(self_ptr self, uint64_t slot_id) {
  auto& st = self->state;
  auto i = st.slots.find(slot_id);
  if (i == st.slots.end() || i->second.state != slot_state::leased)
    return;
  auto& s = i->second;
  if (st.closing()) {
    retire(self, slot_id, "returned while draining");
    return;
  }
  if (!s.quarantine_on_return.empty()) {
    eject(self, slot_id, s.quarantine_on_return);
    return;
  }
  if (s.health == health_status::unhealthy) {
    if (!st.cfg.quarantine)
      ++st.counters.unhealthy;
    on_failure(self, slot_id, "unhealthy while leased");
    return;
  }
  // The clock is read only for the limits that need it: this is the hot path.
  auto timed = st.cfg.max_lifetime.count() > 0 || st.cfg.idle_timeout.count() > 0 ||
               (st.cfg.health && st.cfg.health->on_acquire);
  auto now = timed ? self->clock().now() : time_point{};
  if (s.expired || (s.retire_at != time_point::max() && s.retire_at <= now)) {
    ++st.counters.expired;
    retire(self, slot_id, "max_lifetime reached");
    return;
  }
  if (s.outdated && st.spare > 0) {
    --st.spare;
    retire(self, slot_id, replaced_reason);
    return;
  }
  if (st.live() > st.cfg.max_size + st.spare) {
    retire(self, slot_id, "pool shrunk");
    return;
  }
  if (auto conn = s.view->get(); conn && conn->needs_reset()) {
    // Its holder left state behind (an open transaction, say): the next holder
    // gets it reset.
    ++st.counters.reset_on_return;
    reset_then_back_in_line(self, slot_id, "its holder left state behind");
    return;
  }
  set_slot_state(st, s, slot_state::idle);
  s.idle_since = now;
  s.last_good = now;
  clear_failures(st, s); // its holder found nothing wrong
  st.idle.push_back(slot_id);
  serve_waiters(self);
  if (st.cfg.idle_timeout.count() > 0)
    arm_sweep(self);
}

/// Closes lease `id`; an error names what was wrong with it.
caf::error close_lease(self_ptr self, uint64_t id) {
  auto& st = self->state;
  bool was_leak = false;
  if (auto why = st.leases.reclaim_reason(id))
    was_leak = *why == leak_reason;
  auto [outcome, entry] = st.leases.close(id);
  switch (outcome) {
  case lease_close::released:
    give_back(self, entry->slot);
    check_drained(self);
    return {};
  case lease_close::late_return:
    // A leak is reported again now that it came back; its resource was retired.
    if (was_leak)
      publish(self, "leak_returned", "", "", "", nlohmann::json{{"lease", id}}.dump());
    return {};
  case lease_close::unknown:
    break;
  }
  ++st.counters.bad_releases;
  publish(self, "bad_release", "", "", "", nlohmann::json{{"lease", id}}.dump());
  return pool_error(self, errc::not_found,
                    "lease " + std::to_string(id) + " is unknown or already released");
}

/// Counts and publishes a lease taken back from its holder.
void report_reclaimed(self_ptr self, const lease_table<holder_ref>::entry& entry,
                      const char* reason) {
  ++self->state.counters.reclaimed;
  publish(
    self, "lease_reclaimed", slot_name(self, entry.slot), "", "",
    nlohmann::json{{"lease", entry.id}, {"holder", holder_name(entry.holder)}, {"reason", reason}}
      .dump());
}

/// Takes back every lease and waiter of a holder that died.
void on_holder_down(self_ptr self, const caf::down_msg& msg) {
  auto& st = self->state;
  st.monitored.erase(msg.source);
  if (st.last_watched == msg.source)
    st.last_watched = caf::actor_addr{};
  holder_ref holder{msg.source, {}};
  st.waiters.remove_holder(holder);
  for (auto id : st.leases.held_by(holder)) {
    auto [outcome, entry] = st.leases.close(id);
    report_reclaimed(self, *entry, "holder ended");
    give_back(self, entry->slot);
  }
  check_drained(self);
}

/// A resource found working after it was out of line (checked, recovered,
/// back from quarantine) is idle again, unless it left `from` meanwhile or its
/// lifetime ended (the sweep only marks resources that are out of line).
void back_in_line(self_ptr self, uint64_t slot_id, slot_state from) {
  auto& st = self->state;
  auto i = st.slots.find(slot_id);
  if (i == st.slots.end() || i->second.state != from)
    return;
  auto now = self->clock().now();
  if (i->second.expired || i->second.retire_at <= now) {
    ++st.counters.expired;
    retire(self, slot_id, "max_lifetime reached");
    return;
  }
  set_slot_state(st, i->second, slot_state::idle);
  i->second.idle_since = now;
  i->second.last_good = now;
  st.idle.push_back(slot_id);
  serve_waiters(self);
  if (st.cfg.idle_timeout.count() > 0)
    arm_sweep(self); // the sweep may have found nothing idle and stopped
  review_standing(self);
}

/// The time a check of one resource may take.
caf::timespan check_timeout(const pool_data& st) {
  return caf::timespan{st.cfg.health ? st.cfg.health->timeout : st.cfg.resource.operation_timeout};
}

/// Another resource failed: every idle one is checked (a ping) before it is
/// handed out again, since whatever broke one connection often broke them all.
void revalidate_idle(self_ptr self) {
  auto& st = self->state;
  recall_shelf(self);
  auto ids = std::exchange(st.idle, {});
  for (auto slot_id : ids) {
    auto& s = st.slots.at(slot_id);
    set_slot_state(st, s, slot_state::validating);
    self->request(s.handle, check_timeout(st), ping_atom::value)
      .then([self,
             slot_id](const ping_result&) { back_in_line(self, slot_id, slot_state::validating); },
            [self, slot_id](caf::error& err) {
              // Busy (a health probe is running) is no verdict: the probe decides.
              if (busy(err)) {
                back_in_line(self, slot_id, slot_state::validating);
                return;
              }
              auto i = self->state.slots.find(slot_id);
              if (i == self->state.slots.end() || i->second.state != slot_state::validating)
                return;
              ++self->state.counters.validation_failures;
              on_failure(self, slot_id, "failed re-validation: " + describe(err));
            });
  }
}

// --- quarantine -----------------------------------------------------------------

quarantine_actor& quarantine_of(self_ptr self) {
  auto& st = self->state;
  if (st.quarantine && st.quarantine_outdated && st.quarantined == 0) {
    self->unlink_from(st.quarantine);
    self->send_exit(st.quarantine, caf::exit_reason::user_shutdown);
    st.quarantine = quarantine_actor{};
    st.quarantine_outdated = false;
  }
  if (!st.quarantine) {
    auto cfg = st.cfg.quarantine.value_or(quarantine_config{});
    cfg.seed = std::hash<std::string>{}(st.cfg.name);
    // Linked: it ends with its pool.
    st.quarantine = spawn_quarantine(self->system(), cfg);
    self->link_to(st.quarantine);
  }
  return st.quarantine;
}

/// Takes a resource out of service into the pool's quarantine.
void eject(self_ptr self, uint64_t slot_id, const std::string& reason) {
  auto& st = self->state;
  auto& s = st.slots.at(slot_id);
  std::erase(st.idle, slot_id);
  forget_health(self, s); // the quarantine probes it now
  set_slot_state(st, s, slot_state::quarantined);
  s.quarantine_on_return.clear();
  ++st.counters.ejections;
  publish(self, "resource_quarantined", s.id, "", "",
          nlohmann::json{{"reason", reason}, {"consecutive_failures", s.failures}}.dump());
  self
    ->request(quarantine_of(self), caf::infinite, eject_atom::value, s.id, s.handle, reason,
              caf::actor_cast<quarantine_watcher_actor>(self))
    .then([](caf::ok_atom) {}, [](caf::error&) {});
  grow(self); // a replacement, within max_size
  review_standing(self);
}

/// Busy answers in a row after which a resource probed in place counts as failing
/// (one stuck in a state that never ends).
constexpr uint32_t max_busy_probes = 3;

/// Probes a failed resource in place: back in line if it works; if not, one more
/// failure counts, or, on its last chance, it is replaced.
void recover_in_place(self_ptr self, uint64_t slot_id, std::string reason, bool last_chance) {
  auto& st = self->state;
  auto& s = st.slots.at(slot_id);
  set_slot_state(st, s, slot_state::recovering);
  probe_recovery(self, s.handle, check_timeout(st),
                 [self, slot_id, reason, last_chance](const caf::error& why_not) {
                   auto i = self->state.slots.find(slot_id);
                   if (i == self->state.slots.end() || i->second.state != slot_state::recovering)
                     return;
                   auto was_busy = busy(why_not);
                   i->second.busy_probes = was_busy ? i->second.busy_probes + 1 : 0;
                   if (!why_not)
                     back_in_line(self, slot_id, slot_state::recovering);
                   else if (was_busy && i->second.busy_probes <= max_busy_probes)
                     // Busy with another call (a probe that hangs, say): no verdict; once that
                     // call is bounded, probe again.
                     self->delayed_send(self, check_timeout(self->state), recover_atom::value,
                                        slot_id, reason, last_chance);
                   else if (last_chance)
                     retire(self, slot_id, reason + "; recovery failed: " + describe(why_not));
                   else
                     on_failure(self, slot_id, "recovery failed: " + describe(why_not));
                 });
}

/// Marks a resource degraded: handed out only when no healthy one is idle.
void mark_degraded(pool_data& st, slot& s) {
  set_health(st, s, health_status::degraded);
  s.degraded_by_failures = true;
}

/// A resource failed (not in use any more). Without a quarantine config it is
/// replaced. With one, its failures in a row count: below the threshold it is
/// probed in place; at the threshold it is ejected, unless max_ejection_percent
/// of the pool is ejected already: then it stays as degraded if it still answers.
void on_failure(self_ptr self, uint64_t slot_id, const std::string& reason) {
  auto& st = self->state;
  auto& s = st.slots.at(slot_id);
  if (!st.cfg.quarantine || s.exec_in_flight || st.closing()) {
    retire(self, slot_id, reason);
    return;
  }
  std::erase(st.idle, slot_id);
  auto& policy = st.cfg.quarantine->policy;
  if (++s.failures < policy.consecutive_failures) {
    recover_in_place(self, slot_id, reason, false);
  } else if (may_eject(policy, st.live(), st.quarantined)) {
    eject(self, slot_id, reason);
  } else {
    // Probed afresh: the checker's first pass reports it healthy again.
    forget_health(self, s);
    watch_health(self, slot_id);
    mark_degraded(st, s);
    recover_in_place(self, slot_id, reason + " (quarantine full)", true);
    review_standing(self);
  }
}

std::optional<uint64_t> slot_of(const pool_data& st, const std::string& resource) {
  for (const auto& [id, s] : st.slots)
    if (s.id == resource)
      return id;
  return std::nullopt;
}

/// What the quarantine made of a resource: back in line, or replaced.
void on_quarantine_outcome(self_ptr self, const quarantine_outcome& outcome) {
  auto& st = self->state;
  auto slot_id = slot_of(st, outcome.resource);
  if (!slot_id || st.slots.at(*slot_id).state != slot_state::quarantined)
    return; // retired meanwhile
  auto detail = nlohmann::json{{"attempts", outcome.attempts}, {"reason", outcome.reason}}.dump();
  if (!outcome.recovered) {
    publish(self, "quarantine_gave_up", outcome.resource, "", "", detail);
    retire(self, *slot_id, "quarantine gave up: " + outcome.reason);
    return;
  }
  ++st.counters.reinstated;
  clear_failures(st, st.slots.at(*slot_id));
  publish(self, "resource_reinstated", outcome.resource, "", "", detail);
  watch_health(self, *slot_id);
  back_in_line(self, *slot_id, slot_state::quarantined);
}

caf::result<caf::ok_atom> quarantine_by_hand(self_ptr self, const std::string& resource,
                                             const std::string& reason) {
  auto& st = self->state;
  auto slot_id = slot_of(st, resource);
  if (!slot_id)
    return pool_error(self, errc::not_found, "no resource " + resource);
  auto& s = st.slots.at(*slot_id);
  auto why = "by an operator: " + reason;
  switch (s.state) {
  case slot_state::quarantined:
    break;
  case slot_state::leased:
    s.quarantine_on_return = why;
    break;
  case slot_state::idle:
  case slot_state::validating:
  case slot_state::recovering:
    eject(self, *slot_id, why);
    break;
  case slot_state::creating:
  case slot_state::retiring:
    return pool_error(self, errc::unavailable,
                      "resource " + resource + " cannot be quarantined while " +
                        (s.state == slot_state::creating ? "being created" : "retiring"));
  }
  return caf::ok_atom::value;
}

caf::result<caf::ok_atom> release_by_hand(self_ptr self, const std::string& resource) {
  auto& st = self->state;
  auto slot_id = slot_of(st, resource);
  if (!slot_id || st.slots.at(*slot_id).state != slot_state::quarantined)
    return pool_error(self, errc::not_found, "resource " + resource + " is not in quarantine");
  // The quarantine answers after it sent the outcome: the resource is back in
  // line when the operator hears ok.
  auto promise = self->make_response_promise<caf::ok_atom>();
  self->request(st.quarantine, caf::infinite, release_atom::value, resource)
    .then([promise](caf::ok_atom) mutable { promise.deliver(caf::ok_atom::value); },
          [promise](caf::error& err) mutable { promise.deliver(std::move(err)); });
  return promise;
}

caf::result<std::vector<quarantine_entry>> quarantine_entries(self_ptr self) {
  if (!self->state.quarantine)
    return std::vector<quarantine_entry>{};
  auto promise = self->make_response_promise<std::vector<quarantine_entry>>();
  self->request(self->state.quarantine, caf::infinite, status_atom::value)
    .then([promise](std::vector<quarantine_entry>& xs) mutable { promise.deliver(std::move(xs)); },
          [promise](caf::error& err) mutable { promise.deliver(std::move(err)); });
  return promise;
}

/// The resource of an open lease failed: the lease is taken back (its holder's
/// next use learns why) and the resource replaced.
void fail_leased(self_ptr self, uint64_t lease_id, const std::string& reason) {
  auto& st = self->state;
  auto entry = st.leases.reclaim(lease_id, "its resource failed: " + reason);
  if (!entry)
    return;
  ++st.counters.failed;
  publish(
    self, "lease_broken", slot_name(self, entry->slot), "", "",
    nlohmann::json{{"lease", lease_id}, {"holder", holder_name(entry->holder)}, {"reason", reason}}
      .dump());
  on_failure(self, entry->slot, "failed while leased: " + reason);
  revalidate_idle(self);
  check_drained(self);
}

/// Why lease `id` cannot be used: `not_found`, or `unavailable` naming why it was
/// taken back.
caf::error unusable_lease(self_ptr self, uint64_t id) {
  auto& st = self->state;
  if (auto why = st.leases.reclaim_reason(id))
    return pool_error(self, errc::unavailable,
                      "lease " + std::to_string(id) + " was taken back: " + *why +
                        "; return it and acquire another");
  return pool_error(self, errc::not_found,
                    "lease " + std::to_string(id) + " is unknown or already released");
}

/// The resource of `slot_id` failed: the lease on it, if any, is taken back, and
/// the resource is retired either way (its holder may have returned it already).
void fail_slot(self_ptr self, uint64_t slot_id, const std::string& reason) {
  auto& st = self->state;
  if (auto i = st.slots.find(slot_id); i == st.slots.end() ||
                                       i->second.state == slot_state::retiring ||
                                       i->second.state == slot_state::creating)
    return; // already on its way out, or started again
  for (auto id : st.leases.ids())
    if (st.leases.find(id)->slot == slot_id) {
      fail_leased(self, id, reason);
      return;
    }
  ++st.counters.failed;
  on_failure(self, slot_id, "failed: " + reason);
  revalidate_idle(self);
}

/// Ends an exec on `slot_id`; `broke` says why the resource failed, if it did.
void end_exec(self_ptr self, uint64_t slot_id, const std::optional<std::string>& broke) {
  if (auto i = self->state.slots.find(slot_id); i != self->state.slots.end()) {
    i->second.exec_in_flight = false;
    if (!broke)
      clear_failures(self->state, i->second);
  }
  if (broke)
    fail_slot(self, slot_id, *broke);
}

/// Whether lease `id` was taken back (leaked, failed, drained) during its exec.
bool taken_back(self_ptr self, uint64_t id) {
  return self->state.leases.reclaim_reason(id) != nullptr;
}

/// Answers an exec. A call that failed because its lease had been taken back
/// meanwhile says so rather than how the stopped resource failed.
void deliver(self_ptr self, uint64_t lease_id, bool was_taken_back,
             caf::typed_response_promise<std::string>& promise,
             caf::expected<std::string>& outcome) {
  if (outcome)
    promise.deliver(std::move(*outcome));
  else if (was_taken_back)
    promise.deliver(unusable_lease(self, lease_id));
  else
    promise.deliver(outcome.error());
}

/// An exec on a leased resource: in_use for the call, idle again after it. The
/// release after the call tells whether the call broke the resource.
caf::result<std::string> exec(self_ptr self, uint64_t lease_id, std::string request) {
  auto& st = self->state;
  auto entry = st.leases.find(lease_id);
  if (!entry)
    return unusable_lease(self, lease_id);
  auto slot_id = entry->slot;
  auto& s = st.slots.at(slot_id);
  if (s.exec_in_flight)
    return pool_error(self, errc::unavailable,
                      "an exec on lease " + std::to_string(lease_id) + " is in flight");
  s.exec_in_flight = true;
  auto handle = s.handle;
  auto promise = self->make_response_promise<std::string>();
  // The resource bounds the call itself; this bound, twice as long, only covers a
  // resource stopped mid-call (its lease leaked or failed), which never answers.
  auto bound = 2 * caf::timespan{st.cfg.resource.operation_timeout};
  auto after_call = [self, slot_id, lease_id, handle, promise,
                     bound](caf::expected<std::string> outcome) mutable {
    self->request(handle, bound, release_atom::value)
      .then(
        [=](lifecycle_state) mutable {
          auto was_taken_back = taken_back(self, lease_id);
          end_exec(self, slot_id, std::nullopt);
          deliver(self, lease_id, was_taken_back, promise, outcome);
        },
        [=](caf::error&) mutable {
          // The resource is not in use any more: the call left it failed.
          auto was_taken_back = taken_back(self, lease_id);
          end_exec(self, slot_id, outcome ? "it failed after an exec" : describe(outcome.error()));
          deliver(self, lease_id, was_taken_back, promise, outcome);
        });
  };
  self->request(handle, bound, acquire_atom::value)
    .then(
      [self, handle, bound, request = std::move(request), after_call](lifecycle_state) mutable {
        self->request(handle, bound, exec_atom::value, std::move(request))
          .then([after_call](std::string& response) mutable { after_call(std::move(response)); },
                [after_call](caf::error& err) mutable { after_call(std::move(err)); });
      },
      [self, slot_id, lease_id, promise](caf::error& err) mutable {
        // The resource cannot take the call (it failed meanwhile): the lease goes.
        end_exec(self, slot_id, describe(err));
        promise.deliver(unusable_lease(self, lease_id));
      });
  return promise;
}

caf::result<caf::ok_atom> report_failure(self_ptr self, uint64_t lease_id, std::string reason) {
  if (!self->state.leases.find(lease_id))
    return unusable_lease(self, lease_id);
  fail_leased(self, lease_id, "reported by its holder: " + reason);
  return caf::ok_atom::value;
}

/// The supervisor started resources again: the one that ended (crashed, killed,
/// stopped from outside) and the siblings its strategy takes along. Each lease on
/// them is taken back (the holder's next use says why), and each slot waits for
/// its fresh actor, then initializes it like a new one.
void on_restarted(self_ptr self, const child_restarted& note) {
  auto& st = self->state;
  for (const auto& id : note.restarted) {
    auto slot_id = slot_of(st, id);
    if (!slot_id)
      continue; // retired meanwhile: the supervisor was told to stop it
    auto& s = st.slots.at(*slot_id);
    if (s.state == slot_state::retiring) {
      finish_retirement(self, *slot_id); // it ended while draining: done with it
      continue;
    }
    if (s.state == slot_state::creating && !s.handle)
      continue;
    auto why = id == note.child ? "it ended: " + note.reason
                                : "restarted along with " + note.child + " (" + note.reason + ")";
    ++st.counters.restarts;
    publish(self, "resource_restarted", id, "", "", nlohmann::json{{"reason", why}}.dump());
    for (auto lease_id : st.leases.ids())
      if (st.leases.find(lease_id)->slot == *slot_id) {
        auto entry = st.leases.reclaim(lease_id, "its resource was restarted: " + why);
        ++st.counters.failed;
        publish(self, "lease_broken", id, "", "",
                nlohmann::json{
                  {"lease", lease_id}, {"holder", holder_name(entry->holder)}, {"reason", why}}
                  .dump());
      }
    std::erase(st.idle, *slot_id);
    forget_health(self, s);
    drop_from_quarantine(self, s);
    if (s.retire_at != time_point::max())
      st.lifetimes.remove(s.retire_at, *slot_id);
    s.retire_at = time_point::max();
    s.expired = false;
    s.exec_in_flight = false;
    s.failures = 0;
    s.degraded_by_failures = false;
    s.quarantine_on_return.clear();
    s.handle = resource_actor{};
    set_slot_state(st, s, slot_state::creating);
  }
  check_drained(self);
}

/// A restarted resource's fresh actor.
void on_resource_started(self_ptr self, const std::string& id, const resource_actor& handle) {
  auto& st = self->state;
  auto slot_id = slot_of(st, id);
  if (!slot_id) {
    stop_resource(self, id); // retired meanwhile
    return;
  }
  // A slot still holding an actor is not waiting for this one (its restart note
  // always comes first); should it ever, failures retire the slot and its child.
  if (!st.slots.at(*slot_id).handle)
    initialize(self, *slot_id, handle);
}

/// A resource's health changed: degraded ones are handed out last, an unhealthy
/// idle one is retired and replaced (a leased one when it comes back).
void on_health(self_ptr self, const health_report& report) {
  auto& st = self->state;
  auto i = st.by_resource.find(report.resource);
  if (i == st.by_resource.end())
    return; // retired meanwhile
  auto slot_id = i->second;
  auto& s = st.slots.at(slot_id);
  set_health(st, s, report.status);
  publish(self, "health", s.id, "", to_string(report.status),
          nlohmann::json{{"consecutive_failures", report.consecutive_failures},
                         {"latency_us", report.latency_us},
                         {"last_error", report.last_error}}
            .dump());
  if (report.status == health_status::healthy)
    clear_failures(st, s);
  if (report.status == health_status::unhealthy) {
    if (s.state == slot_state::idle) {
      if (!st.cfg.quarantine)
        ++st.counters.unhealthy;
      // Each failed probe counts as a failure in a row.
      if (report.consecutive_failures > 0)
        s.failures = std::max(s.failures, report.consecutive_failures - 1);
      on_failure(self, slot_id, "unhealthy: " + report.last_error);
    }
    revalidate_idle(self);
  }
  review_standing(self);
}

void sweep(self_ptr self) {
  auto& st = self->state;
  st.sweep_timer.fired();
  auto now = self->clock().now();
  expire_waiters(self, now);
  for (auto id : st.leases.overdue(now)) {
    auto entry = st.leases.reclaim(id, leak_reason);
    ++st.counters.leaks;
    publish(
      self, "lease_leak", slot_name(self, entry->slot), "", "",
      nlohmann::json{
        {"lease", id},
        {"holder", holder_name(entry->holder)},
        {"held_ms",
         std::chrono::duration_cast<std::chrono::milliseconds>(now - entry->acquired).count()}}
        .dump());
    // The leaking holder may still use it: it is not handed to anyone else.
    retire(self, entry->slot, "lease " + std::to_string(id) + " leaked");
  }
  for (auto slot_id : st.lifetimes.due(now)) {
    auto& s = st.slots.at(slot_id);
    st.lifetimes.remove(s.retire_at, slot_id);
    if (s.state == slot_state::idle) {
      ++st.counters.expired;
      retire(self, slot_id, "max_lifetime reached");
    } else {
      s.expired = true; // never taken from its holder; retired when it comes back
    }
  }
  while (auto due = idle_deadline(st)) {
    if (*due > now)
      break;
    ++st.counters.idle_closed;
    retire(self, st.idle.front(), "idle_timeout reached");
  }
  check_drained(self);
  arm_sweep(self);
}

// --- the supervisor ------------------------------------------------------------------

void start_supervisor(self_ptr self) {
  auto& st = self->state;
  st.escalation.clear();
  st.supervisor = spawn_pool_supervisor(self->system(), st.cfg.name, st.cfg.supervision,
                                        caf::actor_cast<supervisor_watcher_actor>(self));
  self->monitor(st.supervisor);
}

/// Forgets every resource: their actors ended with their supervisor (their
/// connections are closed as they end). Replies meant for them are ignored.
void forget_all_slots(self_ptr self) {
  auto& st = self->state;
  ++st.generation;
  for (auto& [id, s] : st.slots) {
    forget_health(self, s);
    drop_from_quarantine(self, s);
    if (s.handle)
      ++st.counters.closed;
  }
  st.slots.clear();
  st.idle.clear();
  st.lifetimes = deadline_index{};
  st.creating = 0;
  st.retiring = 0;
  st.degraded = 0;
  st.quarantined = 0;
  st.unhealthy = 0;
  // Every slot from here on is made from the current config.
  st.outdated = 0;
  st.replacing = 0;
  st.spare = 0;
}

/// The supervisor gave up (more restarts than its intensity allows) and took
/// every resource with it. Leases are taken back and waiters refused; the pool is
/// in `error` (its dependants learn it through the registry) and tries a new
/// supervisor after a backoff that grows with each failed try.
void on_supervisor_down(self_ptr self, const caf::error& reason) {
  auto& st = self->state;
  st.supervisor = pool_supervisor_actor{};
  auto why =
    "its supervisor gave up: " + (st.escalation.empty() ? describe(reason) : st.escalation);
  for (auto id : st.leases.ids())
    report_reclaimed(self, *st.leases.reclaim(id, why), "pool error");
  while (auto w = st.waiters.pop())
    refuse(w->payload, pool_error(self, errc::unavailable, why));
  forget_all_slots(self);
  if (st.closing()) {
    check_drained(self);
    return;
  }
  set_state(self, pool_state::error, why);
  std::uniform_real_distribution<double> draw{0.0, 1.0};
  auto delay = backoff_delay(st.cfg.supervision.retry, ++st.failed_tries, draw(st.rng));
  self->delayed_send(self, delay, retry_atom::value);
}

/// A pool in `error` tries again: a new supervisor, and min_idle warmed anew.
void retry(self_ptr self) {
  auto& st = self->state;
  if (st.state != pool_state::error)
    return;
  start_supervisor(self);
  st.pacing.reset();
  set_state(self, pool_state::initializing, "try " + std::to_string(st.failed_tries + 1));
  grow(self);
  if (st.creating == 0)
    set_state(self, pool_state::active, "nothing to warm");
}

// --- draining -----------------------------------------------------------------------

void check_drained(self_ptr self) {
  auto& st = self->state;
  if (st.state == pool_state::draining && st.leases.size() == 0) {
    set_state(self, pool_state::destroying, "every lease returned");
    std::vector<uint64_t> ids;
    for (const auto& [id, s] : st.slots)
      ids.push_back(id);
    for (auto id : ids)
      retire(self, id, "pool drained");
  }
  if (st.state == pool_state::destroying && st.retiring == 0 && st.slots.empty()) {
    set_state(self, pool_state::destroyed, "every resource closed");
    if (st.drain_reply.pending())
      st.drain_reply.deliver(pool_state::destroyed);
  }
}

caf::result<pool_state> begin_drain(self_ptr self) {
  auto& st = self->state;
  if (st.closing())
    return pool_error(self, errc::invalid_transition,
                      to_string(st.state) + " -> " + to_string(pool_state::draining));
  st.drain_reply = self->make_response_promise<pool_state>();
  set_state(self, pool_state::draining, "drain");
  while (auto w = st.waiters.pop())
    refuse(w->payload, pool_error(self, errc::unavailable, "pool is draining"));
  self->delayed_send(self, st.cfg.drain_timeout, deadline_atom::value);
  check_drained(self);
  return st.drain_reply;
}

/// The drain timeout passed with leases still out: they are taken back, and a
/// holder's late release reads as such.
void on_drain_deadline(self_ptr self) {
  auto& st = self->state;
  if (st.state != pool_state::draining)
    return;
  for (auto id : st.leases.ids())
    report_reclaimed(self, *st.leases.reclaim(id, "taken back when the pool drained"),
                     "drain timeout");
  check_drained(self);
}

caf::result<pool_state> suspend(self_ptr self) {
  auto& st = self->state;
  if (!st.serving())
    return pool_error(self, errc::invalid_transition,
                      to_string(st.state) + " -> " + to_string(pool_state::suspended));
  set_state(self, pool_state::suspended, "suspend");
  return pool_state::suspended;
}

caf::result<pool_state> resume(self_ptr self) {
  auto& st = self->state;
  if (st.state != pool_state::suspended)
    return pool_error(self, errc::invalid_transition,
                      to_string(st.state) + " -> " + to_string(pool_state::active));
  set_state(self, pool_state::active, "resume");
  serve_waiters(self);
  return pool_state::active;
}

pool_stats stats_of(self_ptr self) {
  auto& st = self->state;
  auto s = st.counters;
  // Acquires served by the shelf waited for nothing.
  auto shelf = st.shelf->counted();
  s.acquired += shelf.taken;
  s.acquire_wait_histogram[0] += shelf.taken;
  s.dead_on_acquire += shelf.dead;
  s.name = st.cfg.name;
  s.state = st.state;
  s.min_idle = st.cfg.min_idle;
  s.max_size = st.cfg.max_size;
  s.size = st.slots.size();
  s.idle = st.idle.size();
  s.in_use = st.leases.size();
  s.waiters = st.waiters.size();
  s.quarantined = st.quarantined;
  s.degraded = st.degraded;
  s.outdated = st.outdated;
  s.health = st.standing.reported.health;
  s.avail = st.standing.notice.now;
  // The driver's figures: a node makes a driver for each pool, so they are the pool's.
  auto calls = [&](drivers::call_metrics::call kind) {
    auto f = st.cfg.driver->metrics().figures(kind);
    return call_stats{std::move(f.outcomes), std::move(f.latency_histogram), f.latency_total_us};
  };
  s.probes = calls(drivers::call_metrics::call::ping);
  s.execs = calls(drivers::call_metrics::call::exec);
  return s;
}

caf::result<pool_stats> resize(self_ptr self, uint32_t min_idle, uint32_t max_size) {
  auto& st = self->state;
  if (max_size < 1 || min_idle > max_size)
    return pool_error(self, errc::bad_request,
                      "resize to min_idle " + std::to_string(min_idle) + ", max_size " +
                        std::to_string(max_size) + ": need 1 <= max_size and min_idle <= max_size");
  if (st.closing() || st.state == pool_state::error)
    return pool_error(self, errc::invalid_transition,
                      to_string(st.state) + " -> " + to_string(pool_state::scaling));
  st.cfg.min_idle = min_idle;
  st.cfg.max_size = max_size;
  publish(self, "pool_resized", "", "", "",
          nlohmann::json{{"min_idle", min_idle}, {"max_size", max_size}}.dump());
  // Shrinking takes quarantined resources first, then the longest-idle ones;
  // leased ones go when returned.
  for (auto i = st.slots.begin(); st.live() > max_size && i != st.slots.end();) {
    auto slot_id = (i++)->first;
    if (st.slots.at(slot_id).state == slot_state::quarantined)
      retire(self, slot_id, "pool shrunk");
  }
  while (st.live() > max_size && !st.idle.empty())
    retire(self, st.idle.front(), "pool shrunk");
  grow(self);
  serve_waiters(self);
  if (st.serving() && (st.creating > 0 || st.live() > max_size))
    set_state(self, pool_state::scaling, "resize");
  arm_sweep(self);
  return stats_of(self);
}

// --- configuring at run time -------------------------------------------------------

/// What every resource is made from: the config's template with pool and driver.
void make_template(pool_data& st) {
  st.pacing.configure(st.cfg.resource.init.backoff); // creations are resources' connects
  auto templ = st.cfg.resource;
  templ.pool = st.cfg.name;
  templ.driver = st.cfg.driver;
  st.resource_template = std::make_shared<const resource_config>(std::move(templ));
}

/// Spawns the health checker of the config, if it has one, and has it probe every
/// resource that was probed before.
void start_checker(self_ptr self) {
  auto& st = self->state;
  if (!st.cfg.health)
    return;
  // Linked: the checker ends with its pool.
  st.checker = spawn_health_checker(self->system(), *st.cfg.health,
                                    caf::actor_cast<health_watcher_actor>(self));
  self->link_to(st.checker);
  for (const auto& [id, slot_id] : st.by_resource)
    self->request(st.checker, caf::infinite, watch_atom::value, id, st.slots.at(slot_id).handle)
      .then([](caf::ok_atom) {}, [](caf::error&) {});
}

void replace_checker(self_ptr self) {
  auto& st = self->state;
  if (st.checker) {
    self->unlink_from(st.checker);
    self->send_exit(st.checker, caf::exit_reason::user_shutdown);
    st.checker = health_checker_actor{};
  }
  if (!st.cfg.health) {
    // Nothing probes them any more: their last verdicts no longer hold.
    for (const auto& [id, slot_id] : st.by_resource)
      set_health(st, st.slots.at(slot_id), health_status::unknown);
    st.by_resource.clear();
  }
  start_checker(self);
}

/// Creates the replacement of one outdated resource once the last one is in:
/// the pool goes at most one above max_size meanwhile.
void roll(self_ptr self) {
  auto& st = self->state;
  if (st.outdated == 0 || st.replacing != 0 || st.spare > 0 || !st.serving() ||
      st.live() > st.cfg.max_size)
    return;
  if (!st.pacing.may_create(self->clock().now(), false))
    return; // grow_atom comes back after the backoff, and so does roll
  st.replacing = create_resource(self);
}

/// A replacement is ready: an outdated resource that does not work goes first,
/// else an idle one. A leased one goes when it comes back (`give_back`).
void retire_replaced(self_ptr self) {
  auto& st = self->state;
  auto pick = [&]() -> std::optional<uint64_t> {
    for (auto wanted : {slot_state::quarantined, slot_state::recovering, slot_state::idle})
      for (const auto& [slot_id, s] : st.slots)
        if (s.outdated && s.state == wanted)
          return slot_id;
    return std::nullopt;
  };
  while (st.spare > 0) {
    auto slot_id = pick();
    if (!slot_id)
      return;
    --st.spare;
    retire(self, *slot_id, replaced_reason);
  }
}

/// Marks every resource outdated and starts replacing them one at a time. Those
/// still being created are retired at once: grow makes new ones in their place.
void begin_roll(self_ptr self) {
  auto& st = self->state;
  std::vector<uint64_t> unborn;
  for (auto& [slot_id, s] : st.slots) {
    if (s.state == slot_state::retiring || s.outdated)
      continue;
    s.outdated = true;
    ++st.outdated;
    if (s.state == slot_state::creating)
      unborn.push_back(slot_id);
  }
  if (st.outdated > 0)
    publish(self, "rolling_replace", "", "", "", nlohmann::json{{"outdated", st.outdated}}.dump());
  for (auto slot_id : unborn)
    retire(self, slot_id, replaced_reason);
  roll(self);
}

caf::result<caf::ok_atom> configure(self_ptr self, const pool_update& update) {
  auto& st = self->state;
  if (!update || update->name != st.cfg.name)
    return pool_error(self, errc::bad_request,
                      "a config of pool " + (update ? update->name : std::string{"(none)"}) +
                        " cannot configure pool " + st.cfg.name);
  if (st.closing())
    return pool_error(self, errc::invalid_transition, to_string(st.state) + " -> configure");
  auto next = *update;
  auto new_driver = next.driver != st.cfg.driver;
  auto new_health = next.health != st.cfg.health;
  auto new_quarantine = next.quarantine != st.cfg.quarantine;
  auto resized = next.min_idle != st.cfg.min_idle || next.max_size != st.cfg.max_size;
  // Sizes go through resize, which shrinks and grows as an operator's resize does.
  auto [min_idle, max_size] = std::pair{next.min_idle, next.max_size};
  next.min_idle = st.cfg.min_idle;
  next.max_size = st.cfg.max_size;
  st.cfg = std::move(next);
  make_template(st);
  if (new_health)
    replace_checker(self);
  if (new_quarantine && st.quarantine)
    st.quarantine_outdated = true;
  publish(self, "pool_configured", "", "", "",
          nlohmann::json{{"rolling", new_driver},
                         {"health", new_health},
                         {"quarantine", new_quarantine},
                         {"resized", resized}}
            .dump());
  if (new_driver) {
    st.pacing.reset(); // the old backend's failures say nothing of the new one
    begin_roll(self);
  }
  if (resized && st.state != pool_state::error) {
    resize(self, min_idle, max_size);
  } else {
    st.cfg.min_idle = min_idle;
    st.cfg.max_size = max_size;
    grow(self);
    serve_waiters(self);
    arm_sweep(self);
  }
  review_standing(self);
  return caf::ok_atom::value;
}

std::vector<resource_summary> resources_of(self_ptr self) {
  std::vector<resource_summary> out;
  for (const auto& [slot_id, s] : self->state.slots)
    out.push_back(resource_summary{s.id, to_string(s.state), s.health, s.outdated});
  return out;
}

/// An operator has an idle resource reset by its driver before it is handed out
/// again; a failure there is handled as any other failure of the resource.
caf::result<caf::ok_atom> maintain_by_hand(self_ptr self, const std::string& id) {
  auto& st = self->state;
  auto found = std::find_if(st.slots.begin(), st.slots.end(),
                            [&](const auto& entry) { return entry.second.id == id; });
  if (found == st.slots.end())
    return pool_error(self, errc::not_found, "pool " + st.cfg.name + " has no resource " + id);
  auto slot_id = found->first;
  auto& s = found->second;
  if (s.state != slot_state::idle)
    return pool_error(self, errc::unavailable,
                      "resource " + id + " is " + to_string(s.state) +
                        ": only an idle one is maintained");
  std::erase(st.idle, slot_id);
  reset_then_back_in_line(self, slot_id, "asked by an operator");
  return caf::ok_atom::value;
}

// --- standing in the registry -----------------------------------------------------

pool_health_facts health_facts(const pool_data& st) {
  pool_health_facts facts;
  facts.state = st.state;
  // Slots being created or retired do not count; those have no health (it is
  // forgotten when they go), and neither do resources in quarantine, which do
  // not work: their probes are the quarantine's.
  facts.resources = st.slots.size() - st.creating - st.retiring;
  facts.unhealthy = st.quarantined + st.unhealthy;
  facts.degraded = st.degraded;
  facts.creations_failing = st.pacing.backend_down();
  return facts;
}

/// Judges the pool's own health again after a change, and tells the watcher when
/// its state or health changed.
void review_standing(self_ptr self) {
  auto& st = self->state;
  auto& reported = st.standing.reported;
  auto facts = health_facts(st);
  auto health = judge_pool_health(facts, st.cfg.unhealthy_share);
  if (health == reported.health && st.state == reported.state)
    return;
  if (health != reported.health)
    publish(self, "pool_health", "", to_string(reported.health), to_string(health),
            nlohmann::json{{"resources", facts.resources},
                           {"unhealthy", facts.unhealthy},
                           {"degraded", facts.degraded},
                           {"creations_failing", facts.creations_failing},
                           {"last_creation_error", st.pacing.last_error()}}
              .dump());
  reported.state = st.state;
  reported.health = health;
  if (st.standing.watcher)
    self->send(st.standing.watcher, reported);
}

caf::result<pool_report> set_watcher(self_ptr self, pool_watcher_actor watcher) {
  self->state.standing.watcher = std::move(watcher);
  return self->state.standing.reported;
}

/// Why an acquire is refused while a hard dependency is down; none otherwise. The
/// pool's own trouble refuses nothing: it keeps trying, and so can recover.
caf::error refusal_by_dependency(self_ptr self) {
  auto& st = self->state;
  const auto& notice = st.standing.notice;
  if (notice.now.is != availability::level::unavailable || notice.now.root_cause == st.cfg.name)
    return {};
  return pool_error(self, errc::dependency_unavailable, notice.reason);
}

/// The registry's word on what the pool's dependencies make of it. Waiters are
/// refused once a hard dependency is down; leases already out stay valid.
void on_availability(self_ptr self, availability_notice notice) {
  auto& st = self->state;
  auto& current = st.standing.notice;
  if (notice == current)
    return;
  publish(self, "pool_availability", "", to_string(current.now.is), to_string(notice.now.is),
          nlohmann::json{{"root_cause", notice.now.root_cause}, {"reason", notice.reason}}.dump());
  current = std::move(notice);
  if (auto refused = refusal_by_dependency(self))
    while (auto w = st.waiters.pop())
      refuse(w->payload, refused);
}

caf::result<pool_state> start(self_ptr self) {
  auto& st = self->state;
  if (st.state != pool_state::creating)
    return pool_error(self, errc::invalid_transition,
                      to_string(st.state) + " -> " + to_string(pool_state::initializing));
  set_state(self, pool_state::initializing, "start");
  grow(self);
  if (st.creating == 0)
    set_state(self, pool_state::active, "nothing to warm");
  return st.state;
}

caf::result<caf::ok_atom> release_lease(self_ptr self, uint64_t id) {
  if (auto err = close_lease(self, id))
    return err;
  return caf::ok_atom::value;
}

void on_recover(self_ptr self, uint64_t slot_id, const std::string& reason, bool last_chance) {
  if (auto i = self->state.slots.find(slot_id);
      i != self->state.slots.end() && i->second.state == slot_state::recovering)
    recover_in_place(self, slot_id, reason, last_chance);
}

void on_escalated(self_ptr self, const supervisor_escalated& note) {
  self->state.escalation = note.reason;
}

/// The handler of a message (`Atom` first, unless it is a payload of its own)
/// that holds the shelf (`shelf_hold`) while `f` runs.
template <class Atom, class R, class... Ts>
auto held(self_ptr self, Atom, R (*f)(self_ptr, Ts...)) {
  return [self, f](Atom, Ts... xs) -> R {
    shelf_hold hold{self};
    return f(self, xs...);
  };
}

template <class R, class... Ts>
auto held(self_ptr self, R (*f)(self_ptr, Ts...)) {
  return [self, f](Ts... xs) -> R {
    shelf_hold hold{self};
    return f(self, xs...);
  };
}

pool_impl::behavior_type pool(self_ptr self, pool_config cfg, resource_context ctx,
                              pool_start start_mode) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.standing.reported.pool = st.cfg.name;
  st.ctx = std::move(ctx);
  make_template(st);
  st.counters.acquire_wait_histogram.assign(acquire_wait_bounds_us.size() + 1, 0);
  st.rng.seed(std::hash<std::string>{}(st.cfg.name));
  start_supervisor(self);
  start_checker(self);
  self->set_down_handler([self](caf::down_msg& msg) {
    shelf_hold hold{self};
    auto& sup = self->state.supervisor;
    if (sup && msg.source == sup.address())
      on_supervisor_down(self, msg.reason);
    else
      on_holder_down(self, msg);
  });
  self->set_exit_handler([self](caf::exit_msg& msg) {
    // A normal exit of a linked actor (a holder, say) is no reason to stop.
    if (msg.reason != caf::exit_reason::normal)
      self->quit(msg.reason);
  });
  if (start_mode == pool_start::now)
    start(self);
  return {
    [self](acquire_atom) { return acquire_for_actor(self, self->state.cfg.acquire_timeout); },
    [self](acquire_atom, caf::timespan timeout) { return acquire_for_actor(self, timeout); },
    // The blocking hot path: a thread's acquire and return leave the shelf as it is.
    [self](acquire_atom, caf::timespan timeout, const blocking_acquire& reply) {
      acquire_for_thread(self, timeout, reply);
    },
    [self](return_atom, uint64_t id) { close_lease(self, id); },
    held(self, release_atom::value, release_lease),
    held(self, exec_atom::value, exec),
    held(self, fail_atom::value, report_failure),
    held(self, resize_atom::value, resize),
    held(self, suspend_atom::value, suspend),
    held(self, resume_atom::value, resume),
    held(self, drain_atom::value, begin_drain),
    held(self, stats_atom::value, stats_of),
    held(self, quarantine_atom::value, quarantine_by_hand),
    held(self, release_atom::value, release_by_hand),
    held(self, quarantine_atom::value, quarantine_entries),
    held(self, maintain_atom::value, maintain_by_hand),
    held(self, resources_atom::value, resources_of),
    held(self, configure_atom::value, configure),
    held(self, on_health),
    held(self, on_quarantine_outcome),
    held(self, sweep_atom::value, sweep),
    held(self, deadline_atom::value, on_drain_deadline),
    held(self, grow_atom::value, grow),
    held(self, retry_atom::value, retry),
    held(self, recover_atom::value, on_recover),
    held(self, spawn_atom::value, on_resource_started),
    held(self, on_restarted),
    held(self, on_escalated),
    held(self, start_atom::value, start),
    held(self, watch_atom::value, set_watcher),
    held(self, on_availability),
  };
}

} // namespace

pool_actor spawn_pool(caf::actor_system& sys, pool_config cfg, resource_context ctx,
                      pool_start start) {
  return sys.spawn(pool, std::move(cfg), std::move(ctx), start);
}

} // namespace custodian
