#pragma once
// The valid lifecycle transitions of a resource, as one table. The resource actor
// consults it before every `become`; tests replay event logs through it.

#include "messages/lifecycle_state.hpp"

namespace custodian {

/// Whether `from -> to` is valid. `recoverable` qualifies a `failed` source: only a
/// recoverable failure may initialize again.
bool is_valid_transition(lifecycle_state from, lifecycle_state to, bool recoverable);

} // namespace custodian
