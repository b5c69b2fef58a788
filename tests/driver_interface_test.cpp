// What the driver interface guarantees every driver, tested on a minimal
// connection: a lent native handle is never probed and is reset before the next
// holder; calls are counted by outcome; alive and needs_reset default sensibly.

#include <future>
#include <thread>

#include <doctest/doctest.h>

#include "drivers/driver.hpp"

using namespace custodian::drivers;
using namespace std::chrono_literals;

namespace {

class counting_connection final : public connection {
public:
  int pings = 0;
  int resets = 0;
  bool fail_pings = false;

  int* native() {
    lend_native();
    return &handle_;
  }

protected:
  driver_status do_ping(millis) override {
    ++pings;
    if (fail_pings)
      return driver_error{driver_errc::broken, "gone"};
    return done{};
  }
  driver_result<nlohmann::json> do_exec(const nlohmann::json& request, millis) override {
    if (request.contains("bad"))
      return driver_error{driver_errc::rejected, "bad request"};
    return request;
  }
  driver_status do_reset(millis) override {
    ++resets;
    return done{};
  }
  driver_status do_close(millis) override { return done{}; }

private:
  int handle_ = 0;
};

/// A connection whose ping waits until the test lets it end.
class held_ping_connection final : public connection {
public:
  std::promise<void> entered;
  std::promise<void> let_go;

protected:
  driver_status do_ping(millis) override {
    entered.set_value();
    let_go.get_future().wait();
    return done{};
  }
  driver_result<nlohmann::json> do_exec(const nlohmann::json& request, millis) override {
    return request;
  }
  driver_status do_reset(millis) override { return done{}; }
  driver_status do_close(millis) override { return done{}; }
};

class counting_driver final : public driver {
public:
  std::string name() const override { return "counting"; }

protected:
  driver_result<std::shared_ptr<connection>> do_connect(const std::string&, millis) override {
    return std::shared_ptr<connection>{std::make_shared<counting_connection>()};
  }
};

} // namespace

TEST_CASE("driver interface: a lent native handle is not probed and needs a reset") {
  counting_connection c;
  CHECK(c.alive());
  CHECK_FALSE(c.needs_reset());
  REQUIRE(c.ping(100ms));
  CHECK(c.pings == 1);
  *c.native() = 42; // the holder uses it on its own thread
  CHECK(c.native_lent());
  CHECK(c.ping(100ms)); // passes without touching the handle
  CHECK(c.pings == 1);
  CHECK(c.needs_reset());
  REQUIRE(c.reset(100ms));
  CHECK(c.resets == 1);
  CHECK_FALSE(c.native_lent());
  CHECK_FALSE(c.needs_reset());
  REQUIRE(c.ping(100ms));
  CHECK(c.pings == 2);
}

TEST_CASE("driver interface: pings and execs of a driver's connections are counted by outcome") {
  counting_driver d;
  auto opened = d.connect("r1", 100ms);
  REQUIRE(opened);
  auto& c = static_cast<counting_connection&>(*opened.value());
  CHECK(c.exec({{"ok", 1}}, 100ms));
  CHECK_FALSE(c.exec({{"bad", 1}}, 100ms));
  c.fail_pings = true;
  CHECK_FALSE(c.ping(100ms));
  auto execs = d.metrics().figures(call_metrics::call::exec);
  CHECK(execs.outcomes[outcome_ok] == 1);
  CHECK(execs.outcomes[call_outcome_of(driver_errc::rejected)] == 1);
  CHECK(call_outcome_name(call_outcome_of(driver_errc::rejected)) == "rejected");
  uint64_t timed = 0;
  for (auto n : execs.latency_histogram)
    timed += n;
  CHECK(timed == 2);
  auto pings = d.metrics().figures(call_metrics::call::ping);
  CHECK(pings.outcomes[call_outcome_of(driver_errc::broken)] == 1);
  c.close(100ms);
  CHECK_FALSE(c.alive()); // a closed connection is not alive
}

TEST_CASE("driver interface: while a probe runs, a returned connection needs a reset and may be "
          "alive") {
  held_ping_connection c;
  std::thread probe{[&] { c.ping(1s); }};
  c.entered.get_future().wait();
  CHECK(c.needs_reset()); // what its holder left cannot be read now
  CHECK(c.alive());       // the probe will tell
  c.let_go.set_value();
  probe.join();
  CHECK_FALSE(c.needs_reset());
}
