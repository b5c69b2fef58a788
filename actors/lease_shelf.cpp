#include "actors/lease_shelf.hpp"

#include <algorithm>
#include <sstream>
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
    items_.insert_or_assign(id, entry{std::move(s.it), s.idle_since, false, false, false, {}});
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

std::vector<lease_shelf::note> lease_shelf::take_notes() {
  std::lock_guard<spin_lock> guard{mtx_};
  return std::exchange(notes_, {});
}

bool lease_shelf::write(note n) {
  notes_.push_back(n);
  return notes_.size() == 1;
}

void lease_shelf::notice(bool wanted) const {
  if (wanted && noticed_)
    noticed_();
}

std::optional<lease_shelf::item> lease_shelf::take(uint64_t preferred) {
  std::unique_lock<spin_lock> guard{mtx_};
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
  e.taken_at = std::chrono::steady_clock::now();
  ++tally_.taken;
  auto taken = e.it;
  auto tell = write({id, std::this_thread::get_id(), false, {}});
  guard.unlock();
  notice(tell);
  return taken;
}

namespace {

std::chrono::microseconds since(lease_shelf::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                               t);
}

} // namespace

bool lease_shelf::put_back(uint64_t lease) {
  std::unique_lock<spin_lock> guard{mtx_};
  auto i = items_.find(lease);
  if (i == items_.end() || !i->second.out)
    return false;
  auto tell = write({lease, std::this_thread::get_id(), true, since(i->second.taken_at)});
  auto kept = open_ && !i->second.recalled;
  if (kept) {
    i->second.out = false;
    available_.push_back(lease);
  } else {
    items_.erase(i);
  }
  guard.unlock();
  notice(tell);
  return kept;
}

void lease_shelf::forget(uint64_t lease, bool dead) {
  std::unique_lock<spin_lock> guard{mtx_};
  auto tell = false;
  if (auto i = items_.find(lease); i != items_.end() && i->second.out) {
    tell = write({lease, std::this_thread::get_id(), true, since(i->second.taken_at)});
    items_.erase(i);
  }
  if (dead)
    ++tally_.dead;
  guard.unlock();
  notice(tell);
}

std::string thread_holder_name(std::thread::id thread) {
  std::ostringstream out;
  out << "thread " << thread;
  return out.str();
}

} // namespace custodian
