// custodiand's signals while it stops: the first SIGINT or SIGTERM drains, and a
// second one during the drain exits at once with 3 (README: "a second signal
// exits at once (3)"). The drain is kept from ending by a sim pool whose close
// hangs for a minute; the test knows the drain has begun from the node's JSON log,
// whose lines about an event carry its kind and pool as fields.

#include <chrono>
#include <csignal>
#include <sstream>
#include <string>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "tests/support/node_process.hpp"

using namespace custodian::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

/// Whether a line of a JSON log is the event `kind` of `pool` going to `to`.
bool has_event_line(const std::string& log, const std::string& kind, const std::string& pool,
                    const std::string& to) {
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    auto j = json::parse(line, nullptr, false);
    if (j.is_object() && j.value("kind", "") == kind && j.value("pool", "") == pool &&
        j.value("msg", "").find("-> " + to) != std::string::npos)
      return true;
  }
  return false;
}

} // namespace

TEST_CASE("a second signal during the drain makes custodiand exit at once with 3") {
  for (int second : {SIGTERM, SIGINT}) {
    CAPTURE(second);
    temp_dir dir;
    int port = free_port();
    json pool{{"name", "slow"},
              {"driver", "sim"},
              {"min_idle", 2},
              {"max_size", 2},
              {"driver_config", {{"script", {{"hang_ms", {{"close", 60'000}}}}}}}};
    json config{{"node", {{"name", "signals"}, {"admin", {{"bind", "127.0.0.1"}, {"port", port}}}}},
                {"store", {{"kind", "memory"}}},
                {"logging", {{"level", "info"}, {"format", "json"}}},
                {"pools", json::array({pool})}};
    write_file(dir.file("node.json"), config.dump(2));
    node_process node(CUSTODIAND, dir.file("node.json"), dir.file("custodiand.log"));
    REQUIRE_MESSAGE(node.wait_ready(port), node.log());

    node.signal(SIGINT);
    // The pool drains, and its resources' close hangs: the drain cannot end.
    REQUIRE_MESSAGE(
      eventually([&] { return has_event_line(node.log(), "pool_transition", "slow", "draining"); }),
      node.log());
    CHECK(node.running());
    auto start = std::chrono::steady_clock::now();
    node.signal(second);
    auto code = node.wait_exit(5s);
    auto log = node.log();
    REQUIRE_MESSAGE(code.has_value(), log);
    CHECK_MESSAGE(*code == 3, log);
    // At once: well before the runtime's 10 s shutdown timeout would have ended the drain.
    CHECK(std::chrono::steady_clock::now() - start < 5s);
    CHECK(log.find("second signal: exiting without waiting for the drain") != std::string::npos);
    CHECK(log.find("shut down:") == std::string::npos);
  }
}
