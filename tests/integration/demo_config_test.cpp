// conf/demo.json, the config `run.sh demo` runs, as it is but for its admin port
// and store file (a free port, a file in a fresh directory): the node starts,
// serves its pools and the dashboard, and drains on Ctrl-C (SIGINT) in reverse
// dependency order, then exits 0.

#include <algorithm>
#include <chrono>
#include <csignal>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "tests/support/node_process.hpp"

using namespace custodian::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

/// Where `part` first shows in `text`; fails the test when it does not.
std::size_t position_of(const std::string& text, const std::string& part) {
  auto at = text.find(part);
  REQUIRE_MESSAGE(at != std::string::npos, part);
  return at;
}

} // namespace

TEST_CASE("the demo node on conf/demo.json serves its pools and drains on SIGINT with exit 0") {
  temp_dir dir;
  auto demo = json::parse(read_file(CUSTODIAN_SOURCE_DIR "/conf/demo.json"));
  int port = free_port();
  demo["node"]["admin"]["port"] = port;
  demo["store"]["path"] = dir.file("demo.db");
  write_file(dir.file("demo.json"), demo.dump(2));
  std::vector<std::string> names;
  for (const auto& p : demo.at("pools"))
    names.push_back(p.at("name"));
  REQUIRE(names.size() == 4);

  node_process node(CUSTODIAND, dir.file("demo.json"), dir.file("custodiand.log"));
  bool ready = node.wait_ready(port, 20s);
  REQUIRE_MESSAGE(ready, node.log());

  httplib::Client cli("127.0.0.1", port);
  cli.set_connection_timeout(2s);
  cli.set_read_timeout(10s);
  auto all_active = [&] {
    auto res = cli.Get("/api/v1/pools");
    if (!res || res->status != 200)
      return false;
    std::vector<std::string> active;
    auto body = json::parse(res->body);
    for (const auto& p : body.at("pools"))
      if (p.at("state") == "active")
        active.push_back(p.at("name"));
    std::sort(active.begin(), active.end());
    auto wanted = names;
    std::sort(wanted.begin(), wanted.end());
    return active == wanted;
  };
  CHECK_MESSAGE(eventually(all_active, 20s), node.log());
  auto status = cli.Get("/api/v1");
  REQUIRE(status);
  CHECK(status->status == 200);
  CHECK(json::parse(status->body).at("node") == "demo");
  auto dashboard = cli.Get("/");
  REQUIRE(dashboard);
  CHECK(dashboard->status == 200);

  node.signal(SIGINT);
  auto code = node.wait_exit(30s);
  auto log = node.log();
  REQUIRE_MESSAGE(code.has_value(), log);
  CHECK_MESSAGE(*code == 0, log);
  CHECK(position_of(log, "signal SIGINT: draining the pools") <
        position_of(log, "shut down: 4 pools drained, 0 forced"));
  // Dependants go first: the gateway before the cache and search, those before the db.
  auto destroyed = [&](const std::string& pool) {
    return position_of(log, "pool_transition " + pool + " destroying -> destroyed");
  };
  CHECK(destroyed("api-gateway") < destroyed("orders-cache"));
  CHECK(destroyed("api-gateway") < destroyed("search"));
  CHECK(destroyed("orders-cache") < destroyed("orders-db"));
  CHECK(destroyed("search") < destroyed("orders-db"));
  CHECK_FALSE(port_listening(port));
}
