#include <algorithm>
#include <utility>

#include <nlohmann/json.hpp>

#include "actors/health_tracker.hpp"
#include "actors/pool_data.hpp"
#include "actors/recovery_probe.hpp"
#include "drivers/driver.hpp"
#include "messages/errors.hpp"

namespace custodian::pool_detail {

/// A resource worked: its failures in a row start again from zero, and a
/// resource kept in as degraded for them is no longer.
void clear_failures(pool_data& st, uint64_t slot_id) {
  auto& s = st.slots.at(slot_id);
  s.failures = 0;
  if (s.degraded_by_failures) {
    s.degraded_by_failures = false;
    if (s.health() == health_status::degraded)
      st.slots.set_health(slot_id, health_status::unknown);
  }
}

/// Stops probing a slot's resource.
void forget_health(self_ptr self, uint64_t slot_id) {
  auto& st = self->state;
  auto& s = st.slots.at(slot_id);
  st.slots.set_health(slot_id, health_status::unknown);
  if (st.by_resource.erase(s.id) > 0 && st.checker)
    self->send(st.checker, unwatch_atom::value, s.id);
  review_standing(self);
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

/// The time a check of one resource may take.
caf::timespan check_timeout(const pool_data& st) {
  return caf::timespan{st.cfg.health ? st.cfg.health->timeout : st.cfg.resource.operation_timeout};
}

/// Another resource failed: every idle one is checked (a ping) before it is
/// handed out again, since whatever broke one connection often broke them all.
void revalidate_idle(self_ptr self) {
  auto& st = self->state;
  recall_shelf(self);
  auto ids = st.slots.idle_line();
  for (auto slot_id : ids) {
    auto& s = st.slots.at(slot_id);
    st.slots.set_state(slot_id, slot_state::validating);
    self->request(resource_now(self, slot_id), check_timeout(st), ping_atom::value)
      .then([self,
             slot_id](const ping_result&) { back_in_line(self, slot_id, slot_state::validating); },
            [self, slot_id](caf::error& err) {
              // Busy (a health probe is running) is no verdict: the probe decides.
              if (busy(err)) {
                back_in_line(self, slot_id, slot_state::validating);
                return;
              }
              auto i = self->state.slots.find(slot_id);
              if (i == self->state.slots.end() || i->second.state() != slot_state::validating)
                return;
              ++self->state.counters.validation_failures;
              on_failure(self, slot_id, "failed re-validation: " + describe(err));
            });
  }
}

// --- quarantine -----------------------------------------------------------------

quarantine_actor& quarantine_of(self_ptr self) {
  auto& st = self->state;
  if (st.quarantine && st.quarantine_outdated && st.slots.counts().quarantined == 0) {
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
  forget_health(self, slot_id); // the quarantine probes it now
  st.slots.set_state(slot_id, slot_state::quarantined);
  s.quarantine_on_return.clear();
  ++st.counters.ejections;
  publish(self, "resource_quarantined", s.id, "", "",
          nlohmann::json{{"reason", reason}, {"consecutive_failures", s.failures}}.dump());
  self
    ->request(quarantine_of(self), caf::infinite, eject_atom::value, s.id,
              resource_now(self, slot_id), reason, caf::actor_cast<quarantine_watcher_actor>(self))
    .then([](caf::ok_atom) {}, [](caf::error&) {});
  grow(self); // a replacement, within max_size
  review_standing(self);
}

/// Probes a failed resource in place: back in line if it works; if not, one more
/// failure counts, or, on its last chance, it is replaced.
void recover_in_place(self_ptr self, uint64_t slot_id, std::string reason, bool last_chance) {
  auto& st = self->state;
  auto& s = st.slots.at(slot_id);
  st.slots.set_state(slot_id, slot_state::recovering);
  probe_recovery(self, resource_now(self, slot_id), check_timeout(st),
                 [self, slot_id, reason, last_chance](const caf::error& why_not) {
                   auto i = self->state.slots.find(slot_id);
                   if (i == self->state.slots.end() || i->second.state() != slot_state::recovering)
                     return;
                   auto was_busy = busy(why_not);
                   i->second.busy_probes = was_busy ? i->second.busy_probes + 1 : 0;
                   if (!why_not)
                     back_in_line(self, slot_id, slot_state::recovering);
                   else if (was_busy && i->second.busy_probes <= max_refused_probes)
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
void mark_degraded(pool_data& st, uint64_t slot_id) {
  auto& s = st.slots.at(slot_id);
  st.slots.set_health(slot_id, health_status::degraded);
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
  auto& policy = st.cfg.quarantine->policy;
  if (++s.failures < policy.consecutive_failures) {
    recover_in_place(self, slot_id, reason, false);
  } else if (may_eject(policy, st.slots.live(), st.slots.counts().quarantined)) {
    eject(self, slot_id, reason);
  } else {
    // Probed afresh: the checker's first pass reports it healthy again.
    forget_health(self, slot_id);
    watch_health(self, slot_id);
    mark_degraded(st, slot_id);
    recover_in_place(self, slot_id, reason + " (quarantine full)", true);
    review_standing(self);
  }
}

/// What the quarantine made of a resource: back in line, or replaced.
void on_quarantine_outcome(self_ptr self, const quarantine_outcome& outcome) {
  auto& st = self->state;
  auto slot_id = st.slots.of_resource(outcome.resource);
  if (!slot_id || st.slots.at(*slot_id).state() != slot_state::quarantined)
    return; // retired meanwhile
  auto detail = nlohmann::json{{"attempts", outcome.attempts}, {"reason", outcome.reason}}.dump();
  if (!outcome.recovered) {
    publish(self, "quarantine_gave_up", outcome.resource, "", "", detail);
    retire(self, *slot_id, "quarantine gave up: " + outcome.reason);
    return;
  }
  ++st.counters.reinstated;
  clear_failures(st, *slot_id);
  publish(self, "resource_reinstated", outcome.resource, "", "", detail);
  watch_health(self, *slot_id);
  back_in_line(self, *slot_id, slot_state::quarantined);
}

caf::result<caf::ok_atom> quarantine_by_hand(self_ptr self, const std::string& resource,
                                             const std::string& reason) {
  auto& st = self->state;
  auto slot_id = st.slots.of_resource(resource);
  if (!slot_id)
    return pool_error(self, errc::not_found, "no resource " + resource);
  auto& s = st.slots.at(*slot_id);
  auto why = "by an operator: " + reason;
  switch (s.state()) {
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
                        (s.state() == slot_state::creating ? "being created" : "retiring"));
  }
  return caf::ok_atom::value;
}

caf::result<caf::ok_atom> release_by_hand(self_ptr self, const std::string& resource) {
  auto& st = self->state;
  auto slot_id = st.slots.of_resource(resource);
  if (!slot_id || st.slots.at(*slot_id).state() != slot_state::quarantined)
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

/// The supervisor started resources again: the one that ended (crashed, killed,
/// stopped from outside) and the siblings its strategy takes along. Each lease on
/// them is taken back (the holder's next use says why), and each slot waits for
/// its fresh actor, then initializes it like a new one.
void on_restarted(self_ptr self, const child_restarted& note) {
  auto& st = self->state;
  for (const auto& id : note.restarted) {
    auto slot_id = st.slots.of_resource(id);
    if (!slot_id)
      continue; // retired meanwhile: the supervisor was told to stop it
    auto& s = st.slots.at(*slot_id);
    if (s.state() == slot_state::retiring) {
      finish_retirement(self, *slot_id); // it ended while draining: done with it
      continue;
    }
    if (s.state() == slot_state::creating && !s.handle)
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
    forget_health(self, *slot_id);
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
    st.lease_moves.erase(*slot_id); // meant for the actor that ended
    st.slots.set_state(*slot_id, slot_state::creating);
  }
  check_drained(self);
}

/// A restarted resource's fresh actor.
void on_resource_started(self_ptr self, const std::string& id, const resource_actor& handle) {
  auto& st = self->state;
  auto slot_id = st.slots.of_resource(id);
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
  st.slots.set_health(slot_id, report.status);
  publish(self, "health", s.id, "", to_string(report.status),
          nlohmann::json{{"consecutive_failures", report.consecutive_failures},
                         {"latency_us", report.latency_us},
                         {"last_error", report.last_error}}
            .dump());
  if (report.status == health_status::healthy)
    clear_failures(st, slot_id);
  if (report.status == health_status::unhealthy) {
    if (s.state() == slot_state::idle) {
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
      st.slots.set_health(slot_id, health_status::unknown);
    st.by_resource.clear();
  }
  start_checker(self);
}

} // namespace custodian::pool_detail
