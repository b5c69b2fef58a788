#pragma once
// The pool's resources as slots: each slot's state, health and outdated mark
// change only here, so every count the pool judges itself by (being created,
// idle, leased, in quarantine, retiring, degraded, unhealthy, outdated) and the
// line of idle slots follow from them in one place. Plain C++, tested without
// actors; `Link` is what the pool keeps of a slot's actor (its base class).

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>

#include "messages/health_status.hpp"

namespace custodian {

enum class slot_state : uint8_t {
  creating,
  idle,
  validating, ///< idle, being checked (or reset) before it is handed out again
  leased,
  recovering,  ///< failed; probed in place (initialized again if broken)
  quarantined, ///< held by the quarantine, never handed out
  retiring,
};

std::string to_string(slot_state x);

struct slot_counts {
  std::size_t creating = 0;
  std::size_t idle = 0;
  std::size_t leased = 0;
  std::size_t quarantined = 0;
  std::size_t retiring = 0;
  /// By health, in any state.
  std::size_t degraded = 0;
  std::size_t unhealthy = 0;
  /// Made from a config replaced since.
  std::size_t outdated = 0;

  bool operator==(const slot_counts&) const = default;

  /// Adds `by` to the count of state `x`, if it has one.
  void count(slot_state x, int by);
  void count(health_status x, int by);
};

template <class Link>
class slot_table;

/// One resource of the pool.
template <class Link>
struct slot : Link {
  using time_point = std::chrono::steady_clock::time_point;

  std::string id;
  /// When max_lifetime (less its jitter) retires it; max() without a limit.
  time_point retire_at = time_point::max();
  /// Past its lifetime while leased: retired when it comes back.
  bool expired = false;
  time_point idle_since;
  /// An exec on its lease is running (one at a time, like the resource itself).
  bool exec_in_flight = false;
  /// When it was last known to work (created, returned, checked): a check on
  /// acquire is skipped within the bypass window after it.
  time_point last_good;
  /// Failures in a row (with a quarantine config): at the threshold it is ejected.
  uint32_t failures = 0;
  /// Kept in as degraded because the quarantine was full: healthy again once it
  /// works (its failures in a row are reset).
  bool degraded_by_failures = false;
  /// An operator asked to quarantine it while it was leased (why): done on return.
  std::string quarantine_on_return;
  /// Probes in place that found it busy in a row: a few are no verdict, more are.
  uint32_t busy_probes = 0;

  slot_state state() const { return state_; }
  /// As the health checker last reported it.
  health_status health() const { return health_; }
  /// Made from a config replaced since: a rolling replace retires it.
  bool outdated() const { return outdated_; }

private:
  friend class slot_table<Link>;
  slot_state state_ = slot_state::creating;
  health_status health_ = health_status::unknown;
  bool outdated_ = false;
};

template <class Link>
class slot_table {
public:
  using slot_type = slot<Link>;
  using time_point = typename slot_type::time_point;
  using map_type = std::map<uint64_t, slot_type>;

  /// The slot id the next `add` gives.
  uint64_t next_slot_id() const { return next_; }

  /// A new slot for resource `id`, being created; its slot id is never reused.
  uint64_t add(std::string id) {
    auto slot_id = next_++;
    auto& s = slots_[slot_id];
    s.id = id;
    by_id_.emplace(std::move(id), slot_id);
    counts_.count(slot_state::creating, +1);
    return slot_id;
  }

  auto find(uint64_t slot_id) { return slots_.find(slot_id); }
  auto find(uint64_t slot_id) const { return slots_.find(slot_id); }
  bool contains(uint64_t slot_id) const { return slots_.count(slot_id) > 0; }
  slot_type& at(uint64_t slot_id) { return slots_.at(slot_id); }
  const slot_type& at(uint64_t slot_id) const { return slots_.at(slot_id); }

  /// The slot id of resource `id`.
  std::optional<uint64_t> of_resource(const std::string& id) const {
    auto i = by_id_.find(id);
    return i != by_id_.end() ? std::optional<uint64_t>{i->second} : std::nullopt;
  }

