#include <algorithm>
#include <utility>

#include <nlohmann/json.hpp>

#include "actors/pool_data.hpp"
#include "actors/pool_supervisor.hpp"
#include "drivers/driver.hpp"
#include "messages/errors.hpp"

namespace custodian::pool_detail {

/// Has the supervisor stop a resource for good (not to be started again).
void stop_resource(self_ptr self, const std::string& id) {
  if (self->state.supervisor)
    self->request(self->state.supervisor, caf::infinite, stop_atom::value, id)
      .then([](caf::ok_atom) {}, [](caf::error&) {});
}

/// Ends the quarantine's attempts on a resource the pool lets go of; the outcome
/// it sends back then finds the resource gone and is ignored.
void drop_from_quarantine(self_ptr self, const slot& s) {
  if (s.state() == slot_state::quarantined && self->state.quarantine)
    self->request(self->state.quarantine, caf::infinite, release_atom::value, s.id)
      .then([](caf::ok_atom) {}, [](caf::error&) {});
}

/// A retiring resource has drained (or could not): its actor is stopped for good
/// and the pool forgets it. Idempotent.
void finish_retirement(self_ptr self, uint64_t slot_id) {
  auto& st = self->state;
  auto i = st.slots.find(slot_id);
  if (i == st.slots.end() || i->second.state() != slot_state::retiring)
    return; // finished already, or its supervisor gave up and took it along
  stop_resource(self, i->second.id);
  st.slots.erase(slot_id);
  st.lease_moves.erase(slot_id);
  ++st.counters.closed;
  check_drained(self);
  settle_scaling(self);
}

/// An outdated slot is retiring: a spare replacement no longer waits for it, and
/// the last one ends the rolling replace.
void on_outdated_gone(self_ptr self) {
  auto& st = self->state;
  st.spare = std::min(st.spare, st.slots.counts().outdated);
  if (st.slots.counts().outdated == 0)
    publish(self, "rolling_replace_done", "", "", "", "{}");
}

/// Ends a resource: drains it (it closes its handle) and forgets it. The pool
/// refills to min_idle at once, not at the next sweep.
void retire(self_ptr self, uint64_t slot_id, const std::string& reason) {
  auto& st = self->state;
  auto i = st.slots.find(slot_id);
  if (i == st.slots.end() || i->second.state() == slot_state::retiring)
    return;
  drop_from_quarantine(self, i->second);
  if (i->second.outdated()) {
    st.slots.set_outdated(slot_id, false);
    on_outdated_gone(self);
  }
  st.slots.set_state(slot_id, slot_state::retiring);
  forget_health(self, slot_id);
  if (i->second.retire_at != time_point::max())
    st.lifetimes.remove(i->second.retire_at, slot_id);
  publish(self, "resource_retired", i->second.id, "", "",
          nlohmann::json{{"reason", reason}}.dump());
  auto handle = resource_now(self, slot_id);
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

void on_created(self_ptr self, uint64_t slot_id) {
  auto& st = self->state;
  ++st.counters.created;
  st.pacing.succeeded();
  st.failed_tries = 0; // a resource works: the pool's tries start afresh
  auto i = st.slots.find(slot_id);
  if (i == st.slots.end() || i->second.state() != slot_state::creating)
    return;
  auto now = self->clock().now();
  st.slots.set_state(slot_id, slot_state::idle);
  i->second.idle_since = now;
  i->second.last_good = now;
  i->second.retire_at = lifetime_end(self, now);
  if (i->second.retire_at != time_point::max())
    st.lifetimes.add(i->second.retire_at, slot_id);
  watch_health(self, slot_id);
  if (slot_id == st.replacing) {
    st.replacing = 0;
    ++st.spare;
    retire_replaced(self);
  }
  if (st.state == pool_state::initializing && st.slots.counts().creating == 0)
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
  if (st.slots.idle_line().empty() && st.slots.counts().creating <= 1)
    while (auto w = st.waiters.pop())
      refuse(w->payload, backend_down_error(self));
  retire(self, slot_id, "creation failed: " + why);
  if (st.state == pool_state::initializing && st.slots.counts().creating == 0)
    set_state(self, pool_state::active, "min_idle warmed with failures");
  review_standing(self);
}

/// Initializes a slot's resource, just started (or started again).
void initialize(self_ptr self, uint64_t slot_id, resource_actor handle) {
  auto& st = self->state;
  auto i = st.slots.find(slot_id);
  if (i == st.slots.end() || i->second.state() != slot_state::creating)
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
  auto id = st.cfg.name + "-" + std::to_string(st.slots.next_slot_id());
  auto slot_id = st.slots.add(id);
  auto view = std::make_shared<connection_view>();
  st.slots.at(slot_id).view = view;
  auto spec = resource_child(st.resource_template, st.ctx, std::move(id), std::move(view),
                             caf::actor_cast<resource_restart_watcher>(self));
  self->request(st.supervisor, caf::infinite, start_atom::value, std::move(spec))
    .then(
      [self, slot_id](caf::actor& handle) {
        initialize(self, slot_id, caf::actor_cast<resource_actor>(handle));
      },
      [self, slot_id, gen = st.generation](caf::error& err) {
        // The supervisor could not start it, or is gone (the pool hears of that).
        if (self->state.generation == gen && self->state.slots.contains(slot_id))
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
  auto live = st.slots.live();
  auto idle = idle_now(st);
  if (st.pacing.backend_down()) {
    // One creation at a time probes a backend known down: on demand at once when
    // that is cheap, else after the backoff (grow_atom comes back). It is tried
    // even without demand when nothing is left, since the pool counts as
    // unhealthy until one succeeds and its dependants refuse their acquires.
    auto wanted = !st.waiters.empty() || idle < st.cfg.min_idle || live == 0;
    if (st.slots.counts().creating > 0 ||
        !st.pacing.may_create(self->clock().now(), !st.waiters.empty()))
      return;
    if (wanted && live < st.cfg.max_size)
      create_resource(self);
    else
      roll(self); // a rolling replace probes the new backend the same way
    return;
  }
  while (live < st.cfg.max_size && (st.slots.counts().creating < st.waiters.size() ||
                                    idle + st.slots.counts().creating < st.cfg.min_idle)) {
    create_resource(self);
    ++live;
  }
  roll(self);
}

/// A pool scaling after a resize is active again once it is within its bounds.
void settle_scaling(self_ptr self) {
  auto& st = self->state;
  if (st.state == pool_state::scaling && st.slots.counts().creating == 0 &&
      st.slots.live() <= st.cfg.max_size)
    set_state(self, pool_state::active, "resized");
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
  for (auto i = st.slots.begin(); st.slots.live() > max_size && i != st.slots.end();) {
    auto slot_id = (i++)->first;
    if (st.slots.at(slot_id).state() == slot_state::quarantined)
      retire(self, slot_id, "pool shrunk");
  }
  while (st.slots.live() > max_size && !st.slots.idle_line().empty())
    retire(self, st.slots.idle_line().front(), "pool shrunk");
  grow(self);
  serve_waiters(self);
  if (st.serving() && (st.slots.counts().creating > 0 || st.slots.live() > max_size))
    set_state(self, pool_state::scaling, "resize");
  arm_sweep(self);
  return stats_of(self);
}

/// What every resource is made from: the config's template with pool and driver.
void make_template(pool_data& st) {
  st.pacing.configure(st.cfg.resource.init.backoff); // creations are resources' connects
  auto templ = st.cfg.resource;
  templ.pool = st.cfg.name;
  templ.driver = st.cfg.driver;
  st.resource_template = std::make_shared<const resource_config>(std::move(templ));
}

/// Creates the replacement of one outdated resource once the last one is in:
/// the pool goes at most one above max_size meanwhile.
void roll(self_ptr self) {
  auto& st = self->state;
  if (st.slots.counts().outdated == 0 || st.replacing != 0 || st.spare > 0 || !st.serving() ||
      st.slots.live() > st.cfg.max_size)
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
        if (s.outdated() && s.state() == wanted)
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
    if (s.state() == slot_state::retiring || s.outdated())
      continue;
    st.slots.set_outdated(slot_id, true);
    if (s.state() == slot_state::creating)
      unborn.push_back(slot_id);
  }
  if (st.slots.counts().outdated > 0)
    publish(self, "rolling_replace", "", "", "",
            nlohmann::json{{"outdated", st.slots.counts().outdated}}.dump());
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

} // namespace custodian::pool_detail
