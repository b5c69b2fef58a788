#include "actors/root_supervisor.hpp"

#include <algorithm>
#include <memory>
#include <type_traits>
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
  std::vector<pool_actor> pools;
  std::vector<caf::actor> others;

  // Runs when the root ends for any reason: the tree ends with it.
  ~root_state() {
    auto stop = [](const auto& child) {
      caf::anon_send_exit(child, caf::exit_reason::user_shutdown);
    };
    for (const auto& x : resources)
      stop(x);
    for (const auto& x : pools)
      stop(x);
    for (const auto& x : others)
      stop(x);
    if (bus)
      stop(bus);
  }
};

using self_ptr = root_actor::stateful_pointer<root_state>;

/// Forgets a child that ended on its own.
void forget(self_ptr self, const caf::actor_addr& child) {
  auto& st = self->state;
  auto gone = [&](const auto& hdl) { return hdl.address() == child; };
  st.resources.erase(std::remove_if(st.resources.begin(), st.resources.end(), gone),
                     st.resources.end());
  st.pools.erase(std::remove_if(st.pools.begin(), st.pools.end(), gone), st.pools.end());
  st.others.erase(std::remove_if(st.others.begin(), st.others.end(), gone), st.others.end());
}

caf::result<shutdown_report> shut_down(self_ptr self, caf::timespan deadline) {
  auto promise = self->make_response_promise<shutdown_report>();
  auto& st = self->state;
  auto pending = std::make_shared<std::size_t>(st.resources.size() + st.pools.size());
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
  auto one_done = [pending, finish, report](bool drained) mutable {
    ++(drained ? report->drained : report->forced);
    if (--*pending == 0)
      finish();
  };
  // A child that cannot drain now (in use, initializing, ...) or too slowly is
  // stopped with the tree; its state closes what it holds.
  auto drain = [self, deadline, one_done](const auto& child, auto reply_tag) {
    using reply = typename decltype(reply_tag)::type;
    self->request(child, deadline, drain_atom::value)
      .then([one_done](reply) mutable { one_done(true); },
            [one_done](caf::error&) mutable { one_done(false); });
  };
  for (auto& res : st.resources)
    drain(res, std::type_identity<lifecycle_state>{});
  for (auto& pool : st.pools)
    drain(pool, std::type_identity<pool_state>{});
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
    [self](adopt_atom, pool_actor& pool) {
      self->monitor(pool);
      self->state.pools.push_back(std::move(pool));
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
