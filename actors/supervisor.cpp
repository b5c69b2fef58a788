#include "actors/supervisor.hpp"

#include <algorithm>
#include <deque>
#include <exception>
#include <map>
#include <utility>

#include <caf/all.hpp>

#include "actors/restart_strategy.hpp"
#include "messages/errors.hpp"

namespace custodian {

namespace {

/// A child told to stop has had its shutdown time; not part of the public interface.
using kill_atom = caf::atom_constant<caf::atom("kill")>;

using supervisor_impl = supervisor_actor::extend<caf::reacts_to<kill_atom, caf::actor_addr>>;

struct child {
  child_spec spec;
  /// Invalid while not running.
  caf::actor handle;
  uint32_t restarts = 0;
  /// Starts again once every child told to stop has ended.
  bool waiting = false;
};

/// A child told to stop, until its down message.
struct stopping_child {
  caf::actor handle;
  /// Stop requests, answered once it has ended.
  std::vector<caf::typed_response_promise<caf::ok_atom>> requests;
};

struct supervisor_state {
  static inline const char* name = "custodian.supervisor";

  std::string id;
  restart_strategy strategy = restart_strategy::one_for_one;
  restart_intensity intensity{0, std::chrono::milliseconds{0}};
  std::string limit; // "more than N restarts within M ms", for the escalation
  supervisor_watcher_actor watcher;
  /// In start order. Monitored, not linked: a child killed outright must not take
  /// its supervisor down. Their handles are kept: a child whose last handle is
  /// dropped would exit. A deque: children stopped oldest first (a pool drains
  /// its resources so) leave from the front at no cost.
  std::deque<child> children;
  std::map<caf::actor_addr, stopping_child> stopping;

  // Declared so that the state is no aggregate: CAF would build it from `self`.
  supervisor_state() = default;
  supervisor_state(const supervisor_state&) = delete;
  supervisor_state& operator=(const supervisor_state&) = delete;

