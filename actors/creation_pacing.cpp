#include "actors/creation_pacing.hpp"

namespace custodian {

void creation_pacing::succeeded() {
  reset();
}

void creation_pacing::reset() {
  failures_ = 0;
  costly_failures_ = 0;
  last_cheap_ = false;
  next_at_.reset();
}

std::chrono::milliseconds creation_pacing::failed(time_point now, std::string reason, bool cheap,
                                                  double unit_draw) {
  ++failures_;
  last_cheap_ = cheap;
  last_error_ = std::move(reason);
  // A cheap failure retries at the base interval (one attempt in flight at a
  // time); a costly one doubles the delay from the base each time.
  auto delay = cheap ? backoff_delay(backoff_, 1, unit_draw)
                     : backoff_delay(backoff_, ++costly_failures_, unit_draw);
  if (cheap)
    costly_failures_ = 0;
  next_at_ = now + delay;
  return delay;
}

bool creation_pacing::may_create(time_point now, bool on_demand) const {
  if (!next_at_ || now >= *next_at_)
    return true;
  return on_demand && last_cheap_;
}

} // namespace custodian
