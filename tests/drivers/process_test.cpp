// The process driver's connections against real children (/bin/sh scripts in
// tests/drivers/process/, /bin/cat): lines round-trip; the child gets its args,
// env and cwd and nothing else of the test's (descriptors, signal state, process
// group); a child that crashes, hangs or is killed fails its connection with a
// classified error; close stops it (SIGKILL after the grace) and reaps it and its
// group; a child that cannot start is a clear `refused`.

#include <cerrno>
#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include "drivers/process/process_driver.hpp"
#include "tests/drivers/process/process_fixture.hpp"

using namespace custodian;
using namespace custodian::test;
using namespace std::chrono_literals;
using drivers::driver_errc;
using json = nlohmann::json;

namespace {

using clock_type = std::chrono::steady_clock;

std::shared_ptr<drivers::process_driver> driver_for(json cfg) {
  return drivers::process_driver::from_config(cfg);
}

/// Whether `pid` was reaped: no zombie of ours is left.
bool reaped(pid_t pid) {
  return ::waitpid(pid, nullptr, WNOHANG) < 0 && errno == ECHILD && !exists(pid);
}

} // namespace

TEST_CASE("process: exec writes a line to the child and returns the line it answers") {
  process_fixture fx;
  auto conn = open(*driver_for(fx.script("probe.sh")));
  CHECK(say(*conn, "hello") == "hello");
  CHECK(say(*conn, "") == "");
  CHECK(say(*conn, "  spaced  and \\ back\tslashed ") == "  spaced  and \\ back\tslashed ");
  std::string big(200'000, 'x'); // many pipe buffers each way
  CHECK(say(*conn, big) == big);
  CHECK(conn->ping(bound).ok());
  CHECK(conn->close(bound).ok());
}

TEST_CASE("process: the child gets its args, env and cwd, and only the variables it is given") {
  process_fixture fx;
  ::setenv("CUSTODIAN_TEST_NOT_FOR_CHILDREN", "parent-only", 1);
  auto cfg = fx.script("probe.sh", {"first arg", "second"});
  cfg["env"]["GREETING"] = "hi there";
  cfg["env"]["LANG"] = "C.UTF-8"; // env replaces an inherited variable
  cfg["cwd"] = fx.file("");
  auto conn = open(*driver_for(cfg));
  CHECK(say(*conn, "args") == "first arg second");
  CHECK(say(*conn, "env GREETING") == "hi there");
  CHECK(say(*conn, "env LANG") == "C.UTF-8");
  CHECK(say(*conn, "env CUSTODIAN_RESOURCE_ID") == "test-1");
  CHECK(say(*conn, "env PATH") == std::getenv("PATH"));
  CHECK(say(*conn, "env CUSTODIAN_TEST_NOT_FOR_CHILDREN") == "<unset>");
  CHECK(std::filesystem::equivalent(say(*conn, "pwd"), fx.file("")));
  conn->close(bound);
  ::unsetenv("CUSTODIAN_TEST_NOT_FOR_CHILDREN");
}

TEST_CASE("process: the child inherits no descriptor, no blocked or ignored signal, and leads its "
          "own group") {
  process_fixture fx;
  // A descriptor without close-on-exec, a blocked and an ignored signal: none
  // may reach the child.
  int leaked = ::open("/dev/null", O_RDONLY);
  REQUIRE(leaked > 2);
  sigset_t usr1, before;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  ::pthread_sigmask(SIG_BLOCK, &usr1, &before);
  auto old_usr2 = ::signal(SIGUSR2, SIG_IGN);

  auto conn = open(*driver_for({{"command", "/bin/cat"}}));
  ::pthread_sigmask(SIG_SETMASK, &before, nullptr);
  ::signal(SIGUSR2, old_usr2);
  ::close(leaked);

  CHECK(say(*conn, "up") == "up"); // cat runs (exec is done)
  auto pid = conn->native().pid;
  CHECK(open_fds(pid) == std::vector<int>{0, 1, 2});
  CHECK(std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/fd/2") == "/dev/null");
  CHECK(status_field(pid, "SigBlk") == "0000000000000000");
  // Every signal a program may use is at its default; glibc's posix_spawn leaves
  // its own two (32 and 33, reserved to the C library) ignored.
  auto ignored = std::stoull(status_field(pid, "SigIgn"), nullptr, 16);
  CHECK((ignored & ~((1ULL << (32 - 1)) | (1ULL << (33 - 1)))) == 0);
  CHECK(::getpgid(pid) == pid);
  CHECK(::getpgid(pid) != ::getpgrp());
  conn->close(bound);
}

TEST_CASE(
  "process: native() gives the pid and the pipes, and output left unread asks for a reset") {
  process_fixture fx;
  auto conn = open(*driver_for(fx.script("probe.sh")));
  auto h = conn->native();
  CHECK(h.pid > 0);
  CHECK(running(h.pid));
  // The holder talks to the child itself and leaves the answer unread.
  std::string request = "by hand\n";
  REQUIRE(::write(h.stdin_fd, request.data(), request.size()) ==
          static_cast<ssize_t>(request.size()));
  CHECK(eventually([&] { return conn->needs_reset(); }, bound));
  CHECK(conn->reset(bound).ok());
  CHECK_FALSE(conn->needs_reset());
  CHECK(say(*conn, "in step") == "in step");
  // Two lines for one request: the second is left over, reset drops it.
  CHECK(say(*conn, "twice again") == "again");
  CHECK(eventually([&] { return conn->needs_reset(); }, bound));
  CHECK(conn->reset(bound).ok());
  CHECK(say(*conn, "next") == "next");
  conn->close(bound);
  CHECK(conn->native().stdin_fd == -1);
}

TEST_CASE("process: a request that is not one line is rejected and the child stays usable") {
  process_fixture fx;
  auto conn = open(*driver_for(fx.script("probe.sh")));
  for (const auto& bad : {json{{"lines", "x"}}, json{{"line", 3}}, json::array({"line"}),
                          json{{"line", "x"}, {"extra", 1}}, json{{"line", "two\nlines"}}}) {
    auto reply = conn->exec(bad, bound);
    REQUIRE_FALSE(reply.ok());
    CHECK(reply.error().code == driver_errc::rejected);
  }
  CHECK(say(*conn, "still fine") == "still fine");
  conn->close(bound);
}

TEST_CASE("process: output that is not UTF-8 comes back with replacement characters") {
  process_fixture fx;
  auto conn = open(*driver_for(fx.script("probe.sh")));
  auto reply = conn->exec({{"line", "caf\xC3\xA9 \xFF!"}}, bound);
  REQUIRE(reply.ok());
  CHECK(reply.value().dump() == R"({"line":"café �!"})");
  conn->close(bound);
}

TEST_CASE("process: a line longer than max_line_bytes fails the connection") {
  process_fixture fx;
  auto cfg = fx.script("probe.sh");
  cfg["max_line_bytes"] = 1000;
  auto conn = open(*driver_for(cfg));
  CHECK(say(*conn, std::string(1000, 'y')) == std::string(1000, 'y'));
  auto reply = conn->exec({{"line", std::string(5000, 'z')}}, bound);
  REQUIRE_FALSE(reply.ok());
  CHECK(reply.error().code == driver_errc::broken);
  CHECK(reply.error().message.find("longer than 1000 bytes") != std::string::npos);
  CHECK_FALSE(conn->alive()); // out of step: replaced, never used again
  conn->close(bound);
}

TEST_CASE("process: startup_line holds connect until the child prints it") {
  process_fixture fx;
  auto cfg = fx.script("ready.sh");
  cfg["startup_line"] = "ready";
  auto conn = open(*driver_for(cfg));
  // "starting up" and "ready" were read by connect: the first answer is ours.
  CHECK(say(*conn, "first") == "first");
  conn->close(bound);

  SUBCASE("a child that exits first fails connect with its exit status") {
    auto crashing = fx.script("crash_after.sh", {"0", "7"});
    crashing["startup_line"] = "ready";
    auto res = driver_for(crashing)->connect("test-1", bound);
    REQUIRE_FALSE(res.ok());
    CHECK(res.error().code == driver_errc::broken);
    CHECK(res.error().message.find("exited with status 7 before it printed \"ready\"") !=
          std::string::npos);
  }
  SUBCASE("a child that never prints it fails connect with a timeout, and is reaped") {
    auto quiet = fx.script("silent.sh");
    quiet["startup_line"] = "ready";
    auto start = clock_type::now();
    auto res = driver_for(quiet)->connect("test-1", 300ms);
    REQUIRE_FALSE(res.ok());
    CHECK(res.error().code == driver_errc::timeout);
    CHECK(res.error().message.find("did not print \"ready\" within 300 ms") != std::string::npos);
    CHECK(clock_type::now() - start < 300ms + 5s);
    for (auto pid : fx.pids_seen())
      CHECK(reaped(pid));
  }
}

TEST_CASE("process: a command that cannot start is refused with the reason") {
  process_fixture fx;
  auto refused = [](json cfg) {
    auto res = driver_for(cfg)->connect("test-1", bound);
    REQUIRE_FALSE(res.ok());
    CHECK(res.error().code == driver_errc::refused);
    return res.error().message;
  };
  CHECK(refused({{"command", "/nonexistent/server"}}) ==
        "cannot start /nonexistent/server: No such file or directory");
  auto not_on_path =
    refused({{"command", "no-such-command-anywhere"}, {"env", {{"PATH", "/usr/bin:/bin"}}}});
  CHECK(not_on_path == "cannot start no-such-command-anywhere: not found on PATH (/usr/bin:/bin)");
  CHECK(refused({{"command", "/bin/cat"}, {"cwd", "/nonexistent/dir"}}) ==
        "cannot start /bin/cat: working directory /nonexistent/dir: No such file or directory");
  test::write_file(fx.file("not-executable"), "#!/bin/sh\n");
  CHECK(refused({{"command", fx.file("not-executable")}}) ==
        "cannot start " + fx.file("not-executable") + ": Permission denied");
}

TEST_CASE("process: a child that crashes fails the next exec as broken with its exit status") {
  process_fixture fx;
  auto conn = open(*driver_for(fx.script("crash_after.sh", {"2", "3"})));
  auto pid = conn->native().pid;
  CHECK(say(*conn, "one") == "one");
  CHECK(say(*conn, "two") == "two");
  auto reply = conn->exec({{"line", "three"}}, bound);
  REQUIRE_FALSE(reply.ok());
  CHECK(reply.error().code == driver_errc::broken);
  CHECK(reply.error().message ==
        "the child (pid " + std::to_string(pid) + ") exited with status 3");
  CHECK_FALSE(conn->alive());
  auto ping = conn->ping(bound);
  REQUIRE_FALSE(ping.ok());
  CHECK(ping.error().code == driver_errc::broken);
  CHECK(conn->close(bound).ok());
  CHECK(reaped(pid));
}

TEST_CASE(
  "process: a child that does not answer within line_timeout_ms fails exec with a timeout") {
  process_fixture fx;
  auto cfg = fx.script("silent.sh");
  cfg["line_timeout_ms"] = 300;
  auto conn = open(*driver_for(cfg));
  auto start = clock_type::now();
  auto reply = conn->exec({{"line", "anyone?"}}, bound); // capped at 300 ms
  auto took = clock_type::now() - start;
  REQUIRE_FALSE(reply.ok());
  CHECK(reply.error().code == driver_errc::timeout);
  CHECK(reply.error().message.find("wrote no line within 300 ms") != std::string::npos);
  CHECK(took >= 300ms);
  CHECK(took < 300ms + 5s);
  // Its answer may still come: the connection is never used again.
  CHECK_FALSE(conn->alive());
  auto again = conn->exec({{"line", "x"}}, bound);
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().code == driver_errc::broken);
  conn->close(bound);
}

TEST_CASE("process: a child killed from outside is not alive and fails its ping") {
  process_fixture fx;
  auto conn = open(*driver_for(fx.script("probe.sh")));
  auto pid = conn->native().pid;
  CHECK(conn->alive());
  REQUIRE(::kill(pid, SIGKILL) == 0);
  CHECK(eventually([&] { return !conn->alive(); }, bound));
  auto ping = conn->ping(bound);
  REQUIRE_FALSE(ping.ok());
  CHECK(ping.error().code == driver_errc::broken);
  CHECK(ping.error().message.find("was killed by signal 9 (SIGKILL)") != std::string::npos);
  // Not reaped until closed: its pid cannot be reused while its group may be signalled.
  CHECK(exists(pid));
  CHECK(conn->close(bound).ok());
  CHECK(reaped(pid));
}

TEST_CASE("process: close stops a polite child with SIGTERM without waiting out the grace") {
  process_fixture fx;
  auto cfg = fx.script("probe.sh");
  cfg["stop_grace_ms"] = 60'000;
  auto conn = open(*driver_for(cfg));
  auto pid = conn->native().pid;
  auto start = clock_type::now();
  CHECK(conn->close(bound).ok());
  CHECK(clock_type::now() - start < 10s); // it ended on SIGTERM, long before the grace
  CHECK(reaped(pid));
}

TEST_CASE(
  "process: close kills a child that ignores SIGTERM after the grace, and its whole group") {
  process_fixture fx;
  auto cfg = fx.script("stubborn.sh");
  cfg["stop_grace_ms"] = 300;
  auto conn = open(*driver_for(cfg));
  auto pid = conn->native().pid;
  auto grandchild = static_cast<pid_t>(std::stol(say(*conn, "grandchild")));
  CHECK(running(grandchild));
  CHECK(::getpgid(grandchild) == pid);
  auto start = clock_type::now();
  CHECK(conn->close(bound).ok());
  auto took = clock_type::now() - start;
  CHECK(took >= 300ms); // SIGTERM was ignored: the grace was waited out
  CHECK(took < 300ms + 5s);
  CHECK(reaped(pid));
  // The grandchild is its new parent's to reap (init): it must not run.
  CHECK(eventually([&] { return !running(grandchild); }, bound));
}

TEST_CASE("process: close is bounded by its timeout when the grace is longer") {
  process_fixture fx;
  auto cfg = fx.script("stubborn.sh");
  cfg["stop_grace_ms"] = 600'000;
  auto conn = open(*driver_for(cfg));
  auto pid = conn->native().pid;
  auto start = clock_type::now();
  CHECK(conn->close(500ms).ok());
  CHECK(clock_type::now() - start < 500ms + 5s);
  CHECK(reaped(pid));
}

TEST_CASE("process: a connection destroyed without close kills and reaps its child and group") {
  process_fixture fx;
  auto conn = open(*driver_for(fx.script("stubborn.sh")));
  auto pid = conn->native().pid;
  auto grandchild = static_cast<pid_t>(std::stol(say(*conn, "grandchild")));
  conn.reset();
  CHECK(reaped(pid));
  CHECK(eventually([&] { return !running(grandchild); }, bound));
}

TEST_CASE("process: the health command decides ping, within the probe timeout") {
  process_fixture fx;
  auto with_health = [&](json health) {
    auto cfg = fx.script("probe.sh");
    cfg["health"] = std::move(health);
    return open(*driver_for(cfg));
  };
  CHECK(with_health({{"command", "true"}})->ping(bound).ok());

  auto failing = with_health({{"command", "sh"}, {"args", {"-c", "exit 4"}}})->ping(bound);
  REQUIRE_FALSE(failing.ok());
  CHECK(failing.error().code == driver_errc::unavailable);
  CHECK(failing.error().message.starts_with("health command /"));
  CHECK(failing.error().message.ends_with("/sh exited with status 4"));

  // The health command runs in the child's environment and directory.
  auto cfg = fx.script("probe.sh");
  cfg["cwd"] = fx.file("");
  cfg["health"] = {{"command", "sh"}, {"args", {"-c", "[ -d \"$PID_DIR\" ] && [ -d pids ]"}}};
  CHECK(open(*driver_for(cfg))->ping(bound).ok());

  auto slow = with_health({{"command", "sleep"}, {"args", {"600"}}});
  auto start = clock_type::now();
  auto hung = slow->ping(300ms);
  REQUIRE_FALSE(hung.ok());
  CHECK(hung.error().code == driver_errc::timeout);
  CHECK(clock_type::now() - start < 300ms + 5s);

  auto missing = with_health({{"command", "/nonexistent/check"}})->ping(bound);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message ==
        "health cannot start /nonexistent/check: No such file or directory");
}

