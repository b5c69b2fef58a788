#pragma once
// Deadlines per resource for an actor with one timer: the health checker's
// probes, the quarantine's recovery attempts. Each id gets a fresh key when it is
// added, so that a reply meant for an earlier stay (the id was removed and added
// again meanwhile) is told apart with `current`. An id has at most one deadline,
// and removing an id removes its deadline: nothing due ever names an id that is
// gone. Plain C++, tested without actors.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "actors/deadline_index.hpp"

namespace custodian {

class keyed_schedule {
public:
  using time_point = std::chrono::steady_clock::time_point;

  /// Tracks `id` under a fresh key, with no deadline yet; an id already tracked
  /// keeps its key. Returns the key.
  uint64_t add(const std::string& id);

  /// Forgets `id`, its key and its deadline; a no-op for an id not tracked.
  void remove(const std::string& id);

  /// Sets the deadline of a tracked id, replacing the one it had.
  void schedule(const std::string& id, time_point at);

  /// The ids whose deadline is at or before `now`, earliest first. Their
  /// deadlines are cleared; the ids stay tracked.
  std::vector<std::string> take_due(time_point now);

  /// The earliest deadline of any id.
  std::optional<time_point> next() const { return due_.next(); }

  std::optional<time_point> deadline_of(const std::string& id) const;
  std::optional<uint64_t> key_of(const std::string& id) const;

  /// Whether `id` is tracked under `key` now.
  bool current(const std::string& id, uint64_t key) const;

private:
  struct entry {
    uint64_t key = 0;
    std::optional<time_point> at;
  };

  void unschedule(entry& e);

  std::map<std::string, entry> entries_;
  /// Ids by key: the deadline index holds integers.
  std::map<uint64_t, std::string> ids_;
  deadline_index due_;
  uint64_t next_key_ = 1;
};

} // namespace custodian
