#pragma once
// The authoritative record of who holds which resource of a pool. It tells a
// release from a double release or an unknown id, finds the leases of a holder
// that died, and the leases past their TTL (leaks). A lease taken back from a
// holder still alive (a leak, a resource that failed under it) is remembered with
// the reason, so that the holder's next use can be told why and its late release
// reads as such rather than as an unknown lease. Plain C++, tested without actors.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "actors/deadline_index.hpp"

namespace custodian {

/// What closing a lease found.
enum class lease_close : uint8_t {
  released,    ///< an open lease, now closed
  late_return, ///< a lease reclaimed earlier; its holder returned it now
  unknown,     ///< never issued, or closed before (a double release)
};

template <class Holder>
class lease_table {
public:
  using time_point = std::chrono::steady_clock::time_point;

  struct entry {
    uint64_t id = 0;
    std::size_t slot = 0; ///< which resource of the pool
    Holder holder;
    time_point acquired;
    time_point ttl_deadline; ///< time_point::max() without a TTL
  };

  /// Remembers this many reclaimed leases; older ones read as unknown.
  explicit lease_table(std::size_t remembered_leaks = 1024) : remembered_(remembered_leaks) {}

  /// Opens a lease; `ttl` of zero means none.
  const entry& open(std::size_t slot, Holder holder, time_point now,
                    std::chrono::milliseconds ttl) {
    auto id = next_id_++;
    auto deadline = ttl.count() > 0 ? now + ttl : time_point::max();
    auto [i, inserted] = open_.emplace(id, entry{id, slot, std::move(holder), now, deadline});
    if (deadline != time_point::max())
      by_ttl_.add(deadline, id);
    return i->second;
  }

  /// Closes a lease by id; the entry is returned for a `released` lease.
  std::pair<lease_close, std::optional<entry>> close(uint64_t id) {
    auto i = open_.find(id);
    if (i == open_.end()) {
      if (reclaimed_.erase(id) > 0)
        return {lease_close::late_return, std::nullopt};
      return {lease_close::unknown, std::nullopt};
    }
    return {lease_close::released, take(i)};
  }

  /// Closes a lease behind its holder's back: the holder may still use or return
  /// it later and learns `reason`.
  std::optional<entry> reclaim(uint64_t id, std::string reason) {
    auto i = open_.find(id);
    if (i == open_.end())
      return std::nullopt;
    reclaimed_.emplace(id, std::move(reason));
    reclaim_order_.push_back(id);
    while (reclaim_order_.size() > remembered_) {
      reclaimed_.erase(reclaim_order_.front());
      reclaim_order_.pop_front();
    }
    return take(i);
  }

  /// Ids of every open lease.
  std::vector<uint64_t> ids() const {
    std::vector<uint64_t> result;
    result.reserve(open_.size());
    for (const auto& kv : open_)
      result.push_back(kv.first);
    return result;
  }

  /// Ids of the open leases of `holder`.
  std::vector<uint64_t> held_by(const Holder& holder) const {
    std::vector<uint64_t> ids;
    for (const auto& [id, e] : open_)
      if (e.holder == holder)
        ids.push_back(id);
    return ids;
  }

  /// Ids of the open leases whose TTL passed at `now`, oldest deadline first.
  std::vector<uint64_t> overdue(time_point now) const { return by_ttl_.due(now); }

  /// The earliest TTL deadline of an open lease.
  std::optional<time_point> next_deadline() const { return by_ttl_.next(); }

  const entry* find(uint64_t id) const {
    auto i = open_.find(id);
    return i == open_.end() ? nullptr : &i->second;
  }

  /// Why lease `id` was reclaimed; null if it was not (or is forgotten).
  const std::string* reclaim_reason(uint64_t id) const {
    auto i = reclaimed_.find(id);
    return i == reclaimed_.end() ? nullptr : &i->second;
  }

  std::size_t size() const { return open_.size(); }

private:
  entry take(typename std::map<uint64_t, entry>::iterator i) {
    if (i->second.ttl_deadline != time_point::max())
      by_ttl_.remove(i->second.ttl_deadline, i->first);
    auto result = std::move(i->second);
    open_.erase(i);
    return result;
  }

  uint64_t next_id_ = 1;
  std::size_t remembered_;
  std::map<uint64_t, entry> open_;
  deadline_index by_ttl_;
  std::map<uint64_t, std::string> reclaimed_;
  std::deque<uint64_t> reclaim_order_;
};

} // namespace custodian
