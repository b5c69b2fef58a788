#pragma once
// The name of what a thread's blocking acquire carries to its pool: the pool's
// side of a completion the caller waits on (actors/acquire_completion.hpp). In
// process only: it is a pointer and never crosses the wire.

#include <memory>

#include <caf/allowed_unsafe_message_type.hpp>

namespace custodian {

class acquire_completion;

/// What the blocking acquire message carries.
using blocking_acquire = std::shared_ptr<acquire_completion>;

} // namespace custodian

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(custodian::blocking_acquire)
