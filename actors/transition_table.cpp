#include "actors/transition_table.hpp"

namespace custodian {

bool is_valid_transition(lifecycle_state from, lifecycle_state to, bool recoverable) {
  using s = lifecycle_state;
  switch (from) {
  case s::created:
    return to == s::initializing;
  case s::initializing:
    return to == s::ready || to == s::failed;
  case s::ready:
    return to == s::in_use || to == s::maintenance || to == s::draining;
  case s::in_use:
    return to == s::idle || to == s::failed;
  case s::idle:
    return to == s::in_use || to == s::maintenance || to == s::draining;
  case s::maintenance:
    return to == s::ready || to == s::failed;
  case s::draining:
    return to == s::cleanup;
  case s::cleanup:
    return to == s::terminated;
  case s::terminated:
    return false;
  case s::failed:
    return to == s::draining || (recoverable && to == s::initializing);
  }
  return false;
}

} // namespace custodian
