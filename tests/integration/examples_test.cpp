// The example programs (examples/), run as a user runs them: each exits 0 (which
// they do only when no connection was left open) and says what it did. Compiled
// in only when the examples are built (CUSTODIAN_BUILD_EXAMPLES). pg_app needs a
// PostgreSQL server: custodian-postgres-tests runs it against a real one.

#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "tests/support/ctl_runner.hpp"
#include "tests/support/node_process.hpp"

using namespace custodian::test;
using nlohmann::json;

namespace {

/// Runs `program args...` to its end (killed after a minute), from a fresh
/// directory, its stderr collected apart.
[[maybe_unused]] ctl_result run_example(const std::string& program,
                                        const std::vector<std::string>& args = {}) {
  temp_dir dir;
  std::string command = "cd " + shell_quoted(dir.path) + " && timeout 60 " + shell_quoted(program);
  for (const auto& a : args)
    command += " " + shell_quoted(a);
  auto err = dir.file("stderr");
  return run_shell(command + " 2>" + shell_quoted(err), err);
}

/// The events of a program's JSON lines, checking that each line is one and that
/// their seqs increase.
[[maybe_unused]] std::vector<json> events_of(const std::string& out) {
  std::vector<json> events;
  std::istringstream lines(out);
  uint64_t last = 0;
  for (std::string line; std::getline(lines, line);) {
    auto ev = json::parse(line, nullptr, false);
    REQUIRE_MESSAGE(ev.is_object(), line);
    CHECK(ev.at("seq").get<uint64_t>() > last);
    last = ev.at("seq").get<uint64_t>();
    CHECK_FALSE(ev.at("kind").get<std::string>().empty());
    events.push_back(std::move(ev));
  }
  return events;
}

/// The last state each subject (resource or pool) went to in events of `kind`.
[[maybe_unused]] std::map<std::string, std::string>
last_states(const std::vector<json>& events, const std::string& kind, const std::string& subject) {
  std::map<std::string, std::string> last;
  for (const auto& ev : events)
    if (ev.at("kind") == kind)
      last[ev.at(subject).get<std::string>()] = ev.at("to").get<std::string>();
  return last;
}

[[maybe_unused]] bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

#ifdef CUSTODIAN_EXAMPLE_LIFECYCLE_DEMO
TEST_CASE("the lifecycle demo drives its four resources through their faults to terminated") {
  auto r = run_example(CUSTODIAN_EXAMPLE_LIFECYCLE_DEMO,
                       {CUSTODIAN_SOURCE_DIR "/conf/lifecycle_demo.json"});
  INFO("stderr:\n" << r.err);
  CHECK(r.code == 0);
  // The faults conf/lifecycle_demo.json injects, and the end.
  CHECK(contains(r.err, "# orders-db-2 initialize: custodian::driver_error"));
  CHECK(contains(r.err, "# cache-1 recover: ok"));
  CHECK(contains(r.err, "# broker-1 exec again: custodian::driver_error"));
  CHECK(contains(r.err, "# shutdown: 4 drained, 0 stopped"));
  auto ended = last_states(events_of(r.out), "transition", "resource");
  CHECK(ended == std::map<std::string, std::string>{{"broker-1", "terminated"},
                                                    {"cache-1", "terminated"},
                                                    {"orders-db-1", "terminated"},
                                                    {"orders-db-2", "terminated"}});
}
#endif

#ifdef CUSTODIAN_EXAMPLE_EMBEDDED_POOLS
TEST_CASE("the embedded pools example shares two pools and drains both") {
  auto r = run_example(CUSTODIAN_EXAMPLE_EMBEDDED_POOLS);
  INFO("stderr:\n" << r.err);
  CHECK(r.code == 0);
  CHECK(contains(r.err, "# cache replied "));
  CHECK(contains(r.err, "# shutdown: 2 drained, 0 forced"));
  auto ended = last_states(events_of(r.out), "pool_transition", "pool");
  CHECK(ended ==
        std::map<std::string, std::string>{{"cache", "destroyed"}, {"orders-db", "destroyed"}});
}
#endif
