#include "messages/pool_state.hpp"

namespace custodian {

std::string to_string(pool_state state) {
  switch (state) {
  case pool_state::creating:
    return "creating";
  case pool_state::initializing:
    return "initializing";
  case pool_state::active:
    return "active";
  case pool_state::suspended:
    return "suspended";
  case pool_state::scaling:
    return "scaling";
  case pool_state::draining:
    return "draining";
  case pool_state::destroying:
    return "destroying";
  case pool_state::destroyed:
    return "destroyed";
  case pool_state::error:
    return "error";
  }
  return "unknown(" + std::to_string(static_cast<int>(state)) + ")";
}

std::optional<pool_state> pool_state_from_string(std::string_view name) {
  for (int i = 0; i <= static_cast<int>(pool_state::error); ++i)
    if (to_string(static_cast<pool_state>(i)) == name)
      return static_cast<pool_state>(i);
  return std::nullopt;
}

} // namespace custodian
