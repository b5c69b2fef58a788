#pragma once
// A driver for tests whose connections' liveness and leftover state the test
// sets (`alive()`, `needs_reset()`), counting what it opened and what is still open.

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "drivers/driver.hpp"

namespace custodian::test {

/// A connection whose liveness and leftover state the test sets.
class switch_connection final : public drivers::connection {
public:
  std::atomic<bool> dead{false};
  std::atomic<bool> dirty{false};
  std::atomic<int> resets{0};

protected:
  bool do_alive() override { return !dead; }
  bool do_needs_reset() override { return dirty; }
  drivers::driver_status do_ping(drivers::millis) override {
    if (dead)
      return drivers::driver_error{drivers::driver_errc::broken, "gone"};
    return drivers::done{};
  }
  drivers::driver_result<nlohmann::json> do_exec(const nlohmann::json& request,
                                                 drivers::millis) override {
    return request;
  }
  drivers::driver_status do_reset(drivers::millis) override {
    ++resets;
    dirty = false;
    return drivers::done{};
  }
  drivers::driver_status do_close(drivers::millis) override { return drivers::done{}; }
};

/// Counts the connections it opened and how many of them are still open.
class switch_driver final : public drivers::driver {
public:
  std::string name() const override { return "switch"; }

  std::size_t opened() {
    std::lock_guard<std::mutex> guard{mtx_};
    return made_.size();
  }
  /// The `i`-th connection it opened.
  std::shared_ptr<switch_connection> made(std::size_t i) {
    std::lock_guard<std::mutex> guard{mtx_};
    return made_.at(i);
  }
  std::size_t still_open() {
    std::lock_guard<std::mutex> guard{mtx_};
    return std::count_if(made_.begin(), made_.end(), [](auto& c) { return c->is_open(); });
  }

protected:
  drivers::driver_result<std::shared_ptr<drivers::connection>>
  do_connect(const std::string&, drivers::millis) override {
    auto c = std::make_shared<switch_connection>();
    std::lock_guard<std::mutex> guard{mtx_};
    made_.push_back(c);
    return std::shared_ptr<drivers::connection>{c};
  }

private:
  std::mutex mtx_;
  std::vector<std::shared_ptr<switch_connection>> made_;
};

} // namespace custodian::test
