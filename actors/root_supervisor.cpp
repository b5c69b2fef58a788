#include "actors/root_supervisor.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#include <vector>

#include <caf/all.hpp>

#include "actors/event_bus.hpp"

namespace custodian {

namespace {

struct root_state {
  static inline const char* name = "custodian.root";
  // Declared so that the state is no aggregate: CAF would build it from `self`.
  root_state() = default;
  root_state(const root_state&) = delete;
  root_state& operator=(const root_state&) = delete;

  // Children are monitored, not linked: a child killed outright (a kill cannot be
  // trapped) must not take the whole tree down. Their handles are kept: a child
  // whose last handle is dropped would exit.
  event_bus_actor bus;
  std::vector<resource_actor> resources;
  registry_actor registry;
  std::vector<caf::actor> others;

  // Runs when the root ends for any reason: the tree ends with it.
  ~root_state() {
    auto stop = [](const auto& child) {
      caf::anon_send_exit(child, caf::exit_reason::user_shutdown);
    };
    for (const auto& x : resources)
      stop(x);
    if (registry)
      stop(registry);
    for (const auto& x : others)
      stop(x);
    if (bus)
      stop(bus);
  }
};

using self_ptr = root_actor::stateful_pointer<root_state>;

/// How much longer than the shutdown deadline the root waits for the registry's
/// report, which the registry sends at the deadline at the latest.
constexpr auto registry_slack = std::chrono::milliseconds{500};

/// Forgets a child that ended on its own.
void forget(self_ptr self, const caf::actor_addr& child) {
  auto& st = self->state;
  auto gone = [&](const auto& hdl) { return hdl.address() == child; };
  st.resources.erase(std::remove_if(st.resources.begin(), st.resources.end(), gone),
                     st.resources.end());
  if (st.registry && gone(st.registry))
    st.registry = registry_actor{};
  st.others.erase(std::remove_if(st.others.begin(), st.others.end(), gone), st.others.end());
}

caf::result<shutdown_report> shut_down(self_ptr self, caf::timespan deadline) {
  auto promise = self->make_response_promise<shutdown_report>();
  auto& st = self->state;
  auto pending = std::make_shared<std::size_t>(st.resources.size() + (st.registry ? 1 : 0));
  auto report = std::make_shared<shutdown_report>();
  // Subscribers get every event of the drain before the tree stops.
  auto finish = [self, promise, report, deadline]() mutable {
    auto stop = [self, promise, report]() mutable {
      promise.deliver(*report);
      self->quit(caf::exit_reason::user_shutdown);
    };
    self->request(self->state.bus, deadline, flush_atom::value)
      .then([stop](caf::ok_atom) mutable { stop(); }, [stop](caf::error&) mutable { stop(); });
  };
  if (*pending == 0) {
    finish();
    return promise;
  }
  auto one_done = [pending, finish, report](uint64_t drained, uint64_t forced) mutable {
    report->drained += drained;
    report->forced += forced;
    if (--*pending == 0)
      finish();
  };
  // A resource that cannot drain now (in use, initializing, ...) or too slowly is
  // stopped with the tree; its state closes what it holds.
  for (auto& res : st.resources)
    self->request(res, deadline, drain_atom::value)
      .then([one_done](lifecycle_state) mutable { one_done(1, 0); },
            [one_done](caf::error&) mutable { one_done(0, 1); });
  // The registry keeps the deadline itself, stopping the pools it could not drain;
  // the slack lets its report arrive.
  if (st.registry)
    self->request(st.registry, deadline + registry_slack, drain_atom::value, deadline)
      .then(
        [one_done](const drain_report& r) mutable { one_done(r.drained.size(), r.forced.size()); },
        [one_done](caf::error&) mutable { one_done(0, 0); });
  return promise;
}

root_actor::behavior_type root_supervisor(self_ptr self) {
  self->set_down_handler([self](caf::down_msg& msg) { forget(self, msg.source); });
  // Shutdown requested from outside the tree; a normal exit of an actor linked to
  // the root from outside is none.
  self->set_exit_handler([self](caf::exit_msg& msg) {
    if (msg.reason != caf::exit_reason::normal)
      self->quit(msg.reason);
  });
  self->state.bus = spawn_event_bus(self->system());
  self->monitor(self->state.bus);
  return {
    [self](caf::get_atom) { return self->state.bus; },
    [self](adopt_atom, resource_actor& res) {
      self->monitor(res);
      self->state.resources.push_back(std::move(res));
      return caf::ok_atom::value;
    },
    [self](adopt_atom, registry_actor& registry) {
      self->monitor(registry);
      self->state.registry = std::move(registry);
      return caf::ok_atom::value;
    },
    [self](adopt_atom, caf::actor& other) {
      self->monitor(other);
      self->state.others.push_back(std::move(other));
      return caf::ok_atom::value;
    },
    [self](shutdown_atom, caf::timespan deadline) { return shut_down(self, deadline); },
  };
}

} // namespace

root_actor spawn_root_supervisor(caf::actor_system& sys) {
  return sys.spawn(root_supervisor);
}

} // namespace custodian
