// The process driver under a runtime's pool: a child that crashes, hangs or is
// killed from outside loses its resource and the pool starts a new child (a new
// pid) by itself; a command that cannot start reaches the acquirer as its reason;
// shutdown leaves no child behind; conf/process.json runs.

#include <csignal>
#include <set>
#include <sys/wait.h>

#include <caf/all.hpp>
#include <doctest/doctest.h>

#include "drivers/driver_catalog.hpp"
#include "drivers/process/process_driver.hpp"
#include "messages/errors.hpp"
#include "runtime/config/config.hpp"
#include "runtime/config/pool_from_json.hpp"
#include "runtime/runtime.hpp"
#include "tests/drivers/process/process_fixture.hpp"

using namespace custodian;
using namespace custodian::test;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

/// A pool of children that probes them every 100 ms and replaces one at its
/// first failed probe.
pool_config workers(const json& driver_config, uint32_t min_idle, uint32_t max_size) {
  pool_config c;
  c.name = "workers";
  c.driver = drivers::process_driver::from_config(driver_config);
  c.min_idle = min_idle;
  c.max_size = max_size;
  c.resource.init.backoff.base = 10ms;
  health_checker_config health;
  health.policy.interval = 100ms;
  health.policy.unhealthy_threshold = 1;
  c.health = health;
  return c;
}

pid_t pid_of(const scoped_lease& lease) {
  return lease.connection_as<drivers::process_connection>().native().pid;
}

/// Reaped by the driver: neither running nor a zombie of this process.
bool reaped(pid_t pid) {
  return ::waitpid(pid, nullptr, WNOHANG) < 0 && errno == ECHILD && !exists(pid);
}

lease_error error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const lease_error& e) {
    return e;
  }
  FAIL("expected a lease_error");
  return lease_error{errc::bad_request, ""};
}

} // namespace

TEST_CASE("process: a pool replaces a child that crashed with a new one") {
  process_fixture fx;
  runtime rt;
  rt.add_pool(workers(fx.script("crash_after.sh", {"1", "3"}), 1, 1));
  pid_t first = 0;
  {
    auto lease = rt.acquire("workers", bound);
    first = pid_of(lease);
    CHECK(lease.exec({{"line", "a"}}, bound)["line"] == "a");
    auto err = error_of([&] { lease.exec({{"line", "b"}}, bound); });
    CHECK(err.code() == errc::driver_error);
    CHECK(std::string{err.what()}.find("exited with status 3") != std::string::npos);
    CHECK_FALSE(lease); // the failure ended the lease: the pool replaces the resource
  }
  auto lease = rt.acquire("workers", bound);
  CHECK(pid_of(lease) != first);
  CHECK(lease.exec({{"line", "again"}}, bound)["line"] == "again");
  CHECK(eventually([&] { return reaped(first); }, bound));
  lease.release();
  rt.shutdown();
}

TEST_CASE("process: a pool replaces a child that did not answer within line_timeout_ms") {
  process_fixture fx;
  auto cfg = fx.script("silent.sh");
  cfg["line_timeout_ms"] = 300;
  runtime rt;
  rt.add_pool(workers(cfg, 1, 1));
  pid_t first = 0;
  {
    auto lease = rt.acquire("workers", bound);
    first = pid_of(lease);
    auto start = std::chrono::steady_clock::now();
    auto err = error_of([&] { lease.exec({{"line", "anyone?"}}, 10s); });
    CHECK(std::chrono::steady_clock::now() - start < 300ms + 5s);
    CHECK(err.code() == errc::timeout);
    CHECK(std::string{err.what()}.find("wrote no line within 300 ms") != std::string::npos);
  }
  auto lease = rt.acquire("workers", bound);
  CHECK(pid_of(lease) != first);
  CHECK(eventually([&] { return reaped(first); }, bound));
  lease.release();
  rt.shutdown();
}

TEST_CASE("process: a pool notices a child killed from outside and starts a new one") {
  process_fixture fx;
  runtime rt;
  rt.add_pool(workers(fx.script("probe.sh"), 1, 1));
  pid_t first = pid_of(rt.acquire("workers", bound));
  REQUIRE(::kill(first, SIGKILL) == 0);
  // Nobody uses it: its health probe finds it dead and the pool replaces it.
  pid_t next = first;
  CHECK(eventually(
    [&] {
      next = pid_of(rt.acquire("workers", bound));
      return next != first;
    },
    bound));
  {
    auto lease = rt.acquire("workers", bound);
    CHECK(pid_of(lease) == next);
    CHECK(lease.exec({{"line", "alive"}}, bound)["line"] == "alive");
  }
  CHECK(eventually([&] { return reaped(first); }, bound));
  rt.shutdown();
}

TEST_CASE("process: a pool whose command cannot start tells the acquirer why") {
  process_fixture fx;
  runtime rt;
  rt.add_pool(workers({{"command", "/nonexistent/worker"}}, 0, 1));
  auto start = std::chrono::steady_clock::now();
  auto err = error_of([&] { rt.acquire("workers", 2s); });
  CHECK(std::chrono::steady_clock::now() - start < 2s + 5s);
  CHECK(std::string{err.what()}.find(
          "cannot start /nonexistent/worker: No such file or directory") != std::string::npos);
  rt.shutdown();
}

TEST_CASE("process: after shutdown no child of the pool is left, zombies included") {
  process_fixture fx;
  auto cfg = fx.script("stubborn.sh"); // ignores SIGTERM, has a grandchild
  cfg["stop_grace_ms"] = 200;
  runtime rt;
  rt.add_pool(workers(cfg, 3, 3));
  std::set<pid_t> children;
  std::vector<pid_t> grandchildren;
  {
    std::vector<scoped_lease> leases;
    for (int i = 0; i < 3; ++i) {
      leases.push_back(rt.acquire("workers", bound));
      children.insert(pid_of(leases.back()));
      grandchildren.push_back(
        std::stoi(leases.back().exec({{"line", "grandchild"}}, bound)["line"].get<std::string>()));
    }
  }
  CHECK(children.size() == 3);
  CHECK(fx.pids_seen().size() == 6); // three children, three grandchildren: no other
  rt.shutdown();
  for (auto pid : children)
    CHECK(reaped(pid));
  for (auto pid : grandchildren)
    CHECK(eventually([&] { return !running(pid); }, bound));
}

TEST_CASE("process: conf/process.json is a valid node config whose pools answer") {
  auto catalog = drivers::builtin_drivers();
  auto loaded = load_node_config(std::string{CUSTODIAN_CONF_DIR} + "/process.json", catalog);
  for (const auto& p : loaded.problems)
    FAIL_CHECK(to_string(p));
  REQUIRE(loaded.config);
  runtime rt;
  for (const auto& pool : loaded.config->pools)
    rt.add_pool(make_pool_config(pool, catalog));
  {
    auto echo = rt.acquire("echo", bound);
    CHECK(echo.exec({{"line", "hello"}}, bound)["line"] == "hello");
    auto shout = rt.acquire("shout", bound);
    CHECK(shout.exec({{"line", "hello"}}, bound)["line"] == "HELLO");
  }
  rt.shutdown();
}
