#pragma once
// The states of a pool.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace custodian {

enum class pool_state : uint8_t {
  creating,     ///< spawned, nothing started
  initializing, ///< warming min_idle resources
  active,       ///< serving acquires
  suspended,    ///< acquires wait; nothing is handed out
  scaling,      ///< resizing
  draining,     ///< no new leases; waiting for leased resources to come back
  destroying,   ///< closing its resources
  destroyed,    ///< every resource closed; final
  error,        ///< failed; acquires fail fast
};

std::string to_string(pool_state state);
std::optional<pool_state> pool_state_from_string(std::string_view name);

} // namespace custodian