  /// Moves a slot to `to`. An idle slot joins the back of the idle line; one
  /// that leaves idle leaves the line.
  void set_state(uint64_t slot_id, slot_state to) {
    auto& s = slots_.at(slot_id);
    if (s.state_ == to)
      return;
    if (s.state_ == slot_state::idle)
      leave_line(slot_id);
    else if (to == slot_state::idle)
      idle_.push_back(slot_id);
    counts_.count(s.state_, -1);
    counts_.count(to, +1);
    s.state_ = to;
  }

  void set_health(uint64_t slot_id, health_status to) {
    auto& s = slots_.at(slot_id);
    counts_.count(s.health_, -1);
    counts_.count(to, +1);
    s.health_ = to;
  }

  void set_outdated(uint64_t slot_id, bool outdated) {
    auto& s = slots_.at(slot_id);
    if (s.outdated_ != outdated)
      counts_.outdated += outdated ? 1 : -1;
    s.outdated_ = outdated;
  }

  /// Forgets a slot; its counts go with it.
  void erase(uint64_t slot_id) {
    auto i = slots_.find(slot_id);
    if (i == slots_.end())
      return;
    auto& s = i->second;
    if (s.state_ == slot_state::idle)
      leave_line(slot_id);
    counts_.count(s.state_, -1);
    counts_.count(s.health_, -1);
    set_outdated(slot_id, false);
    by_id_.erase(s.id);
    slots_.erase(i);
  }

  /// Forgets every slot; slot ids still go on from where they were.
  void clear() {
    slots_.clear();
    by_id_.clear();
    idle_.clear();
    counts_ = {};
  }

  const slot_counts& counts() const { return counts_; }
  std::size_t size() const { return slots_.size(); }
  /// Slots alive or being created, not retiring: what max_size bounds.
  std::size_t live() const { return slots_.size() - counts_.retiring; }

  /// Idle slots in the order they became idle: the front has been idle longest.
  const std::deque<uint64_t>& idle_line() const { return idle_; }

  /// The idle slot to hand out next: the one returned last (`lifo`) or idle
  /// longest, but while some are degraded the next healthy one if any is.
  std::optional<uint64_t> next_idle(bool lifo) const {
    if (idle_.empty())
      return std::nullopt;
    if (counts_.degraded > 0) {
      auto healthy = [&](uint64_t id) { return at(id).health_ != health_status::degraded; };
      if (lifo) {
        if (auto r = std::find_if(idle_.rbegin(), idle_.rend(), healthy); r != idle_.rend())
          return *r;
      } else if (auto f = std::find_if(idle_.begin(), idle_.end(), healthy); f != idle_.end()) {
        return *f;
      }
    }
    return lifo ? idle_.back() : idle_.front();
  }

  /// Puts the idle line in the order of `idle_since` (after slots came back
  /// together, idle since different times).
  void sort_idle_by_since() {
    std::stable_sort(idle_.begin(), idle_.end(),
                     [&](uint64_t a, uint64_t b) { return at(a).idle_since < at(b).idle_since; });
  }

  auto begin() { return slots_.begin(); }
  auto end() { return slots_.end(); }
  auto begin() const { return slots_.begin(); }
  auto end() const { return slots_.end(); }

private:
  /// Takes a slot out of the idle line: it is handed out from either end.
  void leave_line(uint64_t slot_id) {
    if (!idle_.empty() && idle_.back() == slot_id)
      idle_.pop_back();
    else if (!idle_.empty() && idle_.front() == slot_id)
      idle_.pop_front();
    else
      idle_.erase(std::find(idle_.begin(), idle_.end(), slot_id));
  }

  map_type slots_;
  std::unordered_map<std::string, uint64_t> by_id_;
  std::deque<uint64_t> idle_;
  slot_counts counts_;
  uint64_t next_ = 1;
};

} // namespace custodian
