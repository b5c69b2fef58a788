#include "drivers/sim/sim_driver.hpp"

#include <stdexcept>

namespace custodian::drivers {

/// A simulated connection: answers according to its resource's script.
class sim_connection final : public connection {
public:
  sim_connection(std::shared_ptr<sim_driver> owner, std::string resource_id)
      : owner_(std::move(owner)), resource_id_(std::move(resource_id)) {}

protected:
  driver_status do_ping(millis) override {
    sim_script script;
    auto n = owner_->begin_call(resource_id_, sim_op::ping, script);
    if (fails(script.ping_pattern, n))
      return driver_error{driver_errc::broken, "sim: scripted ping failure"};
    check_ =
      script.check_pattern.empty() ? '+' : script.check_pattern[n % script.check_pattern.size()];
    return done{};
  }

  // Runs under the same call as the ping it follows.
  driver_result<std::string> do_check(millis) override {
    if (check_ == '-')
      return driver_error{driver_errc::rejected, "sim: scripted stage failure"};
    return std::string{check_ == '~' ? "sim: scripted degradation" : ""};
  }

  driver_result<nlohmann::json> do_exec(const nlohmann::json& request, millis) override {
    sim_script script;
    auto n = owner_->begin_call(resource_id_, sim_op::exec, script);
    if (fails(script.exec_pattern, n))
      return driver_error{script.exec_error, "sim: scripted exec failure"};
    return nlohmann::json{{"resource", resource_id_}, {"echo", request}, {"n", n}};
  }

  driver_status do_reset(millis) override {
    sim_script script;
    owner_->begin_call(resource_id_, sim_op::reset, script);
    return done{};
  }

  driver_status do_close(millis) override {
    sim_script script;
    // Counted before the scripted hang or throw: the handle is released either way.
    {
      std::lock_guard<std::mutex> guard{owner_->mtx_};
      ++owner_->counters_.closes;
    }
    owner_->begin_call(resource_id_, sim_op::close, script);
    return done{};
  }

private:
  static bool fails(const std::string& pattern, uint64_t n) {
    return !pattern.empty() && pattern[n % pattern.size()] == '-';
  }

  std::shared_ptr<sim_driver> owner_;
  std::string resource_id_;
  /// The stage verdict of the latest ping.
  char check_ = '+';
};

sim_driver::sim_driver(sim_script default_script) : default_script_(std::move(default_script)) {}

std::shared_ptr<sim_driver> sim_driver::from_config(const nlohmann::json& driver_config) {
  if (!driver_config.is_object())
    throw std::invalid_argument("driver_config: must be an object");
  auto result = std::make_shared<sim_driver>();
  for (const auto& [key, value] : driver_config.items()) {
    if (key == "script") {
      try {
        result->set_default_script(sim_script::from_json(value));
      } catch (const std::invalid_argument& ex) {
        throw std::invalid_argument("driver_config.script." + std::string{ex.what()});
      }
    } else if (key == "resources") {
      if (!value.is_object())
        throw std::invalid_argument("driver_config.resources: must be an object");
      for (const auto& [id, script] : value.items()) {
        try {
          result->set_script(id, sim_script::from_json(script));
        } catch (const std::invalid_argument& ex) {
          throw std::invalid_argument("driver_config.resources." + id + "." + ex.what());
        }
      }
    } else {
      throw std::invalid_argument("driver_config." + key + ": unknown key");
    }
  }
  return result;
}

std::string sim_driver::name() const {
  return "sim";
}

void sim_driver::set_script(const std::string& resource_id, sim_script script) {
  std::lock_guard<std::mutex> guard{mtx_};
  scripts_[resource_id] = std::move(script);
}

void sim_driver::set_default_script(sim_script script) {
  std::lock_guard<std::mutex> guard{mtx_};
  default_script_ = std::move(script);
}

void sim_driver::release_hangs() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    hangs_released_ = true;
  }
  hang_cv_.notify_all();
}

sim_counters sim_driver::counters() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return counters_;
}

uint64_t sim_driver::open_connections() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return counters_.opens - counters_.closes;
}

uint64_t sim_driver::begin_call(const std::string& resource_id, sim_op op, sim_script& script) {
  std::unique_lock<std::mutex> lock{mtx_};
  auto i = scripts_.find(resource_id);
  script = i != scripts_.end() ? i->second : default_script_;
  auto& track = tracks_[resource_id];
  uint64_t n = 0;
  switch (op) {
  case sim_op::connect:
    n = track.connects++;
    ++counters_.connect_attempts;
    break;
  case sim_op::ping:
    n = track.pings++;
    ++counters_.pings;
    break;
  case sim_op::exec:
    n = track.execs++;
    ++counters_.execs;
    break;
  case sim_op::reset:
    ++counters_.resets;
    break;
  case sim_op::close:
    break;
  }
  if (auto hang = script.hang_of(op); hang.count() > 0)
    hang_cv_.wait_for(lock, hang, [this] { return hangs_released_; });
  if (script.throws_on(op))
    throw std::runtime_error("sim: scripted throw in " + to_string(op));
  return n;
}

driver_result<std::shared_ptr<connection>> sim_driver::do_connect(const std::string& resource_id,
                                                                  millis) {
  sim_script script;
  auto n = begin_call(resource_id, sim_op::connect, script);
  if (n < script.fail_connects)
    return driver_error{script.connect_error, "sim: scripted connect failure " +
                                                std::to_string(n + 1) + " of " +
                                                std::to_string(script.fail_connects)};
  {
    std::lock_guard<std::mutex> guard{mtx_};
    ++counters_.opens;
  }
  return std::shared_ptr<connection>{
    std::make_shared<sim_connection>(shared_from_this(), resource_id)};
}

} // namespace custodian::drivers
