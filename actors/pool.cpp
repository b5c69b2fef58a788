#include "actors/pool.hpp"

#include <deque>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <utility>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "actors/lease_table.hpp"
#include "actors/waiter_queue.hpp"
#include "messages/errors.hpp"

namespace custodian {

namespace {

// Messages the pool sends itself; not part of the public interface.
using sweep_atom = caf::atom_constant<caf::atom("sweep")>;
using deadline_atom = caf::atom_constant<caf::atom("deadline")>;
using grow_atom = caf::atom_constant<caf::atom("grow")>;

using pool_impl = pool_actor::extend<
  /// The earliest waiter or lease deadline may have passed.
  caf::reacts_to<sweep_atom>,
  /// The drain timeout has passed.
  caf::reacts_to<deadline_atom>,
  /// The backoff after failed creations has elapsed.
  caf::reacts_to<grow_atom>>;

using time_point = std::chrono::steady_clock::time_point;

enum class slot_state : uint8_t { creating, idle, leased, retiring };

/// One resource of the pool.
struct slot {
  resource_actor handle;
  std::string id;
  slot_state state = slot_state::creating;
};

using waiter_list = waiter_queue<caf::typed_response_promise<lease>, caf::actor_addr>;

struct pool_data {
  static inline const char* name = "custodian.pool";

  pool_config cfg;
  resource_context ctx;
  pool_state state = pool_state::creating;
  std::map<uint64_t, slot> slots;
  std::deque<uint64_t> idle;
  lease_table<caf::actor_addr> leases;
  waiter_list waiters;
  std::set<caf::actor_addr> monitored;
  uint64_t next_slot = 1;
  uint32_t creating = 0;
  std::string last_creation_error;
  pool_stats counters;
  /// When the pending sweep fires; none armed if empty.
  std::optional<time_point> sweep_at;
  caf::typed_response_promise<pool_state> drain_reply;
  uint32_t draining_resources = 0;
  /// Creations that failed in a row; they space out the next ones (backoff), so a
  /// resource that cannot be created is not retried in a busy loop.
  uint32_t creation_failures_in_row = 0;
  std::optional<time_point> next_creation_at;
  std::mt19937_64 rng;

