// The driver template method and the sim driver's scripts, without actors.

#include <doctest/doctest.h>

#include "drivers/sim/sim_driver.hpp"

using namespace custodian::drivers;
using namespace std::chrono_literals;

TEST_CASE("sim fails the first N connects of each resource, then opens") {
  auto sim = std::make_shared<sim_driver>();
  sim_script script;
  script.fail_connects = 2;
  script.connect_error = driver_errc::auth;
  sim->set_script("a", script);
  auto first = sim->connect("a", 1s);
  REQUIRE_FALSE(first);
  CHECK(first.error().code == driver_errc::auth);
  CHECK_FALSE(sim->connect("a", 1s));
  auto third = sim->connect("a", 1s);
  REQUIRE(third);
  // Another resource uses the default script.
  auto other = sim->connect("b", 1s);
  REQUIRE(other);
  auto c = sim->counters();
  CHECK(c.connect_attempts == 4);
  CHECK(c.opens == 2);
  CHECK(sim->open_connections() == 2);
  CHECK(third.value()->close(1s));
  CHECK(other.value()->close(1s));
  CHECK(sim->open_connections() == 0);
}

TEST_CASE("closing twice counts once and later calls fail with closed") {
  auto sim = std::make_shared<sim_driver>();
  auto conn = sim->connect("a", 1s).value();
  CHECK(conn->is_open());
  CHECK(conn->close(1s));
  CHECK(conn->close(1s));
  CHECK_FALSE(conn->is_open());
  CHECK(sim->counters().closes == 1);
  auto ping = conn->ping(1s);
  REQUIRE_FALSE(ping);
  CHECK(ping.error().code == driver_errc::closed);
}

TEST_CASE("ping and exec patterns cycle per resource") {
  auto sim = std::make_shared<sim_driver>();
  sim_script script;
  script.ping_pattern = "+-";
  script.exec_pattern = "++-";
  script.exec_error = driver_errc::broken;
  sim->set_default_script(script);
  auto conn = sim->connect("a", 1s).value();
  CHECK(conn->ping(1s));
  CHECK_FALSE(conn->ping(1s));
  CHECK(conn->ping(1s));
  CHECK(conn->exec({{"x", 1}}, 1s));
  CHECK(conn->exec({{"x", 2}}, 1s));
  auto third = conn->exec({{"x", 3}}, 1s);
  REQUIRE_FALSE(third);
  CHECK(third.error().code == driver_errc::broken);
  CHECK(breaks_connection(third.error()));
  conn->close(1s);
}

TEST_CASE("a throwing hook becomes a driver error of kind exception") {
  auto sim = std::make_shared<sim_driver>();
  sim_script script;
  script.throws[static_cast<std::size_t>(sim_op::ping)] = true;
  script.throws[static_cast<std::size_t>(sim_op::close)] = true;
  sim->set_default_script(script);
  auto conn = sim->connect("a", 1s).value();
  auto ping = conn->ping(1s);
  REQUIRE_FALSE(ping);
  CHECK(ping.error().code == driver_errc::exception);
  CHECK(ping.error().message.find("ping threw") != std::string::npos);
  // A close that throws still releases the handle.
  CHECK_FALSE(conn->close(1s));
  CHECK_FALSE(conn->is_open());
  CHECK(sim->open_connections() == 0);
}

TEST_CASE("scripts and driver configs are read from JSON with errors naming the key") {
  auto s = sim_script::from_json(nlohmann::json::parse(R"({
    "fail_connects": 2, "connect_error": "auth", "hang_ms": {"connect": 50},
    "throw_on": ["exec"], "ping_pattern": "++-", "exec_pattern": "-", "exec_error": "broken"})"));
  CHECK(s.fail_connects == 2);
  CHECK(s.connect_error == driver_errc::auth);
  CHECK(s.hang_of(sim_op::connect) == 50ms);
  CHECK(s.throws_on(sim_op::exec));
  CHECK_FALSE(s.throws_on(sim_op::ping));
  CHECK(s.ping_pattern == "++-");
  CHECK(s.exec_error == driver_errc::broken);

  auto fails_with = [](const char* text, const std::string& fragment) {
    try {
      sim_driver::from_config(nlohmann::json::parse(text));
    } catch (const std::invalid_argument& ex) {
      CHECK_MESSAGE(std::string{ex.what()}.find(fragment) != std::string::npos, ex.what());
      return;
    }
    FAIL("accepted: " << text);
  };
  fails_with(R"({"script": {"fail_connect": 1}})",
             "driver_config.script.fail_connect: unknown key");
  fails_with(R"({"script": {"ping_pattern": "+x"}})", "ping_pattern");
  fails_with(R"({"script": {"hang_ms": {"dance": 1}}})", "unknown operation 'dance'");
  fails_with(R"({"resources": {"r1": {"exec_error": "nope"}}})",
             "driver_config.resources.r1.exec_error");
  fails_with(R"({"resources": []})", "driver_config.resources: must be an object");
  fails_with(R"({"colour": "blue"})", "driver_config.colour: unknown key");
  auto ok = sim_driver::from_config(
    nlohmann::json::parse(R"({"script": {}, "resources": {"r1": {"fail_connects": 1}}})"));
  CHECK_FALSE(ok->connect("r1", 1s));
  CHECK(ok->connect("r2", 1s).value()->close(1s));
}

TEST_CASE("release_hangs ends a hang without waiting it out") {
  auto sim = std::make_shared<sim_driver>();
  sim_script script;
  script.hang[static_cast<std::size_t>(sim_op::connect)] = 1h;
  sim->set_default_script(script);
  sim->release_hangs();
  // Released before the call: the hour-long hang does not happen at all.
  auto conn = sim->connect("a", 1s);
  REQUIRE(conn);
  conn.value()->close(1s);
}

TEST_CASE("the sim's own health stage passes, degrades or fails each ping in turn") {
  auto sim = std::make_shared<sim_driver>();
  sim_script script;
  script.check_pattern = "+~-";
  sim->set_default_script(script);
  auto conn = sim->connect("a", 1s).value();
  auto first = conn->ping(1s);
  REQUIRE(first);
  CHECK(first.value().degraded.empty());
  auto second = conn->ping(1s);
  REQUIRE(second);
  CHECK(second.value().degraded == "sim: scripted degradation");
  auto third = conn->ping(1s);
  REQUIRE_FALSE(third);
  CHECK(third.error().message == "sim: scripted stage failure");
  conn->close(1s);
  auto bad = nlohmann::json{{"check_pattern", "+x"}};
  CHECK_THROWS_WITH_AS(sim_script::from_json(bad),
                       "check_pattern: must contain only '+', '~' and '-'", std::invalid_argument);
}
