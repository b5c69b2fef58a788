// The elastic thread pool that runs blocking driver calls.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

#include <doctest/doctest.h>

#include "actors/blocking_executor.hpp"

using namespace custodian;
using namespace std::chrono_literals;

namespace {

/// A gate that blocked jobs wait at until the test opens it.
class gate {
public:
  void wait() {
    std::unique_lock<std::mutex> lock{mtx_};
    cv_.wait(lock, [this] { return open_; });
  }
  void open() {
    {
      std::lock_guard<std::mutex> guard{mtx_};
      open_ = true;
    }
    cv_.notify_all();
  }

private:
  std::mutex mtx_;
  std::condition_variable cv_;
  bool open_ = false;
};

/// Counts finished jobs; the test waits for a number (bounded, so a bug fails
/// instead of hanging).
class counter {
public:
  void bump() {
    {
      std::lock_guard<std::mutex> guard{mtx_};
      ++n_;
    }
    cv_.notify_all();
  }
  bool reaches(int n) {
    std::unique_lock<std::mutex> lock{mtx_};
    return cv_.wait_for(lock, 30s, [&] { return n_ >= n; });
  }

private:
  std::mutex mtx_;
  std::condition_variable cv_;
  int n_ = 0;
};

} // namespace

TEST_CASE("a blocked job does not hold up the jobs posted after it") {
  thread_pool_executor pool{{1, 8, 30'000ms}};
  gate g;
  counter done;
  pool.post([&] { g.wait(); });
  for (int i = 0; i < 3; ++i)
    pool.post([&] { done.bump(); });
  // These complete while the first job is still blocked: the pool grew.
  CHECK(done.reaches(3));
  CHECK(pool.threads() >= 2);
  g.open();
  pool.drain();
}

TEST_CASE("max_threads bounds the pool, queued jobs run once a thread frees up") {
  thread_pool_executor pool{{1, 2, 30'000ms}};
  gate g;
  counter done;
  std::atomic<bool> quick_ran{false};
  pool.post([&] { g.wait(); });
  pool.post([&] { g.wait(); });
  pool.post([&] {
    quick_ran = true;
    done.bump();
  });
  CHECK(pool.threads() == 2);
  g.open();
  CHECK(done.reaches(1));
  pool.drain();
  CHECK(quick_ran);
}

TEST_CASE("drain runs every job, including jobs posted by jobs") {
  thread_pool_executor pool;
  std::atomic<int> ran{0};
  pool.post([&] {
    ++ran;
    pool.post([&] {
      ++ran;
      pool.post([&] { ++ran; });
    });
  });
  pool.drain();
  CHECK(ran == 3);
  CHECK(pool.threads() == 0);
  // The pool starts threads again after a drain.
  pool.post([&] { ++ran; });
  pool.drain();
  CHECK(ran == 4);
}

TEST_CASE("a job that throws does not take its thread down") {
  thread_pool_executor pool{{1, 1, 30'000ms}};
  std::atomic<bool> after{false};
  pool.post([] { throw std::runtime_error("boom"); });
  pool.post([&] { after = true; });
  pool.drain();
  CHECK(after);
}
