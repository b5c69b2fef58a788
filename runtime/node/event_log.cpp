#include "runtime/node/event_log.hpp"

#include <algorithm>

namespace custodian {

event_log::event_log(std::size_t capacity) : capacity_(std::max<std::size_t>(capacity, 1)) {}

void event_log::append(uint64_t seq, std::string json_line) {
  std::lock_guard<std::mutex> guard{mtx_};
  for (auto& [id, on_event] : listeners_)
    on_event(json_line);
  if (ring_.size() == capacity_)
    ring_.pop_front();
  ring_.push_back(entry{seq, std::move(json_line)});
  last_seq_ = seq;
}

namespace {

/// The first kept event after `since`: seqs only grow, so the ring is sorted.
template <class Ring>
auto first_after(Ring& ring, uint64_t since) {
  return std::upper_bound(ring.begin(), ring.end(), since,
                          [](uint64_t seq, const auto& e) { return seq < e.seq; });
}

} // namespace

event_log::page event_log::since(uint64_t since, std::size_t limit) const {
  std::lock_guard<std::mutex> guard{mtx_};
  page out;
  out.last_seq = last_seq_;
  out.oldest_seq = ring_.empty() ? 0 : ring_.front().seq;
  for (auto i = first_after(ring_, since); i != ring_.end() && out.lines.size() < limit; ++i)
    out.lines.push_back(i->line);
  return out;
}

uint64_t event_log::listen(uint64_t since, listener on_event) {
  std::lock_guard<std::mutex> guard{mtx_};
  for (auto i = first_after(ring_, since); i != ring_.end(); ++i)
    on_event(i->line);
  auto id = next_listener_++;
  listeners_.emplace(id, std::move(on_event));
  return id;
}

void event_log::unlisten(uint64_t id) {
  std::lock_guard<std::mutex> guard{mtx_};
  listeners_.erase(id);
}

} // namespace custodian
