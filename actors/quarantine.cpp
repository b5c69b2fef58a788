#include "actors/quarantine.hpp"

#include <map>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <caf/all.hpp>

#include "actors/deadline_timer.hpp"
#include "actors/keyed_schedule.hpp"
#include "actors/recovery_probe.hpp"
#include "messages/errors.hpp"

namespace custodian {

namespace {

/// The earliest recovery attempt may be due; not part of the public interface.
using attempt_atom = caf::atom_constant<caf::atom("attempt")>;

using quarantine_impl = quarantine_actor::extend<caf::reacts_to<attempt_atom>>;

using time_point = std::chrono::steady_clock::time_point;

struct ejected {
  resource_actor handle;
  std::string reason;
  quarantine_watcher_actor watcher;
  uint32_t attempts = 0;
  time_point since;
  bool attempting = false;
};

struct quarantine_state {
  static inline const char* name = "custodian.quarantine";

  quarantine_config cfg;
  std::map<std::string, ejected> resources;
  /// When each resource's next recovery attempt is due.
  keyed_schedule attempts;
  deadline_timer timer;
  std::minstd_rand rng;

  quarantine_state() = default;
};

using self_ptr = quarantine_impl::stateful_pointer<quarantine_state>;

void arm(self_ptr self) {
  if (auto delay = self->state.timer.arm(self->state.attempts.next(), self->clock().now()))
    self->delayed_send(self, *delay, attempt_atom::value);
}

/// Schedules the next recovery attempt of resource `id`.
void schedule(self_ptr self, const std::string& id, const ejected& e) {
  auto& st = self->state;
  std::uniform_real_distribution<double> draw{0.0, 1.0};
  st.attempts.schedule(id, self->clock().now() +
                             ejection_delay(st.cfg.policy, e.attempts, draw(st.rng)));
  arm(self);
}

/// Lets a resource go, telling whoever ejected it.
void finish(self_ptr self, const std::string& id, bool recovered, std::string reason) {
  auto& st = self->state;
  auto i = st.resources.find(id);
  if (i == st.resources.end())
    return;
  auto& e = i->second;
  if (e.watcher)
    self->send(e.watcher, quarantine_outcome{id, recovered, e.attempts, std::move(reason)});
  st.attempts.remove(id);
  st.resources.erase(i);
}

void attempt_failed(self_ptr self, const std::string& id, const std::string& why) {
  auto& st = self->state;
  auto i = st.resources.find(id);
  if (i == st.resources.end())
    return; // released meanwhile
  auto& e = i->second;
  e.attempting = false;
  if (e.attempts >= st.cfg.policy.max_attempts) {
    finish(self, id, false,
           "gave up after " + std::to_string(e.attempts) + " recovery attempts: " + why);
    return;
  }
  schedule(self, id, e);
}

/// One recovery attempt, bounded by the attempt timeout.
void attempt(self_ptr self, const std::string& id) {
  auto& st = self->state;
  auto& e = st.resources.at(id);
  e.attempting = true;
  ++e.attempts;
  probe_recovery(self, e.handle, caf::timespan{st.cfg.attempt_timeout},
                 [self, id, key = *st.attempts.key_of(id)](const caf::error& why_not) {
                   auto i = self->state.resources.find(id);
                   // Released meanwhile, perhaps ejected again: an attempt of an
                   // earlier stay is not this one's.
                   if (i == self->state.resources.end() || !self->state.attempts.current(id, key))
                     return;
                   if (why_not)
                     attempt_failed(self, id, describe(why_not));
                   else
                     finish(self, id, true,
                            "recovered on attempt " + std::to_string(i->second.attempts));
                 });
}

void on_timer(self_ptr self) {
  auto& st = self->state;
  st.timer.fired();
  auto now = self->clock().now();
  for (const auto& id : st.attempts.take_due(now))
    attempt(self, id);
  arm(self);
}

std::vector<quarantine_entry> entries(self_ptr self) {
  auto now = self->clock().now();
  auto ms = [](auto d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); };
  std::vector<quarantine_entry> out;
  for (const auto& [id, e] : self->state.resources) {
    auto next = self->state.attempts.deadline_of(id);
    out.push_back(quarantine_entry{id, e.reason, e.attempts, ms(now - e.since),
                                   e.attempting || !next ? 0 : ms(*next - now)});
  }
  return out;
}

quarantine_impl::behavior_type quarantine(self_ptr self, quarantine_config cfg) {
  self->state.cfg = cfg;
  self->state.rng.seed(static_cast<std::minstd_rand::result_type>(cfg.seed));
  return {
    [self](eject_atom, const std::string& id, const resource_actor& handle,
           const std::string& reason, const quarantine_watcher_actor& watcher) {
      auto& st = self->state;
      if (st.resources.count(id) == 0) {
        st.attempts.add(id);
        auto& e = st.resources[id];
        e.handle = handle;
        e.reason = reason;
        e.watcher = watcher;
        e.since = self->clock().now();
        schedule(self, id, e);
      }
      return caf::ok_atom::value;
    },
    [self](release_atom, const std::string& id) -> caf::result<caf::ok_atom> {
      if (self->state.resources.count(id) == 0)
        return make_error(errc::not_found, "resource " + id + " is not in quarantine");
      finish(self, id, true, "released by an operator");
      return caf::ok_atom::value;
    },
    [self](status_atom) { return entries(self); },
    [self](attempt_atom) { on_timer(self); },
  };
}

} // namespace

quarantine_actor spawn_quarantine(caf::actor_system& sys, quarantine_config cfg) {
  return sys.spawn(quarantine, std::move(cfg));
}

} // namespace custodian
