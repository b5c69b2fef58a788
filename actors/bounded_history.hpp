#pragma once
// The last N entries of a log, oldest first. Storage grows with use up to N (an
// idle resource with two transitions holds two), unlike a deque's fixed first
// block. Plain C++, no actors.

#include <cstddef>
#include <utility>
#include <vector>

namespace custodian {

template <class T>
class bounded_history {
public:
  explicit bounded_history(std::size_t limit = 64) : limit_(limit) {}

  /// Appends `x`, dropping the oldest entry once `limit` are kept.
  void push(T x) {
    if (limit_ == 0)
      return;
    if (items_.size() < limit_) {
      items_.push_back(std::move(x));
      return;
    }
    items_[head_] = std::move(x);
    head_ = (head_ + 1) % limit_;
  }

  /// Every kept entry, oldest first.
  std::vector<T> to_vector() const {
    std::vector<T> out;
    out.reserve(items_.size());
    for (std::size_t i = 0; i < items_.size(); ++i)
      out.push_back(items_[(head_ + i) % items_.size()]);
    return out;
  }

  std::size_t size() const { return items_.size(); }

private:
  std::size_t limit_;
  std::vector<T> items_;
  /// Index of the oldest entry once the history is full.
  std::size_t head_ = 0;
};

} // namespace custodian