  pool_data() = default;
};

using self_ptr = pool_impl::stateful_pointer<pool_data>;

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
  self->state.state = to;
  publish(self, "pool_transition", "", to_string(from), to_string(to),
          nlohmann::json{{"reason", reason}}.dump());
}

std::string holder_name(const caf::actor_addr& holder) {
  return holder ? "actor " + std::to_string(holder.id()) : "anonymous";
}

// --- the single timer ---------------------------------------------------------

/// Arms the sweep for the earliest waiter or lease deadline, unless one armed
/// earlier already covers it.
void arm_sweep(self_ptr self) {
  auto& st = self->state;
  std::optional<time_point> next = st.waiters.next_deadline();
  if (auto ttl = st.leases.next_deadline(); ttl && (!next || *ttl < *next))
    next = ttl;
  if (!next || (st.sweep_at && *st.sweep_at <= *next))
    return;
  st.sweep_at = next;
  auto now = self->clock().now();
  self->delayed_send(self, *next > now ? *next - now : caf::timespan{0}, sweep_atom::value);
}

caf::error timeout_error(self_ptr self) {
  auto& st = self->state;
  std::string what = "acquire timed out waiting in line";
  // The waiter learns why nothing could be created, not just that time ran out.
  if (!st.last_creation_error.empty())
    what += "; last creation error: " + st.last_creation_error;
  return pool_error(self, errc::timeout, what);
}

// --- resources ------------------------------------------------------------------

void serve_waiters(self_ptr self);
void grow(self_ptr self);
void check_drained(self_ptr self);

/// Ends a resource: drains it (it closes its handle) and forgets it.
void retire(self_ptr self, uint64_t slot_id, const std::string& reason) {
  auto& st = self->state;
  auto i = st.slots.find(slot_id);
  if (i == st.slots.end() || i->second.state == slot_state::retiring)
    return;
  i->second.state = slot_state::retiring;
  std::erase(st.idle, slot_id);
  publish(self, "resource_retired", i->second.id, "", "",
          nlohmann::json{{"reason", reason}}.dump());
  ++st.draining_resources;
  auto handle = i->second.handle;
  auto done = [self, slot_id] {
    auto& st = self->state;
    if (auto j = st.slots.find(slot_id); j != st.slots.end()) {
      // Unlinked first: its exit is expected, not a failure of the pool.
      self->unlink_from(j->second.handle);
      self->send_exit(j->second.handle, caf::exit_reason::user_shutdown);
      st.slots.erase(j);
    }
    --st.draining_resources;
    ++st.counters.closed;
    check_drained(self);
    grow(self);
  };
  // A resource that cannot drain now (initializing, in use, failed badly) is
  // stopped; its state closes whatever it holds.
  self->request(handle, caf::infinite, drain_atom::value)
    .then([done](lifecycle_state) mutable { done(); }, [done](caf::error&) mutable { done(); });
}

void create_resource(self_ptr self) {
  auto& st = self->state;
  auto slot_id = st.next_slot++;
  auto rcfg = st.cfg.resource;
  rcfg.id = st.cfg.name + "-" + std::to_string(slot_id);
  rcfg.pool = st.cfg.name;
  rcfg.driver = st.cfg.driver;
  auto handle = spawn_resource(self->system(), rcfg, st.ctx);
  // Linked: the resources end with their pool.
  self->link_to(handle);
  st.slots.emplace(slot_id, slot{handle, rcfg.id, slot_state::creating});
  ++st.creating;
  self->request(handle, caf::infinite, initialize_atom::value)
    .then(
      [self, slot_id](lifecycle_state) {
        auto& st = self->state;
        --st.creating;
        ++st.counters.created;
        st.creation_failures_in_row = 0;
        auto i = st.slots.find(slot_id);
        if (i == st.slots.end() || i->second.state != slot_state::creating)
          return;
        i->second.state = slot_state::idle;
        st.idle.push_back(slot_id);
        if (st.state == pool_state::initializing && st.creating == 0)
          set_state(self, pool_state::active, "min_idle warmed");
        serve_waiters(self);
      },
      [self, slot_id](caf::error& err) {
        auto& st = self->state;
        --st.creating;
        ++st.counters.creation_failures;
        st.last_creation_error = describe(err);
        std::uniform_real_distribution<double> draw{0.0, 1.0};
        auto delay =
          backoff_delay(st.cfg.resource.init.backoff, ++st.creation_failures_in_row, draw(st.rng));
        st.next_creation_at = self->clock().now() + delay;
        self->delayed_send(self, delay, grow_atom::value);
        retire(self, slot_id, "creation failed: " + st.last_creation_error);
        if (st.state == pool_state::initializing && st.creating == 0)
          set_state(self, pool_state::active, "min_idle warmed with failures");
      });
}

/// Creates resources for waiters that no creation in progress will serve, and
/// up to min_idle, within max_size.
void grow(self_ptr self) {
  auto& st = self->state;
  if (st.state != pool_state::active && st.state != pool_state::initializing)
    return;
  if (st.next_creation_at && self->clock().now() < *st.next_creation_at)
    return; // backing off after failed creations; grow_atom comes back
  auto live = [&] {
    std::size_t n = 0;
    for (const auto& [id, s] : st.slots)
      n += s.state != slot_state::retiring;
    return n;
  };
  while (live() < st.cfg.max_size &&
         (st.creating < st.waiters.size() || st.idle.size() + st.creating < st.cfg.min_idle))
    create_resource(self);
}

// --- leases -----------------------------------------------------------------------

std::optional<uint64_t> take_idle(self_ptr self) {
  auto& st = self->state;
  if (st.idle.empty())
    return std::nullopt;
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

lease grant(self_ptr self, uint64_t slot_id, const caf::actor_addr& holder) {
  auto& st = self->state;
  auto& s = st.slots.at(slot_id);
  s.state = slot_state::leased;
  auto& entry = st.leases.open(slot_id, holder, self->clock().now(), st.cfg.lease_ttl);
  ++st.counters.acquired;
  if (st.cfg.lease_ttl.count() > 0)
    arm_sweep(self);
  return lease{entry.id, st.cfg.name, s.id, s.handle};
}

void serve_waiters(self_ptr self) {
  auto& st = self->state;
  if (st.state != pool_state::active)
    return;
  auto now = self->clock().now();
  while (!st.waiters.empty() && !st.idle.empty()) {
    auto w = st.waiters.pop();
    // A waiter whose time is up is answered with its timeout, never served late.
    if (w->deadline <= now) {
      ++st.counters.timeouts;
      w->payload.deliver(timeout_error(self));
      continue;
    }
    auto slot_id = *take_idle(self);
    w->payload.deliver(grant(self, slot_id, w->holder));
  }
  grow(self);
}

void watch(self_ptr self, const caf::actor_addr& holder) {
  if (holder && self->state.monitored.insert(holder).second)
    self->monitor(holder);
}

caf::result<lease> acquire(self_ptr self, caf::timespan timeout) {
  auto& st = self->state;
  switch (st.state) {
  case pool_state::draining:
  case pool_state::destroying:
  case pool_state::destroyed:
  case pool_state::error:
    return pool_error(self, errc::unavailable, "acquire refused: pool is " + to_string(st.state));
  default:
    break;
  }
  auto holder = caf::actor_cast<caf::actor_addr>(self->current_sender());
  watch(self, holder);
  if (st.state == pool_state::active && st.waiters.empty())
    if (auto slot_id = take_idle(self))
      return grant(self, *slot_id, holder);
  auto promise = self->make_response_promise<lease>();
  st.waiters.push(promise, holder, self->clock().now() + timeout);
  arm_sweep(self);
  grow(self);
  return promise;
}

/// Puts a leased resource back; the lease is closed already.
void give_back(self_ptr self, uint64_t slot_id) {
  auto& st = self->state;
  auto i = st.slots.find(slot_id);
  if (i == st.slots.end() || i->second.state != slot_state::leased)
    return;
  if (st.state == pool_state::draining || st.state == pool_state::destroying ||
      st.state == pool_state::destroyed) {
    retire(self, slot_id, "returned while draining");
    return;
  }
  i->second.state = slot_state::idle;
  st.idle.push_back(slot_id);
  serve_waiters(self);
}

/// Closes lease `id`; an error names what was wrong with it.
caf::error close_lease(self_ptr self, uint64_t id) {
  auto& st = self->state;
  auto [outcome, entry] = st.leases.close(id);
  switch (outcome) {
  case lease_close::released:
    give_back(self, entry->slot);
    check_drained(self);
    return {};
  case lease_close::late_return:
    // Reported again now that it came back; its resource was retired at the leak.
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

/// Counts and publishes a lease taken back from its holder. The slot may be gone
/// already (its resource ended), so it is looked up, not assumed.
void report_reclaimed(self_ptr self, const lease_table<caf::actor_addr>::entry& entry,
                      const char* reason) {
  auto& st = self->state;
  ++st.counters.reclaimed;
  auto i = st.slots.find(entry.slot);
  publish(
    self, "lease_reclaimed", i != st.slots.end() ? i->second.id : "", "", "",
    nlohmann::json{{"lease", entry.id}, {"holder", holder_name(entry.holder)}, {"reason", reason}}
      .dump());
}

/// Takes back every lease and waiter of a holder that died.
void on_holder_down(self_ptr self, const caf::down_msg& msg) {
  auto& st = self->state;
  st.monitored.erase(msg.source);
  st.waiters.remove_holder(msg.source);
  for (auto id : st.leases.held_by(msg.source)) {
    auto [outcome, entry] = st.leases.close(id);
    report_reclaimed(self, *entry, "holder ended");
    give_back(self, entry->slot);
  }
  check_drained(self);
}

void sweep(self_ptr self) {
  auto& st = self->state;
  st.sweep_at.reset();
  auto now = self->clock().now();
  for (auto& w : st.waiters.expire(now)) {
    ++st.counters.timeouts;
    w.payload.deliver(timeout_error(self));
  }
  for (auto id : st.leases.overdue(now)) {
    auto entry = st.leases.reclaim(id);
    ++st.counters.leaks;
    auto i = st.slots.find(entry->slot);
    publish(
      self, "lease_leak", i != st.slots.end() ? i->second.id : "", "", "",
      nlohmann::json{
        {"lease", id},
        {"holder", holder_name(entry->holder)},
        {"held_ms",
         std::chrono::duration_cast<std::chrono::milliseconds>(now - entry->acquired).count()}}
        .dump());
    // The leaking holder may still use it: it is not handed to anyone else.
    retire(self, entry->slot, "lease " + std::to_string(id) + " leaked");
  }
  check_drained(self);
  arm_sweep(self);
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
  if (st.state == pool_state::destroying && st.draining_resources == 0 && st.slots.empty()) {
    set_state(self, pool_state::destroyed, "every resource closed");
    if (st.drain_reply.pending())
      st.drain_reply.deliver(pool_state::destroyed);
  }
}

caf::result<pool_state> begin_drain(self_ptr self) {
  auto& st = self->state;
  if (st.state == pool_state::draining || st.state == pool_state::destroying ||
      st.state == pool_state::destroyed)
    return pool_error(self, errc::invalid_transition,
                      to_string(st.state) + " -> " + to_string(pool_state::draining));
  st.drain_reply = self->make_response_promise<pool_state>();
  set_state(self, pool_state::draining, "drain");
  while (auto w = st.waiters.pop())
    w->payload.deliver(pool_error(self, errc::unavailable, "pool is draining"));
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
    report_reclaimed(self, *st.leases.reclaim(id), "drain timeout");
  }
  check_drained(self);
}

caf::result<pool_state> suspend(self_ptr self) {
  auto& st = self->state;
  if (st.state != pool_state::active)
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
  s.name = st.cfg.name;
  s.state = st.state;
  s.size = st.slots.size();
  s.idle = st.idle.size();
  s.in_use = st.leases.size();
  s.waiters = st.waiters.size();
  return s;
}

pool_impl::behavior_type pool(self_ptr self, pool_config cfg, resource_context ctx) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.ctx = std::move(ctx);
  st.rng.seed(std::hash<std::string>{}(st.cfg.name));
  self->set_down_handler([self](caf::down_msg& msg) { on_holder_down(self, msg); });
  self->set_exit_handler([self](caf::exit_msg& msg) {
    // A resource of this pool ended; anything else ends the pool.
    auto& st = self->state;
    for (auto& [id, s] : st.slots)
      if (s.handle.address() == msg.source) {
        if (s.state != slot_state::retiring) {
          std::erase(st.idle, id);
          st.slots.erase(id);
          grow(self);
        }
        return;
      }
    // A normal exit of a linked actor (a holder, say) is no reason to stop.
    if (msg.reason != caf::exit_reason::normal)
      self->quit(msg.reason);
  });
  set_state(self, pool_state::initializing, "start");
  grow(self);
  if (st.creating == 0)
    set_state(self, pool_state::active, "nothing to warm");
  return {
    [self](acquire_atom) { return acquire(self, self->state.cfg.acquire_timeout); },
    [self](acquire_atom, caf::timespan timeout) { return acquire(self, timeout); },
    [self](release_atom, uint64_t id) -> caf::result<caf::ok_atom> {
      if (auto err = close_lease(self, id))
        return err;
      return caf::ok_atom::value;
    },
    [self](return_atom, uint64_t id) { close_lease(self, id); },
    [self](suspend_atom) { return suspend(self); },
    [self](resume_atom) { return resume(self); },
    [self](drain_atom) { return begin_drain(self); },
    [self](stats_atom) { return stats_of(self); },
    [self](sweep_atom) { sweep(self); },
    [self](deadline_atom) { on_drain_deadline(self); },
    [self](grow_atom) { grow(self); },
  };
}

} // namespace

pool_actor spawn_pool(caf::actor_system& sys, pool_config cfg, resource_context ctx) {
  return sys.spawn(pool, std::move(cfg), std::move(ctx));
}

} // namespace custodian
