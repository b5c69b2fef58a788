#pragma once
// Ids ordered by deadline: what lets a pool keep one timer for its earliest
// deadline instead of one per request or lease.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

namespace custodian {

class deadline_index {
public:
  using time_point = std::chrono::steady_clock::time_point;

  void add(time_point deadline, uint64_t id) { entries_.emplace(deadline, id); }

  void remove(time_point deadline, uint64_t id) {
    auto [first, last] = entries_.equal_range(deadline);
    for (auto i = first; i != last; ++i)
      if (i->second == id) {
        entries_.erase(i);
        return;
      }
  }

  /// Ids whose deadline is at or before `now`, earliest first.
  std::vector<uint64_t> due(time_point now) const {
    std::vector<uint64_t> ids;
    for (auto i = entries_.begin(); i != entries_.end() && i->first <= now; ++i)
      ids.push_back(i->second);
    return ids;
  }

  std::optional<time_point> next() const {
    if (entries_.empty())
      return std::nullopt;
    return entries_.begin()->first;
  }

private:
  std::multimap<time_point, uint64_t> entries_;
};

} // namespace custodian
