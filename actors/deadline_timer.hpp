#pragma once
// One timer per actor for its earliest deadline: arming for a later deadline while
// an earlier timer is pending is a no-op, so an actor with many deadlines keeps a
// single timer message in flight (a timer per request cost 2.3× here).

#include <chrono>
#include <optional>

namespace custodian {

class deadline_timer {
public:
  using time_point = std::chrono::steady_clock::time_point;
  using duration = std::chrono::steady_clock::duration;

  /// The delay to send the timer message after, if `next` needs a new timer; none
  /// if there is no deadline or a pending timer fires before it.
  std::optional<duration> arm(std::optional<time_point> next, time_point now) {
    if (!next || (at_ && *at_ <= *next))
      return std::nullopt;
    at_ = next;
    return *next > now ? *next - now : duration{0};
  }

  /// The timer message arrived: nothing is pending any more.
  void fired() { at_.reset(); }

private:
  std::optional<time_point> at_;
};

} // namespace custodian
