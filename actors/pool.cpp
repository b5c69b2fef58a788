#include <algorithm>
#include <utility>

#include <nlohmann/json.hpp>

#include "actors/pool_data.hpp"
#include "actors/pool_health_policy.hpp"
#include "actors/pool_supervisor.hpp"
#include "drivers/driver.hpp"
#include "messages/errors.hpp"

namespace custodian {

namespace pool_detail {

caf::error pool_error(self_ptr self, errc code, const std::string& what) {
  return make_error(code, "pool " + self->state.cfg.name + ": " + what);
}

void publish(self_ptr self, std::string kind, std::string resource, std::string from,
             std::string to, std::string detail) {
  auto& st = self->state;
  if (!st.ctx.events)
    return;
  flush_events(self);
  self->send(st.ctx.events, publish_atom::value,
             event{0, caf::make_timestamp(), std::move(kind), st.cfg.name, std::move(resource),
                   std::move(from), std::move(to), std::move(detail)});
}

/// Lease events wait this long, or for this many more, to go to the bus in one
/// message: one each would cost the bus as much as the acquire itself.
constexpr auto lease_event_delay = std::chrono::milliseconds{5};
constexpr std::size_t lease_event_batch = 256;

void publish_soon(self_ptr self, event ev) {
  auto& st = self->state;
  if (!st.ctx.events)
    return;
  st.pending_events.push_back(std::move(ev));
  if (st.pending_events.size() >= lease_event_batch) {
    flush_events(self);
  } else if (!st.flush_armed) {
    st.flush_armed = true;
    self->delayed_send(self, lease_event_delay, flush_events_atom::value);
  }
}

void tell_resource(self_ptr self, uint64_t slot_id, std::variant<lease_note, lease_end> move) {
  auto& st = self->state;
  st.lease_moves[slot_id].push_back(std::move(move));
  if (!st.flush_armed) {
    st.flush_armed = true;
    self->delayed_send(self, lease_event_delay, flush_events_atom::value);
  }
}

namespace {

void send_moves(self_ptr self, const resource_actor& handle,
                std::vector<std::variant<lease_note, lease_end>>& moves) {
  if (!handle)
    return;
  for (auto& m : moves)
    std::visit(
      [&](auto& x) {
        if constexpr (std::is_same_v<std::decay_t<decltype(x)>, lease_note>)
          self->send(handle, acquire_atom::value, std::move(x));
        else
          self->send(handle, release_atom::value, std::move(x));
      },
      m);
}

} // namespace

void flush_lease_moves(self_ptr self) {
  auto& st = self->state;
  for (auto& [slot_id, moves] : st.lease_moves)
    if (auto i = st.slots.find(slot_id); i != st.slots.end())
      send_moves(self, i->second.handle, moves);
  st.lease_moves.clear();
}

const resource_actor& resource_now(self_ptr self, uint64_t slot_id) {
  auto& st = self->state;
  auto& s = st.slots.at(slot_id);
  if (auto i = st.lease_moves.find(slot_id); i != st.lease_moves.end()) {
    send_moves(self, s.handle, i->second);
    st.lease_moves.erase(i);
  }
  return s.handle;
}

void flush_events(self_ptr self) {
  auto& st = self->state;
  if (!st.pending_events.empty())
    self->send(st.ctx.events, publish_atom::value, std::exchange(st.pending_events, {}));
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
  if (st.cfg.idle_timeout.count() == 0 || st.slots.idle_line().size() <= st.cfg.min_idle)
    return std::nullopt;
  return st.slots.at(st.slots.idle_line().front()).idle_since + st.cfg.idle_timeout;
}

/// Idle resources, with the pool or on the shelf.
std::size_t idle_now(const pool_data& st) {
  return st.slots.idle_line().size() + (st.shelf_oldest ? st.shelf->available() : 0);
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
    tell_lease_end(self, *entry, "taken back: " + leak_reason);
    retire(self, entry->slot, "lease " + std::to_string(id) + " leaked");
  }
  for (auto slot_id : st.lifetimes.due(now)) {
    auto& s = st.slots.at(slot_id);
    st.lifetimes.remove(s.retire_at, slot_id);
    if (s.state() == slot_state::idle) {
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
    retire(self, st.slots.idle_line().front(), "idle_timeout reached");
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
  for (auto& [slot_id, s] : st.slots) {
    forget_health(self, slot_id);
    drop_from_quarantine(self, s);
    if (s.handle)
      ++st.counters.closed;
  }
  // Every slot from here on is made from the current config.
  st.slots.clear();
  st.lease_moves.clear();
  st.lifetimes = deadline_index{};
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
  if (st.slots.counts().creating == 0)
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
  if (st.state == pool_state::destroying && st.slots.size() == 0) {
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
  for (auto id : st.leases.ids()) {
    auto entry = st.leases.reclaim(id, "taken back when the pool drained");
    report_reclaimed(self, *entry, "drain timeout");
    tell_lease_end(self, *entry, "taken back when the pool drained");
  }
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
  s.idle = st.slots.idle_line().size();
  s.in_use = st.leases.size();
  s.waiters = st.waiters.size();
  s.quarantined = st.slots.counts().quarantined;
  s.degraded = st.slots.counts().degraded;
  s.outdated = st.slots.counts().outdated;
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

std::vector<resource_summary> resources_of(self_ptr self) {
  std::vector<resource_summary> out;
  for (const auto& [slot_id, s] : self->state.slots)
    out.push_back(resource_summary{s.id, to_string(s.state()), s.health(), s.outdated()});
  return out;
}

// --- standing in the registry -----------------------------------------------------

pool_health_facts health_facts(const pool_data& st) {
  pool_health_facts facts;
  facts.state = st.state;
  // Slots being created or retired do not count; those have no health (it is
  // forgotten when they go), and neither do resources in quarantine, which do
  // not work: their probes are the quarantine's.
  facts.resources = st.slots.size() - st.slots.counts().creating - st.slots.counts().retiring;
  facts.unhealthy = st.slots.counts().quarantined + st.slots.counts().unhealthy;
  facts.degraded = st.slots.counts().degraded;
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
  if (st.slots.counts().creating == 0)
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
      i != self->state.slots.end() && i->second.state() == slot_state::recovering)
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
  // Threads' takes and returns are noted on the shelf; the first note since the
  // pool last looked tells it, and it collects them a little later.
  st.shelf = std::make_shared<lease_shelf>([weak = caf::actor_cast<caf::weak_actor_ptr>(self)] {
    if (auto pool = caf::actor_cast<caf::actor>(weak))
      caf::anon_send(pool, shelf_notes_atom::value);
  });
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
    [self](flush_events_atom) {
      self->state.flush_armed = false;
      flush_lease_moves(self);
      flush_events(self);
    },
    [self](shelf_notes_atom) {
      self->delayed_send(self, lease_event_delay, collect_notes_atom::value);
    },
    [self](collect_notes_atom) { collect_shelf_notes(self); },
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

} // namespace pool_detail

pool_actor spawn_pool(caf::actor_system& sys, pool_config cfg, resource_context ctx,
                      pool_start start) {
  return sys.spawn(pool_detail::pool, std::move(cfg), std::move(ctx), start);
}

} // namespace custodian
