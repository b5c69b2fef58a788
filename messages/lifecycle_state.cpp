#include "messages/lifecycle_state.hpp"

namespace custodian {

std::string to_string(lifecycle_state state) {
  switch (state) {
  case lifecycle_state::created:
    return "created";
  case lifecycle_state::initializing:
    return "initializing";
  case lifecycle_state::ready:
    return "ready";
  case lifecycle_state::in_use:
    return "in_use";
  case lifecycle_state::idle:
    return "idle";
  case lifecycle_state::maintenance:
    return "maintenance";
  case lifecycle_state::draining:
    return "draining";
  case lifecycle_state::cleanup:
    return "cleanup";
  case lifecycle_state::terminated:
    return "terminated";
  case lifecycle_state::failed:
    return "failed";
  }
  return "unknown(" + std::to_string(static_cast<int>(state)) + ")";
}

std::optional<lifecycle_state> lifecycle_state_from_string(std::string_view name) {
  for (auto state : all_lifecycle_states)
    if (to_string(state) == name)
      return state;
  return std::nullopt;
}

} // namespace custodian
