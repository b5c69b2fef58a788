#pragma once
// Whether a resource that failed works again: a failed one is initialized again
// (a fresh connection), one still standing is pinged; each step bounded. Used by
// the quarantine supervisor for its attempts and by a pool that recovers a
// resource in place. Include from actor implementations (it needs CAF's
// request API).

#include <string>

#include "messages/errors.hpp"
#include "messages/resource_actor.hpp"

namespace custodian {

/// Probes `handle` on behalf of `self`; `done(caf::error)` gets no error if it
/// works, else why not (`busy(err)` when the resource is busy with another call:
/// no verdict).
template <class Self, class Done>
void probe_recovery(Self* self, const resource_actor& handle, caf::timespan bound, Done done) {
  auto failed = [done](caf::error& err) mutable { done(std::move(err)); };
  self->request(handle, bound, status_atom::value)
    .then(
      [self, handle, bound, done, failed](const resource_status& status) mutable {
        if (status.state == lifecycle_state::failed && !status.recoverable)
          done(make_error(errc::driver_error,
                          "resource " + status.id + " failed for good: " + status.last_error));
        else if (status.state == lifecycle_state::failed)
          self->request(handle, bound, initialize_atom::value)
            .then([done](lifecycle_state) mutable { done(caf::error{}); }, failed);
        else
          self->request(handle, bound, ping_atom::value)
            .then([done](const ping_result&) mutable { done(caf::error{}); }, failed);
      },
      failed);
}

} // namespace custodian
