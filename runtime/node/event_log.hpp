#pragma once
// The node's recent events as JSON lines: a bounded ring for `GET events?since=`
// and live feeds for `events/stream`. Fed from one event bus subscription, read
// by the admin server's threads. Plain C++ with no CAF in it.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace custodian {

class event_log {
public:
  using listener = std::function<void(const std::string& json_line)>;

  /// Keeps the last `capacity` events.
  explicit event_log(std::size_t capacity = 10'000);

  /// Adds an event (its seq and its JSON line) and hands it to every listener.
  void append(uint64_t seq, std::string json_line);

  struct page {
    std::vector<std::string> lines;
    uint64_t last_seq = 0;
    /// The oldest seq still kept (0 while empty): a reader behind it missed some.
    uint64_t oldest_seq = 0;
  };

  /// At most `limit` events after `since`, oldest first.
  page since(uint64_t since, std::size_t limit) const;

  /// Calls `on_event` with every kept event after `since`, then with each new one
  /// until `unlisten` is called with the returned id. Both happen under the log's
  /// lock, so no event is missed or seen twice; keep `on_event` short.
  uint64_t listen(uint64_t since, listener on_event);
  void unlisten(uint64_t id);

private:
  struct entry {
    uint64_t seq;
    std::string line;
  };

  mutable std::mutex mtx_;
  std::size_t capacity_;
  std::deque<entry> ring_;
  uint64_t last_seq_ = 0;
  uint64_t next_listener_ = 1;
  std::map<uint64_t, listener> listeners_;
};

} // namespace custodian
