// The process driver's driver_config: validated whole with JSON paths and
// did-you-mean, also inside a node config; defaults from the schema; every key
// accepted acts (inherit_env here; the others in process_test.cpp).

#include <algorithm>
#include <cstdlib>

#include <doctest/doctest.h>

#include "drivers/driver_catalog.hpp"
#include "drivers/process/process_driver.hpp"
#include "drivers/process/process_settings.hpp"
#include "runtime/config/config.hpp"
#include "tests/drivers/process/process_fixture.hpp"

using namespace custodian;
using namespace custodian::test;
using json = nlohmann::json;

namespace {

std::vector<std::string> problems(const json& cfg) {
  std::vector<std::string> out;
  for (const auto& p : drivers::process_config_problems(cfg))
    out.push_back(p.path + ": " + p.message);
  std::sort(out.begin(), out.end());
  return out;
}

} // namespace

TEST_CASE("process: a driver_config with a command is valid, and the schema's defaults fill it") {
  CHECK(problems({{"command", "/bin/cat"}}).empty());
  CHECK(problems({{"command", "cat"}}).empty());
  auto s = drivers::read_process_settings({{"command", "cat"}});
  CHECK(s.command == "cat");
  CHECK(s.args.empty());
  CHECK(s.env.empty());
  CHECK(s.inherit_env == std::vector<std::string>{"PATH", "HOME", "LANG", "TZ"});
  CHECK(s.cwd.empty());
  CHECK(s.stderr_path.empty());
  CHECK(s.stop_grace == std::chrono::milliseconds{2000});
  CHECK(s.line_timeout == std::chrono::milliseconds{0});
  CHECK(s.max_line_bytes == 1048576);
  CHECK(s.startup_line.empty());
  CHECK_FALSE(s.health);
  auto h = drivers::read_process_settings(
    {{"command", "cat"}, {"health", {{"command", "check"}, {"args", {"-q"}}}}});
  REQUIRE(h.health);
  CHECK(h.health->command == "check");
  CHECK(h.health->args == std::vector<std::string>{"-q"});
  CHECK(h.health->tcp_port == 0);
}

TEST_CASE("process: every problem of a driver_config is reported at its path") {
  CHECK(problems(json::object()) == std::vector<std::string>{"command: required"});
  CHECK(problems(json::array()) == std::vector<std::string>{": must be an object"});
  CHECK(problems({{"command", "/bin/cat"}, {"comand", "x"}, {"stop_grce_ms", 1}}) ==
        std::vector<std::string>{"comand: unknown key (did you mean \"command\"?)",
                                 "stop_grce_ms: unknown key (did you mean \"stop_grace_ms\"?)"});
  CHECK(problems({
          {"command", "bin/cat"},
          {"args", {"ok", 1}},
          {"env", {{"GOOD", "x"}, {"BAD-NAME", "y"}, {"NUMBER", 3}}},
          {"inherit_env", {"PATH", "not a name"}},
          {"cwd", "relative/dir"},
          {"stderr_path", "err.log"},
          {"stop_grace_ms", -1},
          {"line_timeout_ms", 1.5},
          {"max_line_bytes", 0},
          {"startup_line", "two\nlines"},
        }) == std::vector<std::string>{
                "args[1]: must be a string",
                "command: must be an absolute path or a name to find on PATH",
                "cwd: must be an absolute path",
                "env.BAD-NAME: the variable's name must be the name of an environment variable "
                "([A-Za-z_][A-Za-z0-9_]*)",
                "env.NUMBER: must be a string",
                "inherit_env[1]: must be the name of an environment variable "
                "([A-Za-z_][A-Za-z0-9_]*)",
                "line_timeout_ms: must be an integer",
                "max_line_bytes: must be ≥ 1",
                "startup_line: must not contain a newline",
                "stderr_path: must be an absolute path",
                "stop_grace_ms: must be ≥ 0",
              });
}

TEST_CASE("process: a health section needs exactly one of command and tcp_port") {
  auto with = [](json health) { return problems({{"command", "cat"}, {"health", health}}); };
  CHECK(with(nullptr).empty());
  CHECK(with({{"command", "true"}}).empty());
  CHECK(with({{"tcp_port", 8080}}).empty());
  CHECK(with(json::object()) == std::vector<std::string>{"health: needs command or tcp_port"});
  CHECK(with({{"command", "true"}, {"tcp_port", 80}}) ==
        std::vector<std::string>{"health: command and tcp_port are exclusive"});
  CHECK(with({{"tcp_port", 80}, {"args", {"-x"}}}) ==
        std::vector<std::string>{"health.args: needs health.command"});
  CHECK(with({{"tcp_port", 70000}}) ==
        std::vector<std::string>{"health.tcp_port: must be ≤ 65535"});
  CHECK(with({{"comand", "true"}}) ==
        std::vector<std::string>{"health.comand: unknown key (did you mean \"command\"?)",
                                 "health: needs command or tcp_port"});
  CHECK(with("yes") == std::vector<std::string>{"health: must be an object (or null: off)"});
}

TEST_CASE("process: the node's config reports a process driver_config's problems at full paths") {
  auto catalog = drivers::builtin_drivers();
  REQUIRE(catalog.find("process"));
  auto result = parse_node_config(R"({"pools": [{"name": "w", "driver": "process",
    "driver_config": {"command": "cat", "line_timeot_ms": 5}}]})",
                                  catalog);
  REQUIRE(result.problems.size() == 1);
  CHECK(to_string(result.problems[0]) ==
        "pools[0].driver_config.line_timeot_ms: unknown key (did you mean \"line_timeout_ms\"?)");
  CHECK_THROWS_WITH_AS(drivers::process_driver::from_config({{"command", ""}}),
                       "driver_config.command: must not be empty", std::invalid_argument);
}

TEST_CASE("process: inherit_env passes only the listed variables of the node to the child") {
  process_fixture fx;
  ::setenv("CUSTODIAN_TEST_SHARED", "shared value", 1);
  auto cfg = fx.script("probe.sh");
  cfg["inherit_env"] = {"PATH", "CUSTODIAN_TEST_SHARED", "CUSTODIAN_TEST_NEVER_SET"};
  auto conn = open(*drivers::process_driver::from_config(cfg));
  CHECK(say(*conn, "env CUSTODIAN_TEST_SHARED") == "shared value");
  CHECK(say(*conn, "env CUSTODIAN_TEST_NEVER_SET") == "<unset>");
  CHECK(say(*conn, "env HOME") == "<unset>"); // not listed this time
  conn->close(bound);
  ::unsetenv("CUSTODIAN_TEST_SHARED");
}
