#pragma once
// A blocking executor that runs nothing until the test says so: a job that is not
// run is a driver call that hangs, deterministically.

#include <cstddef>
#include <deque>
#include <mutex>

#include "actors/blocking_executor.hpp"

namespace custodian::test {

class manual_executor final : public blocking_executor {
public:
  void post(job j) override {
    std::lock_guard<std::mutex> guard{mtx_};
    jobs_.push_back(std::move(j));
  }

  std::size_t pending() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return jobs_.size();
  }

  /// Runs queued jobs, including jobs they post, until none is left; returns how
  /// many ran.
  std::size_t run_all() {
    std::size_t n = 0;
    while (run_one())
      ++n;
    return n;
  }

  /// Runs the oldest queued job; false if there was none.
  bool run_one() {
    job j;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      if (jobs_.empty())
        return false;
      j = std::move(jobs_.front());
      jobs_.pop_front();
    }
    j();
    return true;
  }

private:
  mutable std::mutex mtx_;
  std::deque<job> jobs_;
};

} // namespace custodian::test
