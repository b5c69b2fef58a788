#include "actors/lease_shelf.hpp"

#include <algorithm>
#include <utility>

#include "drivers/driver.hpp"

namespace custodian {

void lease_shelf::stock(std::vector<stocked> items, bool lifo) {
  std::lock_guard<spin_lock> guard{mtx_};
  if (retired_)
    return;
  lifo_ = lifo;
  for (auto& s : items) {
    auto id = s.it.granted.id;
    items_.insert_or_assign(id, entry{std::move(s.it), s.idle_since});
    available_.push_back(id);
  }
  open_ = true;
}

std::vector<lease_shelf::recalled> lease_shelf::recall() {
  std::lock_guard<spin_lock> guard{mtx_};
  open_ = false;
  std::vector<recalled> back;
  back.reserve(available_.size());
  for (auto id : available_) {
    auto i = items_.find(id);
    back.push_back({id, i->second.used, i->second.idle_since});
    items_.erase(i);
  }
  available_.clear();
  for (auto& [id, e] : items_)
    e.recalled = true;
  return back;
}

void lease_shelf::retire() {
  std::lock_guard<spin_lock> guard{mtx_};
  retired_ = true;
  open_ = false;
  available_.clear();
  items_.clear();
}

std::size_t lease_shelf::available() const {
  std::lock_guard<spin_lock> guard{mtx_};
  return available_.size();
}

lease_shelf::tally lease_shelf::counted() const {
  std::lock_guard<spin_lock> guard{mtx_};
  return tally_;
}

std::optional<lease_shelf::item> lease_shelf::take(uint64_t preferred) {
  std::lock_guard<spin_lock> guard{mtx_};
  if (!open_ || available_.empty())
    return std::nullopt;
  uint64_t id;
  if (auto i = std::find(available_.begin(), available_.end(), preferred);
      preferred != 0 && i != available_.end()) {
    id = preferred;
    available_.erase(i);
  } else if (lifo_) {
    id = available_.back();
    available_.pop_back();
  } else {
    id = available_.front();
    available_.pop_front();
  }
  auto& e = items_.at(id);
  e.out = true;
  e.used = true;
  ++tally_.taken;
  return e.it;
}

bool lease_shelf::put_back(uint64_t lease) {
  std::lock_guard<spin_lock> guard{mtx_};
  auto i = items_.find(lease);
  if (i == items_.end() || !i->second.out)
    return false;
  if (!open_ || i->second.recalled) {
    items_.erase(i);
    return false;
  }
  i->second.out = false;
  available_.push_back(lease);
  return true;
}

void lease_shelf::forget(uint64_t lease, bool dead) {
  std::lock_guard<spin_lock> guard{mtx_};
  if (auto i = items_.find(lease); i != items_.end() && i->second.out)
    items_.erase(i);
  if (dead)
    ++tally_.dead;
}

} // namespace custodian
