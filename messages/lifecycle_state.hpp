#pragma once
// The states of a resource's lifecycle; each one is a behaviour of the resource actor.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace custodian {

enum class lifecycle_state : uint8_t {
  created,      ///< spawned, no driver handle yet
  initializing, ///< connecting, with retries and backoff
  ready,        ///< connected and never handed out since (re)initialisation or maintenance
  in_use,       ///< handed out to a holder
  idle,         ///< returned by its holder, available again
  maintenance,  ///< the driver is resetting the handle
  draining,     ///< waiting for the active driver call before cleanup
  cleanup,      ///< closing the driver handle
  terminated,   ///< handle closed; final
  failed,       ///< a driver failure; recoverable failures may initialize again
};

/// All states, in declaration order (for tables and tests).
inline constexpr lifecycle_state all_lifecycle_states[] = {
  lifecycle_state::created,  lifecycle_state::initializing, lifecycle_state::ready,
  lifecycle_state::in_use,   lifecycle_state::idle,         lifecycle_state::maintenance,
  lifecycle_state::draining, lifecycle_state::cleanup,      lifecycle_state::terminated,
  lifecycle_state::failed,
};

std::string to_string(lifecycle_state state);

/// Parses the names produced by `to_string`; nullopt for anything else.
std::optional<lifecycle_state> lifecycle_state_from_string(std::string_view name);

} // namespace custodian