  // Runs when the supervisor ends for any reason: its children end with it, last
  // started first; nobody is left to wait for those already told to stop.
  ~supervisor_state() {
    for (auto i = children.rbegin(); i != children.rend(); ++i)
      if (i->handle)
        caf::anon_send_exit(i->handle, caf::exit_reason::user_shutdown);
    for (auto& [addr, x] : stopping)
      caf::anon_send_exit(x.handle, caf::exit_reason::kill);
  }
};

using self_ptr = supervisor_impl::stateful_pointer<supervisor_state>;

/// What a transient child's end counts as: a stop asked for is no failure.
bool ended_normally(const caf::error& reason) {
  return !reason || reason == caf::exit_reason::normal || reason == caf::exit_reason::user_shutdown;
}

std::string render(self_ptr self, const caf::error& reason) {
  return reason ? self->system().render(reason) : "normal";
}

std::string named(self_ptr self, const std::string& child) {
  return "supervisor " + self->state.id + ": child " + child;
}

/// Gives up: the state's destructor stops every child.
void escalate(self_ptr self, const std::string& child, caf::error reason) {
  auto& st = self->state;
  if (st.watcher)
    self->send(st.watcher, supervisor_escalated{st.id, child, render(self, reason)});
  self->quit(std::move(reason));
}

caf::expected<caf::actor> start(self_ptr self, const child_spec& spec) {
  auto failed = [&](const std::string& why) {
    return make_error(errc::unavailable, named(self, spec.id) + " did not start: " + why);
  };
  caf::actor hdl;
  try {
    hdl = spec.start(self->system());
  } catch (const std::exception& e) {
    return failed(e.what());
  }
  if (!hdl)
    return failed("no actor");
  self->monitor(hdl);
  return hdl;
}

/// Starts a new child after the others.
caf::expected<caf::actor> add(self_ptr self, child_spec spec) {
  auto& st = self->state;
  auto same = [&](const child& c) { return c.spec.id == spec.id; };
  if (std::any_of(st.children.begin(), st.children.end(), same))
    return make_error(errc::bad_request, named(self, spec.id) + " already exists");
  if (!spec.start)
    return make_error(errc::bad_request, named(self, spec.id) + " has no start function");
  auto hdl = start(self, spec);
  if (hdl)
    st.children.push_back(child{std::move(spec), *hdl, 0, false});
  return hdl;
}

/// Tells a running child to stop and kills it if it is still there after its
/// shutdown time; its down message ends the stop.
stopping_child& stop(self_ptr self, child& c) {
  auto addr = c.handle.address();
  if (c.spec.shutdown.count() == 0) {
    self->send_exit(c.handle, caf::exit_reason::kill); // no time to wind down: no timer
  } else {
    self->send_exit(c.handle, caf::exit_reason::user_shutdown);
    self->delayed_send(self, c.spec.shutdown, kill_atom::value, addr);
  }
  auto& entry = self->state.stopping[addr];
  entry.handle = std::move(c.handle);
  c.handle = caf::actor{};
  return entry;
}

/// Starts, in order, the children waiting for their siblings to stop.
void start_waiting(self_ptr self) {
  for (auto& c : self->state.children) {
    if (!c.waiting)
      continue;
    c.waiting = false;
    auto hdl = start(self, c.spec);
    if (!hdl) {
      escalate(self, c.spec.id, std::move(hdl.error()));
      return;
    }
    c.handle = std::move(*hdl);
  }
}

/// A temporary child that is not running is never started again.
void forget_stopped_temporaries(self_ptr self) {
  auto& kids = self->state.children;
  kids.erase(std::remove_if(kids.begin(), kids.end(),
                            [](const child& c) {
                              return c.spec.restart == restart_type::temporary && !c.handle;
                            }),
             kids.end());
}

void child_ended(self_ptr self, std::size_t ended, const caf::error& reason) {
  auto& st = self->state;
  auto id = st.children[ended].spec.id;
  st.children[ended].handle = caf::actor{};
  std::vector<restart_type> types;
  for (const auto& c : st.children)
    types.push_back(c.spec.restart);
  auto to_start = children_to_restart(st.strategy, types, ended, !ended_normally(reason));
  if (to_start.empty()) {
    forget_stopped_temporaries(self);
    return;
  }
  auto why = render(self, reason);
  if (!st.intensity.allow(self->clock().now())) {
    escalate(self, id,
             make_error(errc::unavailable, named(self, id) + " ended (" + why + "), " + st.limit));
    return;
  }
  auto affected = affected_children(st.strategy, st.children.size(), ended);
  for (auto i = affected.rbegin(); i != affected.rend(); ++i)
    if (st.children[*i].handle)
      stop(self, st.children[*i]);
  child_restarted note{st.id, id, why, {}};
  for (auto i : to_start) {
    auto& c = st.children[i];
    if (!c.waiting) {
      c.waiting = true;
      ++c.restarts;
    }
    note.restarted.push_back(c.spec.id);
  }
  forget_stopped_temporaries(self);
  if (st.watcher)
    self->send(st.watcher, std::move(note));
  if (st.stopping.empty())
    start_waiting(self);
}

void on_down(self_ptr self, const caf::down_msg& msg) {
  auto& st = self->state;
  if (auto i = st.stopping.find(msg.source); i != st.stopping.end()) {
    for (auto& request : i->second.requests)
      request.deliver(caf::ok_atom::value);
    st.stopping.erase(i);
    if (st.stopping.empty())
      start_waiting(self);
    return;
  }
  auto running = [&](const child& c) { return c.handle && c.handle.address() == msg.source; };
  auto i = std::find_if(st.children.begin(), st.children.end(), running);
  if (i != st.children.end())
    child_ended(self, static_cast<std::size_t>(i - st.children.begin()), msg.reason);
}

supervisor_impl::behavior_type supervisor(self_ptr self, supervisor_config cfg) {
  auto& st = self->state;
  st.id = std::move(cfg.name);
  st.strategy = cfg.strategy;
  st.intensity = restart_intensity{cfg.max_restarts, cfg.period};
  st.limit = "more than " + std::to_string(cfg.max_restarts) + " restarts within " +
             std::to_string(cfg.period.count()) + " ms";
  st.watcher = std::move(cfg.watcher);
  self->set_down_handler([self](caf::down_msg& msg) { on_down(self, msg); });
  for (auto& spec : cfg.children) {
    if (auto hdl = add(self, std::move(spec)); !hdl) {
      self->quit(std::move(hdl.error()));
      break;
    }
  }
  return {
    [self](start_atom, child_spec& spec) -> caf::result<caf::actor> {
      auto hdl = add(self, std::move(spec));
      if (!hdl)
        return std::move(hdl.error());
      return std::move(*hdl);
    },
    [self](stop_atom, const std::string& id) -> caf::result<caf::ok_atom> {
      auto& kids = self->state.children;
      auto same = [&](const child& c) { return c.spec.id == id; };
      auto i = std::find_if(kids.begin(), kids.end(), same);
      if (i == kids.end())
        return make_error(errc::not_found, "supervisor " + self->state.id + ": no child " + id);
      auto c = std::move(*i);
      kids.erase(i);
      if (!c.handle)
        return caf::ok_atom::value;
      auto promise = self->make_response_promise<caf::ok_atom>();
      stop(self, c).requests.push_back(promise);
      return promise;
    },
    [self](children_atom) {
      std::vector<child_info> out;
      for (const auto& c : self->state.children)
        out.push_back(child_info{c.spec.id, c.spec.restart, c.handle, c.restarts});
      return out;
    },
    [self](kill_atom, const caf::actor_addr& addr) {
      if (auto i = self->state.stopping.find(addr); i != self->state.stopping.end())
        self->send_exit(i->second.handle, caf::exit_reason::kill);
    },
  };
}

} // namespace

supervisor_actor spawn_supervisor(caf::actor_system& sys, supervisor_config cfg) {
  return sys.spawn(supervisor, std::move(cfg));
}

} // namespace custodian
