// custodianctl, the built binary, against an admin server over a fake node:
// tables, --json, what it sends, exit codes and the event feed.

#include <cstdio>
#include <fstream>
#include <iterator>
#include <poll.h>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "tests/support/admin_fixture.hpp"
#include "tests/support/ctl_runner.hpp"

using namespace custodian;
using namespace custodian::test;
using nlohmann::json;

namespace {

/// A file removed at the end of the test.
struct temp_file {
  std::string path;
  explicit temp_file(const std::string& content = "") {
    char name[] = "/tmp/custodianctl-test-XXXXXX";
    int fd = ::mkstemp(name);
    ::close(fd);
    path = name;
    std::ofstream(path) << content;
  }
  ~temp_file() { std::remove(path.c_str()); }
  std::string read() const {
    std::ifstream in(path);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
};

ctl_result ctl(const std::vector<std::string>& args, const std::string& env = "") {
  temp_file err;
  return run_ctl(args, err.path, env);
}

/// ctl with --url of the fixture first.
ctl_result ctl(const admin_fixture& fx, std::vector<std::string> args) {
  args.insert(args.begin(), {"--url", fx.url()});
  return ctl(args);
}

/// Reads one line from `pipe`, waiting at most `timeout`; empty at the end or on timeout.
std::string read_line(FILE* pipe, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  std::string line;
  pollfd fd{::fileno(pipe), POLLIN, 0};
  char c = 0;
  while (::poll(&fd, 1, static_cast<int>(timeout.count())) > 0 && ::read(fd.fd, &c, 1) == 1) {
    if (c == '\n')
      return line;
    line += c;
  }
  return line;
}

} // namespace

TEST_CASE("custodianctl prints pools as an aligned table") {
  admin_fixture fx;
  auto r = ctl(fx, {"pools"});
  CHECK(r.code == 0);
  CHECK(r.err.empty());
  std::istringstream lines(r.out);
  std::string header, first, second;
  std::getline(lines, header);
  std::getline(lines, first);
  std::getline(lines, second);
  CHECK(header.rfind("NAME       DRIVER  STATE   HEALTH   AVAILABILITY  SIZE", 0) == 0);
  CHECK(first.rfind("orders-db  sim     active  healthy  available     3", 0) == 0);
  CHECK(second.rfind("cache      sim", 0) == 0);
}

TEST_CASE("custodianctl shows status and one pool with its resources") {
  admin_fixture fx;
  auto status = ctl(fx, {"status"});
  CHECK(status.code == 0);
  CHECK(contains(status.out, "node      node-a"));
  CHECK(contains(status.out, "ready     yes"));
  CHECK(contains(status.out, "orders-db  sim"));
  auto pool = ctl(fx, {"pool", "orders-db"});
  CHECK(pool.code == 0);
  CHECK(contains(pool.out, "availability    available"));
  CHECK(contains(pool.out, "RESOURCE     STATE  HEALTH   LEASED  QUARANTINED"));
  CHECK(contains(pool.out, "orders-db-1  idle   healthy  no      no"));
  CHECK(fx.node.last("pool").args["name"] == "orders-db");
}

TEST_CASE("custodianctl prints the server's JSON with --json") {
  admin_fixture fx;
  auto r = ctl(fx, {"--json", "history", "orders-db"});
  CHECK(r.code == 0);
  fake_node reference;
  CHECK(json::parse(r.out) == reference.config_history("orders-db"));
}

TEST_CASE("custodianctl sends the token, its user agent and each command's body") {
  admin_server_config config;
  config.token = "s3cret";
  admin_fixture fx(config);
  CHECK(ctl(fx, {"--token", "s3cret", "resize", "orders-db", "--max-size", "4"}).code == 0);
  auto resize = fx.node.last("pool_action");
  CHECK(resize.args["body"] == json{{"max_size", 4}});
  CHECK(resize.who.substr(resize.who.size() - 13) == " custodianctl");

  auto exec = ctl({"exec", "orders-db", R"({"sql":"select 1"})", "--timeout-ms", "250"},
                  "CUSTODIAN_URL=" + fx.url() + " CUSTODIAN_TOKEN=s3cret");
  CHECK(exec.code == 0);
  CHECK(contains(exec.out, "resource orders-db-1"));
  CHECK(fx.node.last("exec").args["body"] ==
        json{{"request", {{"sql", "select 1"}}}, {"timeout_ms", 250}});

  temp_file patch(R"({"max_size": 9})");
  CHECK(ctl(fx, {"--token", "s3cret", "update", "orders-db", patch.path}).code == 0);
  CHECK(fx.node.last("update_pool").args["patch"] == json{{"max_size", 9}});

  CHECK(ctl(fx, {"--token", "s3cret", "delete", "orders-db", "--force"}).code == 0);
  CHECK(fx.node.last("delete_pool").args["force"] == true);

  CHECK(ctl(fx, {"--token", "s3cret", "quarantine", "orders-db-1", "--reason", "slow"}).code == 0);
  CHECK(fx.node.last("resource_action").args["body"] == json{{"reason", "slow"}});

  auto refused = ctl(fx, {"drain", "orders-db"});
  CHECK(refused.code == 1);
  CHECK(refused.err == "error: unauthorized: a valid bearer token is required\n");
}

TEST_CASE("custodianctl exits 1 with the server's error and every problem on stderr") {
  admin_fixture fx;
  fx.node.fail("create_pool",
               api_error(errc::bad_config, "2 problems", "",
                         {{"max_size", "must be at least 1"}, {"driver", "unknown driver nope"}}));
  temp_file config(R"({"name":"p","driver":"nope","max_size":0})");
  auto r = ctl(fx, {"create", config.path});
  CHECK(r.code == 1);
  CHECK(r.out.empty());
  CHECK(r.err == "error: bad_config: 2 problems\n  max_size: must be at least 1\n"
                 "  driver: unknown driver nope\n");
}

TEST_CASE("custodianctl exits 2 on usage errors without asking the server") {
  admin_fixture fx;
  for (std::vector<std::string> args : {std::vector<std::string>{},
                                        {"nope"},
                                        {"pool"},
                                        {"pools", "extra"},
                                        {"pools", "--force"},
                                        {"resize", "orders-db"},
                                        {"resize", "orders-db", "--max-size", "x"},
                                        {"exec", "orders-db", "{not json"},
                                        {"--bogus", "pools"},
                                        {"create", "/no/such/file"}}) {
    CAPTURE(args.size());
    auto r = ctl(fx, args);
    CHECK(r.code == 2);
    CHECK(r.err.rfind("error: ", 0) == 0);
  }
  CHECK(ctl({"--url", "ftp://x", "pools"}).code == 2);
  CHECK(fx.node.calls().empty());
  auto help = ctl({"--help"});
  CHECK(help.code == 0);
  CHECK(contains(help.out, "3  cannot connect to the server"));
}

TEST_CASE("custodianctl exits 3 when it cannot connect") {
  std::string url;
  {
    admin_fixture fx;
    url = fx.url();
  }
  auto r = ctl({"--url", url, "pools"});
  CHECK(r.code == 3);
  CHECK(r.err.rfind("error: cannot connect to " + url, 0) == 0);
}

TEST_CASE("custodianctl writes a backup to a file and restores it") {
  admin_fixture fx;
  temp_file backup;
  CHECK(ctl(fx, {"backup", backup.path}).code == 0);
  CHECK(json::parse(backup.read()) == fake_node().backup());
  auto restored = ctl(fx, {"restore", backup.path});
  CHECK(restored.code == 0);
  CHECK(restored.out == "restored pools=0\n");
  CHECK(fx.node.last("restore").args["backup"] == fake_node().backup());
}

TEST_CASE("custodianctl audit prints operator actions as a table or the server's JSON") {
  admin_fixture fx;
  auto table = ctl(fx, {"audit"});
  CHECK(table.code == 0);
  CHECK(table.err.empty());
  CHECK(
    table.out ==
    "SEQ  TS                    REQUESTER                         ACTION  TARGET          "
    "DETAIL\n"
    "1    2024-01-01T00:00:00Z  api 127.0.0.1:40000 custodianctl  resize  orders-db       "
    "{\"max_size\":4}\n"
    "2    2024-01-01T00:00:01Z  sighup                            reload  conf/node.json  {}\n");
  CHECK(fx.node.last("audit_log").args == json{{"since", 0}, {"limit", 500}});

  auto as_json = ctl(fx, {"--json", "audit", "--since", "1", "--limit", "20"});
  CHECK(as_json.code == 0);
  CHECK(json::parse(as_json.out) == fake_node().audit_log(0, 0));
  CHECK(fx.node.last("audit_log").args == json{{"since", 1}, {"limit", 20}});

  // The server's own check of the page: exit 1 with its error.
  fx.node.forget_calls();
  auto refused = ctl(fx, {"audit", "--limit", "0"});
  CHECK(refused.code == 1);
  CHECK(refused.err == "error: bad_request: limit must be from 1 to 10000\n");
  auto usage = ctl(fx, {"audit", "--limit", "x"});
  CHECK(usage.code == 2);
  CHECK(ctl(fx, {"audit", "extra"}).code == 2);
  CHECK(ctl(fx, {"audit", "--force"}).code == 2);
  CHECK(fx.node.calls().empty());
}

TEST_CASE("custodianctl follows events as lines until the server stops") {
  admin_server_config config;
  config.sse_keepalive = std::chrono::seconds(1);
  admin_fixture fx(config);
  fx.node.emit("resource_state", "orders-db", "orders-db-1", "idle", "in_use");
  fx.node.reply("status", {{"events", {{"last_seq", 1}, {"dropped", 0}}}});
  temp_file err;
  FILE* pipe =
    ::popen(ctl_command({"--url", fx.url(), "events", "--follow"}, err.path).c_str(), "r");
  REQUIRE(pipe);
  REQUIRE(fx.node.wait_for_followers(1));
  fx.node.emit("resource_state", "orders-db", "orders-db-1", "in_use", "idle");
  fx.node.emit("pool_state", "cache", "", "active", "draining");
  CHECK(read_line(pipe) ==
        "2 2024-01-01T00:00:02Z resource_state orders-db orders-db-1 in_use -> idle");
  CHECK(read_line(pipe) == "3 2024-01-01T00:00:03Z pool_state cache - active -> draining");
  fx.server->stop();
  CHECK(read_line(pipe).empty());
  int status = ::pclose(pipe);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(fx.node.last("follow_events").args["since"] == 1);
}

TEST_CASE("custodianctl follows events as JSON lines with --json") {
  admin_server_config config;
  config.sse_keepalive = std::chrono::seconds(1);
  admin_fixture fx(config);
  temp_file err;
  FILE* pipe = ::popen(
    ctl_command({"--url", fx.url(), "--json", "events", "--follow", "--since", "0"}, err.path)
      .c_str(),
    "r");
  REQUIRE(pipe);
  REQUIRE(fx.node.wait_for_followers(1));
  fx.node.emit("resource_state", "orders-db", "orders-db-1", "idle", "in_use");
  auto line = read_line(pipe);
  CHECK(json::parse(line)["to"] == "in_use");
  CHECK(line.rfind("{\"seq\":1,", 0) == 0);
  fx.server->stop();
  CHECK(WEXITSTATUS(::pclose(pipe)) == 0);
}
