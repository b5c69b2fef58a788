#pragma once
// Where blocking driver calls run: never on CAF's cooperative scheduler. Resource
// actors post jobs here and receive the outcome as a message.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <list>
#include <mutex>
#include <thread>

namespace custodian {

class blocking_executor {
public:
  using job = std::function<void()>;

  virtual ~blocking_executor();

  /// Runs `j` on a thread that may block. Never blocks the caller; accepted at any
  /// time, including while the runtime shuts down (closing handles must still run).
  virtual void post(job j) = 0;
};

/// An elastic pool of threads: a new thread starts when a job arrives and none is
/// free (up to `max_threads`), so one hanging driver call does not hold up the
/// calls of other resources; threads above `min_threads` exit after `idle_keep`.
class thread_pool_executor final : public blocking_executor {
public:
  struct options {
    std::size_t min_threads = 1;
    std::size_t max_threads = 64;
    std::chrono::milliseconds idle_keep{30'000};
  };

  thread_pool_executor();
  explicit thread_pool_executor(options opts);
  /// Runs every job posted so far, then joins the threads.
  ~thread_pool_executor() override;

  void post(job j) override;

  /// Blocks until every job posted so far, and every job they post, has run; then
  /// joins all threads. Jobs posted afterwards start a thread again.
  void drain();

  /// Threads alive now.
  std::size_t threads() const;

private:
  void start_thread_locked();
  void work(std::list<std::thread>::iterator self);
  void join_finished_locked();

  options opts_;
  mutable std::mutex mtx_;
  std::condition_variable work_cv_;
  std::condition_variable idle_cv_;
  std::deque<job> queue_;
  std::list<std::thread> threads_;
  std::list<std::list<std::thread>::iterator> finished_;
  std::size_t idle_ = 0;
  std::size_t running_ = 0;
  bool stopping_ = false;
};

} // namespace custodian
