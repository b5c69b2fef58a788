#pragma once
// The acquire requests a pool cannot serve yet: served strictly in arrival order,
// each with its own deadline. A pool keeps one timer for the earliest deadline
// (`next_deadline`) instead of one per request. Plain C++, tested without actors.

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "actors/deadline_index.hpp"

namespace custodian {

template <class Payload, class Holder>
class waiter_queue {
public:
  using time_point = std::chrono::steady_clock::time_point;

  struct waiter {
    Payload payload;
    Holder holder;
    time_point deadline;
  };

  /// Queues a waiter behind every earlier one.
  void push(Payload payload, Holder holder, time_point deadline) {
    auto seq = next_seq_++;
    by_deadline_.add(deadline, seq);
    by_arrival_.emplace(seq, waiter{std::move(payload), std::move(holder), deadline});
  }

  /// Takes the oldest waiter.
  std::optional<waiter> pop() {
    if (by_arrival_.empty())
      return std::nullopt;
    auto i = by_arrival_.begin();
    return take(i);
  }

  /// Takes every waiter whose deadline is at or before `now`, oldest first.
  std::vector<waiter> expire(time_point now) {
    auto due = by_deadline_.due(now);
    std::sort(due.begin(), due.end()); // arrival order
    std::vector<waiter> result;
    result.reserve(due.size());
    for (auto seq : due)
      result.push_back(take(by_arrival_.find(seq)));
    return result;
  }

  /// Takes every waiter of `holder` (it died or gave up), oldest first.
  std::vector<waiter> remove_holder(const Holder& holder) {
    std::vector<waiter> result;
    for (auto i = by_arrival_.begin(); i != by_arrival_.end();) {
      if (i->second.holder == holder)
        result.push_back(take(i++));
      else
        ++i;
    }
    return result;
  }

  /// The earliest deadline of any waiter.
  std::optional<time_point> next_deadline() const { return by_deadline_.next(); }

  std::size_t size() const { return by_arrival_.size(); }
  bool empty() const { return by_arrival_.empty(); }

private:
  using arrival_map = std::map<uint64_t, waiter>;

  waiter take(typename arrival_map::iterator i) {
    by_deadline_.remove(i->second.deadline, i->first);
    auto result = std::move(i->second);
    by_arrival_.erase(i);
    return result;
  }

  uint64_t next_seq_ = 0;
  arrival_map by_arrival_;
  deadline_index by_deadline_;
};

} // namespace custodian
