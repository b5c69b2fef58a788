#pragma once
// Payloads of supervision: how to start a child, what a supervisor reports about
// its children, and what it tells its watcher.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/meta/type_name.hpp>

#include "messages/restart_policy.hpp"

namespace caf {
class actor_system;
}

namespace custodian {

/// How to start one child of a supervisor. In-process only: `start` is code.
struct child_spec {
  /// Unique among the supervisor's children; names the child in errors and reports.
  std::string id;
  restart_type restart = restart_type::permanent;
  /// Spawns a fresh child, of any interface (caf::actor_cast it); an invalid
  /// handle or a throw means the child did not start.
  std::function<caf::actor(caf::actor_system&)> start;
  /// How long a child told to stop (`user_shutdown`) may take before it is
  /// killed (OTP's default); zero kills it at once (OTP's brutal_kill), for a
  /// child with nothing to wind down in its own time.
  std::chrono::milliseconds shutdown{5'000};
};

/// One child of a supervisor, as `which children` lists it.
struct child_info {
  std::string id;
  restart_type restart = restart_type::permanent;
  /// The running actor; invalid while the child is not running (a transient child
  /// that ended normally, or one waiting for its siblings to stop).
  caf::actor handle;
  /// Times this child was started again.
  uint32_t restarts = 0;

  bool operator==(const child_info&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, child_info& x) {
  return f(caf::meta::type_name("custodian.child_info"), x.id, x.restart, x.handle, x.restarts);
}

/// A child ended and the supervisor restarts it and, by its strategy, siblings.
struct child_restarted {
  std::string supervisor;
  /// The child that ended, and why.
  std::string child;
  std::string reason;
  /// The children started again, in start order.
  std::vector<std::string> restarted;

  bool operator==(const child_restarted&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, child_restarted& x) {
  return f(caf::meta::type_name("custodian.child_restarted"), x.supervisor, x.child, x.reason,
           x.restarted);
}

/// The supervisor gave up: it stopped its children and ends with `reason`.
struct supervisor_escalated {
  std::string supervisor;
  /// The child whose end was one too many.
  std::string child;
  std::string reason;

  bool operator==(const supervisor_escalated&) const = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, supervisor_escalated& x) {
  return f(caf::meta::type_name("custodian.supervisor_escalated"), x.supervisor, x.child, x.reason);
}

} // namespace custodian

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(custodian::child_spec)
