#pragma once
// A supervisor with OTP's semantics: starts an ordered list of children, monitors
// them (a kill cannot be trapped, so links would spread it), and when one ends
// stops the siblings its strategy affects, last started first, waits until they
// have ended, and starts them again in order as fresh actors. More than
// max_restarts within period: it stops every child and ends with an error naming
// the child, which whoever monitors it sees. Its children end with it.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "messages/restart_policy.hpp"
#include "messages/supervisor_actor.hpp"

namespace caf {
class actor_system;
}

namespace custodian {

struct supervisor_config {
  /// Names the supervisor in its errors and reports.
  std::string name;
  restart_strategy strategy = restart_strategy::one_for_one;
  /// More than max_restarts within period escalates (OTP's defaults).
  uint32_t max_restarts = 1;
  std::chrono::milliseconds period{5'000};
  /// Started in this order at spawn; one that does not start ends the supervisor.
  std::vector<child_spec> children;
  /// Optional: hears of every restart and of the escalation.
  supervisor_watcher_actor watcher;
};

supervisor_actor spawn_supervisor(caf::actor_system& sys, supervisor_config cfg);

} // namespace custodian
