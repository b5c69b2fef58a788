#pragma once
// What the process driver's tests share: the scripts the children run
// (tests/drivers/process/*.sh), a scratch directory where each child writes its
// pid file (so the tests know every pid they caused, and
// scripts/stop-test-servers.sh can stop what a crashed test left), and checks of
// a pid's state in /proc.

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <sys/types.h>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "drivers/process/process_driver.hpp"
#include "tests/support/node_process.hpp"

namespace custodian::test {

/// Bound of every wait in these tests: a bug fails the test instead of hanging
/// it. Bounds asserted as properties ("within the timeout + margin") are generous:
/// the machine has 2 shared cores.
constexpr auto bound = std::chrono::seconds{20};

/// One test's scratch directory under $CUSTODIAN_TEST_TMPDIR (or /tmp).
class process_fixture {
public:
  process_fixture() { std::filesystem::create_directory(pid_dir()); }

  std::string pid_dir() const { return dir_.file("pids"); }
  std::string file(const std::string& name) const { return dir_.file(name); }

  /// A driver_config that runs tests/drivers/process/`script` with sh (found on
  /// PATH), PID_DIR in its environment.
  nlohmann::json script(const std::string& name, std::vector<std::string> args = {}) const {
    args.insert(args.begin(), std::string{CUSTODIAN_PROCESS_SCRIPTS} + "/" + name);
    return {{"command", "sh"}, {"args", args}, {"env", {{"PID_DIR", pid_dir()}}}};
  }

  /// Every pid the children (and grandchildren) wrote so far.
  std::vector<pid_t> pids_seen() const {
    std::vector<pid_t> out;
    for (const auto& entry : std::filesystem::directory_iterator(pid_dir()))
      out.push_back(static_cast<pid_t>(std::stol(entry.path().stem().string())));
    return out;
  }

private:
  temp_dir dir_; // under $CUSTODIAN_TEST_TMPDIR (scratch_root)
};

/// Whether `pid` names a process at all, a zombie included.
inline bool exists(pid_t pid) {
  return std::filesystem::exists("/proc/" + std::to_string(pid));
}

/// Whether `pid` names a process that runs (neither gone nor a zombie).
inline bool running(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  auto end_of_name = stat.rfind(')');
  return end_of_name != std::string::npos && end_of_name + 2 < stat.size() &&
         stat[end_of_name + 2] != 'Z';
}

/// A field of /proc/<pid>/status ("SigBlk", "SigIgn"), as written there.
inline std::string status_field(pid_t pid, const std::string& name) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.starts_with(name + ":")) {
      auto value = line.substr(name.size() + 1);
      return value.substr(value.find_first_not_of(" \t"));
    }
  return {};
}

/// The descriptors `pid` has open, by number.
inline std::vector<int> open_fds(pid_t pid) {
  std::vector<int> out;
  for (const auto& entry :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd"))
    out.push_back(std::stoi(entry.path().filename().string()));
  std::sort(out.begin(), out.end());
  return out;
}

/// Connects `driver` and gives its connection as the process driver's own type.
inline std::shared_ptr<drivers::process_connection> open(drivers::driver& driver,
                                                         drivers::millis timeout = bound) {
  auto conn = driver.connect("test-1", timeout);
  REQUIRE_MESSAGE(conn.ok(), (conn.ok() ? "" : conn.error().message));
  return std::dynamic_pointer_cast<drivers::process_connection>(conn.value());
}

/// The line the child answers to `line`; fails the test on an error.
inline std::string say(drivers::connection& conn, const std::string& line) {
  auto reply = conn.exec({{"line", line}}, bound);
  REQUIRE_MESSAGE(reply.ok(), (reply.ok() ? "" : reply.error().message));
  return reply.value()["line"].get<std::string>();
}

} // namespace custodian::test
