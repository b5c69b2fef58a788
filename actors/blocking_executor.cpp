#include "actors/blocking_executor.hpp"

#include <algorithm>

namespace custodian {

blocking_executor::~blocking_executor() = default;

thread_pool_executor::thread_pool_executor() : thread_pool_executor(options{}) {}

thread_pool_executor::thread_pool_executor(options opts) : opts_(opts) {
  opts_.max_threads = std::max<std::size_t>(opts_.max_threads, 1);
  opts_.min_threads = std::min(opts_.min_threads, opts_.max_threads);
}

thread_pool_executor::~thread_pool_executor() {
  drain();
}

void thread_pool_executor::post(job j) {
  std::unique_lock<std::mutex> lock{mtx_};
  join_finished_locked();
  queue_.push_back(std::move(j));
  // Start a thread when more jobs wait than threads are free to take them.
  if (queue_.size() > idle_ && threads_.size() - finished_.size() < opts_.max_threads)
    start_thread_locked();
  else
    work_cv_.notify_one();
}

void thread_pool_executor::drain() {
  std::list<std::thread> joining;
  {
    std::unique_lock<std::mutex> lock{mtx_};
    idle_cv_.wait(lock, [this] { return queue_.empty() && running_ == 0; });
    stopping_ = true;
    work_cv_.notify_all();
    joining.swap(threads_);
    finished_.clear();
  }
  for (auto& t : joining)
    t.join();
  std::lock_guard<std::mutex> guard{mtx_};
  stopping_ = false;
}

std::size_t thread_pool_executor::threads() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return threads_.size() - finished_.size();
}

void thread_pool_executor::start_thread_locked() {
  threads_.emplace_back();
  auto self = std::prev(threads_.end());
  *self = std::thread{[this, self] { work(self); }};
}

void thread_pool_executor::work(std::list<std::thread>::iterator self) {
  std::unique_lock<std::mutex> lock{mtx_};
  for (;;) {
    if (!queue_.empty()) {
      auto j = std::move(queue_.front());
      queue_.pop_front();
      ++running_;
      lock.unlock();
      try {
        j();
      } catch (...) {
        // Jobs report their own failures; a stray exception must not end the thread.
      }
      j = nullptr; // release what the job captured before taking the lock again
      lock.lock();
      --running_;
      if (queue_.empty() && running_ == 0)
        idle_cv_.notify_all();
      continue;
    }
    if (stopping_)
      return; // drain() joins this thread
    ++idle_;
    auto woken =
      work_cv_.wait_for(lock, opts_.idle_keep, [this] { return !queue_.empty() || stopping_; });
    --idle_;
    if (!woken && threads_.size() - finished_.size() > opts_.min_threads) {
      finished_.push_back(self); // joined by the next post() or by drain()
      return;
    }
  }
}

void thread_pool_executor::join_finished_locked() {
  // A finished thread has left work() already or is about to return; it needs no lock.
  for (auto it : finished_) {
    it->join();
    threads_.erase(it);
  }
  finished_.clear();
}

} // namespace custodian
