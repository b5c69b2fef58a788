#include <algorithm>
#include <utility>

#include <nlohmann/json.hpp>

#include "actors/pool_data.hpp"
#include "drivers/driver.hpp"
#include "messages/errors.hpp"

namespace custodian::pool_detail {

// --- leases -----------------------------------------------------------------------

std::optional<uint64_t> take_idle(self_ptr self) {
  auto& st = self->state;
  while (auto next = st.slots.next_idle(st.cfg.lifo)) {
    auto slot_id = *next;
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

uint64_t microseconds_of(caf::timespan t) {
  return static_cast<uint64_t>(
    std::max<int64_t>(0, std::chrono::duration_cast<std::chrono::microseconds>(t).count()));
}

void record_wait(pool_data& st, caf::timespan waited) {
  auto us = microseconds_of(waited);
  auto bucket = std::lower_bound(acquire_wait_bounds_us.begin(), acquire_wait_bounds_us.end(), us) -
                acquire_wait_bounds_us.begin();
  ++st.counters.acquire_wait_histogram[static_cast<std::size_t>(bucket)];
  st.counters.acquire_wait_total_us += us;
}

/// Leases an idle slot to `holder`. A lease for anyone but the shelf is an
/// acquire: counted and told to the resource (one-way: the pool does not wait),
/// which publishes it with the time since `queued_at` (none: no wait).
lease open_lease(self_ptr self, uint64_t slot_id, holder_ref holder, time_point queued_at) {
  auto& st = self->state;
  auto& s = st.slots.at(slot_id);
  st.slots.set_state(slot_id, slot_state::leased);
  auto now = self->clock().now();
  auto for_shelf = holder == shelf_holder;
  auto& entry = st.leases.open(slot_id, std::move(holder), now, st.cfg.lease_ttl);
  if (st.cfg.lease_ttl.count() > 0)
    arm_sweep(self);
  if (!for_shelf) {
    ++st.counters.acquired;
    auto waited = queued_at == time_point{} ? caf::timespan{0} : now - queued_at;
    tell_resource(self, slot_id,
                  lease_note{entry.id, holder_name(entry.holder), microseconds_of(waited)});
  }
  return lease{entry.id, st.cfg.name, s.id, s.handle};
}

/// A thread's take or return of a shelf's resource as an event: published soon,
/// in a batch (the resource does not hear of it: see lease_shelf.hpp).
void publish_shelf_note(self_ptr self, const lease_shelf::note& n, std::string resource) {
  // Written by hand: this runs on every take and return.
  auto detail = R"({"lease":)" + std::to_string(n.lease) + R"(,"holder":)" +
                nlohmann::json(thread_holder_name(n.thread)).dump() +
                (n.returned ? R"(,"hold_us":)" + std::to_string(n.held.count())
                            : std::string{R"(,"wait_us":0)"}) +
                R"(,"shelf":true})";
  publish_soon(self,
               event{0, caf::make_timestamp(), n.returned ? "lease_released" : "lease_acquired",
                     self->state.cfg.name, std::move(resource), "", "", std::move(detail)});
}

/// Publishes what threads did with the shelf's resources since the last time.
/// Called before a lease the shelf holds closes, so that each note finds its
/// resource.
void collect_shelf_notes(self_ptr self) {
  auto& st = self->state;
  for (const auto& n : st.shelf->take_notes()) {
    auto entry = st.leases.find(n.lease);
    publish_shelf_note(self, n, entry ? slot_name(self, entry->slot) : std::string{});
  }
}

/// Lease `entry` ended: its resource is told (one-way), unless the shelf held it.
void tell_lease_end(self_ptr self, const lease_entry& entry, std::string reason) {
  if (entry.holder == shelf_holder)
    return;
  if (self->state.slots.contains(entry.slot))
    tell_resource(self, entry.slot,
                  lease_end{entry.id, std::move(reason),
                            microseconds_of(self->clock().now() - entry.acquired)});
}

/// Leases an idle slot to a waiter and answers it.
void grant(self_ptr self, uint64_t slot_id, holder_ref holder, lease_reply& reply) {
  auto granted = open_lease(self, slot_id, std::move(holder), reply.queued_at);
  if (reply.blocking)
    reply.blocking->grant(std::move(granted), self->state.slots.at(slot_id).view->get(),
                          self->state.shelf);
  else
    reply.promise.deliver(std::move(granted));
}

// --- the shelf ------------------------------------------------------------------

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
  if (st.slots.idle_line().empty() || !may_shelve(self))
    return;
  std::vector<lease_shelf::stocked> items;
  for (auto slot_id : std::deque<uint64_t>{st.slots.idle_line()}) {
    auto& s = st.slots.at(slot_id);
    auto conn = s.view->get();
    if (!conn || s.outdated() || s.health() == health_status::degraded)
      continue;
    if (!st.shelf_oldest || s.idle_since < *st.shelf_oldest)
      st.shelf_oldest = s.idle_since;
    items.push_back({{open_lease(self, slot_id, shelf_holder, {}), std::move(conn)}, s.idle_since});
  }
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
  collect_shelf_notes(self); // closed to takes now; its leases are still open
  if (back.empty())
    return false;
  auto now = self->clock().now();
  for (const auto& r : back) {
    auto [outcome, entry] = st.leases.close(r.lease);
    if (outcome != lease_close::released)
      continue;
    st.slots.set_state(entry->slot, slot_state::idle);
    st.slots.at(entry->slot).idle_since = r.used ? now : r.idle_since;
  }
  // The sweep reads the front as the longest idle.
  st.slots.sort_idle_by_since();
  return true;
}

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
  st.slots.set_state(slot_id, slot_state::validating);
  auto hand_over = [self, slot_id, holder, reply]() mutable {
    auto& st = self->state;
    auto i = st.slots.find(slot_id);
    if (i == st.slots.end() || i->second.state() != slot_state::validating)
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
  self
    ->request(resource_now(self, slot_id), caf::timespan{st.cfg.health->timeout}, ping_atom::value)
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
            i != st.slots.end() && i->second.state() == slot_state::validating) {
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
      return {{}, slot_id};
    }
  // The backend is known down and no creation will answer soon: say why now. A
  // creation in flight, or one this acquire may start (after a cheap failure),
  // answers it instead.
  if (st.serving() && st.pacing.backend_down() && st.slots.counts().creating == 0 &&
      (st.slots.live() >= st.cfg.max_size || !st.pacing.may_create(self->clock().now(), true)))
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
  if (now.slot && !needs_check(self, self->state.slots.at(*now.slot))) {
    auto granted = open_lease(self, *now.slot, holder_ref{sender, {}}, {});
    grow(self); // keeps min_idle idle while this one is out
    return granted;
  }
  auto promise = self->make_response_promise<lease>();
  lease_reply reply{promise, nullptr, self->clock().now()};
  if (now.slot) {
    check_then_grant(self, *now.slot, holder_ref{sender, {}}, std::move(reply),
                     self->clock().now() + timeout);
    grow(self);
  } else
    enqueue(self, timeout, holder_ref{sender, {}}, std::move(reply));
  return promise;
}

void acquire_for_thread(self_ptr self, caf::timespan timeout, const blocking_acquire& reply) {
  // The caller found the shelf empty; from now on it is stocked for threads.
  self->state.shelf_wanted = true;
  holder_ref holder{{}, reply->holder()};
  lease_reply answer{{}, reply, self->clock().now()};
  auto now = answer_at_once(self);
  if (now.refused)
    refuse(answer, std::move(now.refused));
  else if (now.slot) {
    hand_over(self, *now.slot, std::move(holder), answer, self->clock().now() + timeout);
    grow(self);
  } else
    enqueue(self, timeout, std::move(holder), std::move(answer));
  stock_shelf(self);
}

/// Has a resource reset by its driver (out of line meanwhile) and puts it back in
/// line; a failure there is handled as any other failure of the resource.
void reset_then_back_in_line(self_ptr self, uint64_t slot_id, const std::string& why) {
  auto& st = self->state;
  auto& s = st.slots.at(slot_id);
  st.slots.set_state(slot_id, slot_state::validating);
  publish(self, "maintenance", s.id, "", "", nlohmann::json{{"reason", why}}.dump());
  auto bound = caf::timespan{st.cfg.resource.operation_timeout + std::chrono::seconds{1}};
  self->request(resource_now(self, slot_id), bound, maintain_atom::value)
    .then([self, slot_id](lifecycle_state) { back_in_line(self, slot_id, slot_state::validating); },
          [self, slot_id](caf::error& err) {
            auto i = self->state.slots.find(slot_id);
            if (i != self->state.slots.end() && i->second.state() == slot_state::validating)
              on_failure(self, slot_id, "maintenance failed: " + describe(err));
          });
}

/// Puts a resource whose lease ended back in line, unless it must go.
void give_back(self_ptr self, uint64_t slot_id) {
  auto& st = self->state;
  auto i = st.slots.find(slot_id);
  if (i == st.slots.end() || i->second.state() != slot_state::leased)
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
  if (s.health() == health_status::unhealthy) {
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
  if (s.outdated() && st.spare > 0) {
    --st.spare;
    retire(self, slot_id, replaced_reason);
    return;
  }
  if (st.slots.live() > st.cfg.max_size + st.spare) {
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
  st.slots.set_state(slot_id, slot_state::idle);
  s.idle_since = now;
  s.last_good = now;
  clear_failures(st, slot_id); // its holder found nothing wrong
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
  // What threads did with it on the shelf is published before it closes.
  if (auto open = st.leases.find(id); open && open->holder == shelf_holder)
    collect_shelf_notes(self);
  auto [outcome, entry] = st.leases.close(id);
  switch (outcome) {
  case lease_close::released:
    tell_lease_end(self, *entry, "returned");
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
    tell_lease_end(self, *entry, "taken back: its holder ended");
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
  if (i == st.slots.end() || i->second.state() != from)
    return;
  auto now = self->clock().now();
  if (i->second.expired || i->second.retire_at <= now) {
    ++st.counters.expired;
    retire(self, slot_id, "max_lifetime reached");
    return;
  }
  st.slots.set_state(slot_id, slot_state::idle);
  i->second.idle_since = now;
  i->second.last_good = now;
  serve_waiters(self);
  if (st.cfg.idle_timeout.count() > 0)
    arm_sweep(self); // the sweep may have found nothing idle and stopped
  review_standing(self);
}

/// The resource of an open lease failed: the lease is taken back (its holder's
/// next use learns why) and the resource replaced.
void fail_leased(self_ptr self, uint64_t lease_id, const std::string& reason) {
  auto& st = self->state;
  auto entry = st.leases.reclaim(lease_id, "its resource failed: " + reason);
  if (!entry)
    return;
  tell_lease_end(self, *entry, "taken back: " + reason);
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
                                       i->second.state() == slot_state::retiring ||
                                       i->second.state() == slot_state::creating)
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
      clear_failures(self->state, slot_id);
  }
  if (broke)
    fail_slot(self, slot_id, *broke);
}

/// Whether lease `id` was taken back (leaked, failed, drained) during its exec.
bool taken_back(self_ptr self, uint64_t id) {
  return self->state.leases.reclaim_reason(id) != nullptr;
}

/// Answers an exec. An exec whose lease was taken back meanwhile says so, even if
/// the call worked: the holder has no resource any more.
void deliver(self_ptr self, uint64_t lease_id, bool was_taken_back,
             caf::typed_response_promise<std::string>& promise,
             caf::expected<std::string>& outcome) {
  if (was_taken_back)
    promise.deliver(unusable_lease(self, lease_id));
  else if (outcome)
    promise.deliver(std::move(*outcome));
  else
    promise.deliver(outcome.error());
}

/// An exec on a leased resource (in_use for its lease). A failed call's error
/// tells whether it broke the resource.
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
  auto promise = self->make_response_promise<std::string>();
  // The resource bounds the call itself; this bound, twice as long, only covers a
  // resource stopped mid-call (its lease leaked or failed), which never answers.
  auto bound = 2 * caf::timespan{st.cfg.resource.operation_timeout};
  self->request(resource_now(self, slot_id), bound, exec_atom::value, std::move(request))
    .then(
      [self, slot_id, lease_id, promise](std::string& response) mutable {
        caf::expected<std::string> outcome{std::move(response)};
        auto was_taken_back = taken_back(self, lease_id);
        end_exec(self, slot_id, std::nullopt);
        deliver(self, lease_id, was_taken_back, promise, outcome);
      },
      [self, slot_id, lease_id, promise](caf::error& err) mutable {
        // A call that timed out or broke the connection broke the resource, as
        // did one that never came back (the resource is gone).
        auto reason = driver_reason_of(err);
        auto broke =
          err.category() != error_category || is(err, errc::timeout) ||
          (reason != 0 && drivers::breaks_connection(static_cast<drivers::driver_errc>(reason)));
        auto why = describe(err);
        caf::expected<std::string> outcome{std::move(err)};
        auto was_taken_back = taken_back(self, lease_id);
        end_exec(self, slot_id, broke ? std::optional<std::string>{why} : std::nullopt);
        deliver(self, lease_id, was_taken_back, promise, outcome);
      });
  return promise;
}

caf::result<caf::ok_atom> report_failure(self_ptr self, uint64_t lease_id, std::string reason) {
  if (!self->state.leases.find(lease_id))
    return unusable_lease(self, lease_id);
  fail_leased(self, lease_id, "reported by its holder: " + reason);
  return caf::ok_atom::value;
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
  if (s.state() != slot_state::idle)
    return pool_error(self, errc::unavailable,
                      "resource " + id + " is " + to_string(s.state()) +
                        ": only an idle one is maintained");
  reset_then_back_in_line(self, slot_id, "asked by an operator");
  return caf::ok_atom::value;
}

} // namespace custodian::pool_detail
