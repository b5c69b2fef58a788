#include "actors/keyed_schedule.hpp"

namespace custodian {

uint64_t keyed_schedule::add(const std::string& id) {
  auto [i, fresh] = entries_.try_emplace(id);
  if (fresh) {
    i->second.key = next_key_++;
    ids_.emplace(i->second.key, id);
  }
  return i->second.key;
}

void keyed_schedule::remove(const std::string& id) {
  auto i = entries_.find(id);
  if (i == entries_.end())
    return;
  unschedule(i->second);
  ids_.erase(i->second.key);
  entries_.erase(i);
}

void keyed_schedule::schedule(const std::string& id, time_point at) {
  auto i = entries_.find(id);
  if (i == entries_.end())
    return;
  unschedule(i->second);
  i->second.at = at;
  due_.add(at, i->second.key);
}

std::vector<std::string> keyed_schedule::take_due(time_point now) {
  std::vector<std::string> out;
  for (auto key : due_.due(now)) {
    auto& id = ids_.at(key);
    unschedule(entries_.at(id));
    out.push_back(id);
  }
  return out;
}

std::optional<keyed_schedule::time_point> keyed_schedule::deadline_of(const std::string& id) const {
  auto i = entries_.find(id);
  return i == entries_.end() ? std::nullopt : i->second.at;
}

std::optional<uint64_t> keyed_schedule::key_of(const std::string& id) const {
  auto i = entries_.find(id);
  if (i == entries_.end())
    return std::nullopt;
  return i->second.key;
}

bool keyed_schedule::current(const std::string& id, uint64_t key) const {
  auto i = entries_.find(id);
  return i != entries_.end() && i->second.key == key;
}

void keyed_schedule::unschedule(entry& e) {
  if (e.at)
    due_.remove(*e.at, e.key);
  e.at.reset();
}

} // namespace custodian
