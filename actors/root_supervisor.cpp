#include "actors/root_supervisor.hpp"

#include <algorithm>
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
  event_bus_actor bus;
  // Children's handles are kept: a child whose last handle is dropped would exit.
  std::vector<resource_actor> resources;
  std::vector<caf::actor> others;
};

using self_ptr = root_actor::stateful_pointer<root_state>;

/// Forgets a child that ended on its own.
void forget(self_ptr self, const caf::actor_addr& child) {
  auto& st = self->state;
  auto gone = [&](const auto& hdl) { return hdl.address() == child; };
  st.resources.erase(std::remove_if(st.resources.begin(), st.resources.end(), gone),
                     st.resources.end());
  st.others.erase(std::remove_if(st.others.begin(), st.others.end(), gone), st.others.end());
}

bool is_child(self_ptr self, const caf::actor_addr& addr) {
  auto& st = self->state;
  auto same = [&](const auto& hdl) { return hdl.address() == addr; };
  return st.bus.address() == addr || std::any_of(st.resources.begin(), st.resources.end(), same) ||
         std::any_of(st.others.begin(), st.others.end(), same);
}

caf::result<shutdown_report> shut_down(self_ptr self, caf::timespan deadline) {
  auto promise = self->make_response_promise<shutdown_report>();
  auto pending = std::make_shared<std::size_t>(self->state.resources.size());
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
  for (auto& res : self->state.resources) {
    auto one_done = [pending, finish](bool drained, shutdown_report& r) mutable {
      ++(drained ? r.drained : r.forced);
      if (--*pending == 0)
        finish();
    };
    self->request(res, deadline, drain_atom::value)
      .then([report, one_done](lifecycle_state) mutable { one_done(true, *report); },
            // Not drainable now (in use, initializing, ...) or too slow: it is stopped
            // with the tree and its state closes its handle.
            [report, one_done](caf::error&) mutable { one_done(false, *report); });
  }
  return promise;
}

root_actor::behavior_type root_supervisor(self_ptr self) {
  self->set_exit_handler([self](caf::exit_msg& msg) {
    if (is_child(self, msg.source)) {
      forget(self, msg.source);
      return;
    }
    self->quit(msg.reason); // shutdown requested from outside the tree
  });
  self->state.bus = spawn_event_bus(self->system());
  self->link_to(self->state.bus);
  return {
    [self](caf::get_atom) { return self->state.bus; },
    [self](adopt_atom, resource_actor& res) {
      self->link_to(res);
      self->state.resources.push_back(std::move(res));
      return caf::ok_atom::value;
    },
    [self](adopt_atom, caf::actor& other) {
      self->link_to(other);
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