TEST_CASE("process: the health port must accept a connection on 127.0.0.1") {
  process_fixture fx;
  int port = free_port();
  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(listener, 8) == 0);

  auto cfg = fx.script("probe.sh");
  cfg["health"] = {{"tcp_port", port}};
  auto conn = open(*driver_for(cfg));
  CHECK(conn->ping(bound).ok());
  ::close(listener);
  auto down = conn->ping(bound);
  REQUIRE_FALSE(down.ok());
  CHECK(down.error().code == driver_errc::unavailable);
  CHECK(down.error().message ==
        "health port 127.0.0.1:" + std::to_string(port) + ": Connection refused");
  CHECK(conn->alive()); // the child itself is fine: the pool judges the probe
  conn->close(bound);
}

TEST_CASE("process: stderr goes to stderr_path, appended, or to /dev/null") {
  process_fixture fx;
  auto cfg = fx.script("probe.sh");
  cfg["health"] = {{"command", "sh"}, {"args", {"-c", "echo from-health >&2"}}};
  cfg["stderr_path"] = fx.file("child.err");
  test::write_file(fx.file("child.err"), "earlier\n");
  auto conn = open(*driver_for(cfg));
  CHECK(conn->ping(bound).ok());
  CHECK(test::read_file(fx.file("child.err")) == "earlier\nfrom-health\n");
  conn->close(bound);
}

TEST_CASE("process: no error message shows the value of a variable in env") {
  process_fixture fx;
  const std::string secret = "s3cret-value-2f9a";
  auto messages = std::vector<std::string>{};
  auto cfg = json{{"command", "/nonexistent/"
                              "tool"},
                  {"env", {{"API_TOKEN", secret}}}};
  messages.push_back(driver_for(cfg)->connect("test-1", bound).error().message);
  cfg = fx.script("crash_after.sh", {"0", "1"});
  cfg["env"]["API_TOKEN"] = secret;
  cfg["startup_line"] = "ready";
  messages.push_back(driver_for(cfg)->connect("test-1", bound).error().message);
  cfg = fx.script("crash_after.sh", {"0", "1"});
  cfg["env"]["API_TOKEN"] = secret;
  auto conn = open(*driver_for(cfg));
  messages.push_back(conn->exec({{"line", "x"}}, bound).error().message);
  messages.push_back(conn->ping(bound).error().message);
  for (const auto& m : messages) {
    CHECK_FALSE(m.empty());
    CHECK(m.find(secret) == std::string::npos);
  }
}
