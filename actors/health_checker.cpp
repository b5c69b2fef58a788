#include "actors/health_checker.hpp"

#include <map>
#include <optional>
#include <random>
#include <string>
#include <utility>

#include <caf/all.hpp>

#include "actors/deadline_timer.hpp"
#include "actors/keyed_schedule.hpp"
#include "drivers/driver.hpp"
#include "messages/errors.hpp"

namespace custodian {

namespace {

/// The earliest probe may be due; not part of the public interface.
using probe_atom = caf::atom_constant<caf::atom("probe")>;

using checker_impl = health_checker_actor::extend<caf::reacts_to<probe_atom>>;

struct watched {
  resource_actor handle;
  health_tracker tracker;
  health_report report;
  bool probing = false;
  /// Probes refused in a row (see max_refused_probes).
  uint32_t refused = 0;
};

struct checker_state {
  static inline const char* name = "custodian.health_checker";

  health_checker_config cfg;
  health_watcher_actor watcher;
  std::map<std::string, watched> resources;
  /// When each watched resource is probed next.
  keyed_schedule probes;
  deadline_timer timer;
  std::minstd_rand rng;

  checker_state() = default;
};

using self_ptr = checker_impl::stateful_pointer<checker_state>;

void arm(self_ptr self) {
  if (auto delay = self->state.timer.arm(self->state.probes.next(), self->clock().now()))
    self->delayed_send(self, *delay, probe_atom::value);
}

void schedule(self_ptr self, const std::string& id) {
  auto& st = self->state;
  std::uniform_real_distribution<double> draw{0.0, 1.0};
  st.probes.schedule(id, self->clock().now() + probe_delay(st.cfg.policy, draw(st.rng)));
  arm(self);
}

/// How a probe ended: skipped (the resource is leased: its holder has it),
/// refused (busy, or in a state that takes no probe), passed, failed, or failed
/// on a connection the server closed.
enum class probe_outcome { skipped, refused, passed, failed, closed };

/// A probe of watch `key` ended; `text` is why it failed, or why a passed one
/// was judged degraded.
void record(self_ptr self, const std::string& id, uint64_t key, probe_outcome outcome,
            uint64_t latency_us, std::string text) {
  auto& st = self->state;
  auto i = st.resources.find(id);
  // Unwatched meanwhile, perhaps watched again: a probe of an earlier watch is
  // not this one's to record or reschedule.
  if (i == st.resources.end() || !st.probes.current(id, key))
    return;
  auto& w = i->second;
  w.probing = false;
  if (outcome == probe_outcome::refused) {
    if (++w.refused <= max_refused_probes) {
      schedule(self, id);
      return;
    }
    outcome = probe_outcome::failed;
    text = "refused " + std::to_string(w.refused) + " probes in a row: " + text;
  } else if (outcome != probe_outcome::failed) {
    w.refused = 0;
  }
  if (outcome != probe_outcome::skipped) {
    auto passed = outcome == probe_outcome::passed;
    auto changed =
      outcome == probe_outcome::closed
        ? w.tracker.record_closed()
        : w.tracker.record(passed, std::chrono::microseconds{latency_us}, passed && !text.empty());
    w.report.status = w.tracker.status();
    w.report.consecutive_failures = w.tracker.consecutive_failures();
    if (passed)
      w.report.latency_us = latency_us;
    w.report.last_error = std::move(text); // after a pass: why a stage judged it degraded
    if (changed && st.watcher)
      self->send(st.watcher, w.report);
  }
  schedule(self, id);
}

void probe(self_ptr self, const std::string& id) {
  auto& w = self->state.resources.at(id);
  w.probing = true;
  auto key = *self->state.probes.key_of(id);
  self->request(w.handle, caf::timespan{self->state.cfg.timeout}, ping_atom::value)
    .then(
      [self, id, key](const ping_result& r) {
        record(self, id, key, probe_outcome::passed, r.latency_us, r.degraded);
      },
      [self, id, key](caf::error& err) {
        if (is(err, errc::leased))
          record(self, id, key, probe_outcome::skipped, 0, {});
        else if (busy(err) || is(err, errc::invalid_transition))
          record(self, id, key, probe_outcome::refused, 0, describe(err));
        else if (driver_reason_of(err) == static_cast<uint8_t>(drivers::driver_errc::closed))
          record(self, id, key, probe_outcome::closed, 0, describe(err));
        else
          record(self, id, key, probe_outcome::failed, 0, describe(err));
      });
}

void on_probe_timer(self_ptr self) {
  auto& st = self->state;
  st.timer.fired();
  auto now = self->clock().now();
  for (const auto& id : st.probes.take_due(now))
    if (!st.resources.at(id).probing)
      probe(self, id);
  arm(self);
}

checker_impl::behavior_type health_checker(self_ptr self, health_checker_config cfg,
                                           health_watcher_actor watcher) {
  auto& st = self->state;
  st.cfg = cfg;
  st.watcher = std::move(watcher);
  st.rng.seed(static_cast<std::minstd_rand::result_type>(cfg.seed));
  return {
    [self](watch_atom, const std::string& id, const resource_actor& handle) {
      auto& st = self->state;
      if (st.resources.count(id) == 0) {
        st.probes.add(id);
        auto& w = st.resources[id];
        w.handle = handle;
        w.tracker = health_tracker{st.cfg.policy};
        w.report.resource = id;
        schedule(self, id);
      }
      return caf::ok_atom::value;
    },
    [self](unwatch_atom, const std::string& id) {
      auto& st = self->state;
      auto i = st.resources.find(id);
      if (i == st.resources.end())
        return;
      st.probes.remove(id);
      st.resources.erase(i);
    },
    [self](status_atom) {
      std::vector<health_report> all;
      for (const auto& [id, w] : self->state.resources)
        all.push_back(w.report);
      return all;
    },
    [self](probe_atom) { on_probe_timer(self); },
  };
}

} // namespace

health_checker_actor spawn_health_checker(caf::actor_system& sys, health_checker_config cfg,
                                          health_watcher_actor watcher) {
  return sys.spawn(health_checker, std::move(cfg), std::move(watcher));
}

} // namespace custodian
