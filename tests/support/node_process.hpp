#pragma once
// The real custodiand as a child process, for the integration tests: a fresh
// temporary directory per test, a free loopback port, the config written there,
// stderr captured in a file, readiness awaited within a deadline, signals, and an
// exit waited for within a bound. A child still running when its node_process
// goes away is killed, so a failing test never leaks a process.

#include <arpa/inet.h>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <httplib.h>
#include <iterator>
#include <mutex>
#include <netinet/in.h>
#include <optional>
#include <spawn.h>
#include <stdexcept>
#include <string>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <nlohmann/json.hpp>

extern char** environ;

namespace custodian::test {

/// A loopback port that was free a moment ago: bound to 127.0.0.1:0, read, closed.
inline int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    throw std::runtime_error("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("cannot find a free port");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

/// Whether something accepts connections on 127.0.0.1:port.
inline bool port_listening(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out)
    throw std::runtime_error("cannot write " + path);
}

/// The tests' scratch directory: $CUSTODIAN_TEST_TMPDIR (run.sh test makes it and
/// stops every server left in it), else $TMPDIR or /tmp.
inline std::filesystem::path scratch_root() {
  if (const char* dir = std::getenv("CUSTODIAN_TEST_TMPDIR"); dir && *dir)
    return dir;
  return std::filesystem::temp_directory_path();
}

/// A fresh directory under scratch_root(), removed with everything in it.
struct temp_dir {
  std::string path;
  temp_dir() {
    auto base = scratch_root() / "custodian-node-test-XXXXXX";
    std::string pattern = base.string();
    if (::mkdtemp(pattern.data()) == nullptr)
      throw std::runtime_error("mkdtemp failed");
    path = pattern;
  }
  ~temp_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  std::string file(const std::string& name) const { return path + "/" + name; }
};

/// Counts what a waiting test may be waiting for: each line a node writes, each
/// request a test's own thread gets answered. `eventually` wakes on each.
class progress {
public:
  void bump() {
    {
      std::lock_guard<std::mutex> guard{mtx_};
      ++count_;
    }
    changed_.notify_all();
  }

  uint64_t count() {
    std::lock_guard<std::mutex> guard{mtx_};
    return count_;
  }

  /// Returns once the count has moved past `seen`, or after `bound`.
  void await_after(uint64_t seen, std::chrono::milliseconds bound) {
    std::unique_lock<std::mutex> lock{mtx_};
    changed_.wait_for(lock, bound, [&] { return count_ != seen; });
  }

private:
  std::mutex mtx_;
  std::condition_variable changed_;
  uint64_t count_ = 0;
};

inline progress& changes() {
  static progress shared;
  return shared;
}

/// Checks `done` again at every change (a node's log line, a test thread's
/// answer); false once `within` has passed. Not every change of a node's state
/// writes a line (the registry hears of a pool's state a moment after the pool
/// logs it), so `done` is also checked again after 100 ms without one.
template <class F>
bool eventually(F&& done, std::chrono::milliseconds within = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + within;
  for (;;) {
    auto seen = changes().count();
    if (done())
      return true;
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    changes().await_after(seen, std::chrono::milliseconds(100));
  }
}

/// One custodiand child.
class node_process {
public:
  /// Starts `binary --config config_path args...` with `env` ("NAME=value")
  /// added to this process's environment; stderr and stdout go to `log_path`.
  node_process(std::string binary, std::string config_path, std::string log_path,
               std::vector<std::string> args = {}, std::vector<std::string> env = {})
      : log_path_(std::move(log_path)) {
    std::vector<std::string> argv_s{binary, "--config", std::move(config_path)};
    for (auto& a : args)
      argv_s.push_back(std::move(a));
    std::vector<char*> argv;
    for (auto& a : argv_s)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_s;
    for (char** e = environ; *e != nullptr; ++e)
      env_s.emplace_back(*e);
    for (auto& e : env)
      env_s.push_back(std::move(e));
    std::vector<char*> envp;
    for (auto& e : env_s)
      envp.push_back(e.data());
    envp.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    // Its output comes through a pipe: each chunk goes to the log file and wakes
    // the tests waiting on the node.
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0)
      throw std::runtime_error(std::string{"pipe: "} + std::strerror(errno));
    posix_spawn_file_actions_adddup2(&actions, out[1], STDERR_FILENO);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    // The child starts with no blocked signals and default dispositions, whatever
    // the test runner set.
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    int rc = ::posix_spawn(&pid_, argv[0], &actions, &attr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    ::close(out[1]);
    if (rc != 0) {
      ::close(out[0]);
      throw std::runtime_error("posix_spawn " + argv_s[0] + ": " + std::strerror(rc));
    }
    reader_ = std::thread{[this, fd = out[0], path = log_path_] {
      std::ofstream log(path, std::ios::app);
      char buf[4096];
      for (ssize_t n; (n = ::read(fd, buf, sizeof(buf))) != 0;) {
        if (n < 0 && errno == EINTR)
          continue;
        if (n < 0)
          break;
        log.write(buf, n);
        log.flush();
        changes().bump();
      }
      ::close(fd);
      output_ended_ = true;
      changes().bump(); // the end of its output: it exited
    }};
  }

  ~node_process() {
    if (running()) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
    reader_.join(); // its output ended with it
  }

  node_process(const node_process&) = delete;
  node_process& operator=(const node_process&) = delete;

  pid_t pid() const { return pid_; }

  /// Whether the child has not been reaped yet (reaps it if it just ended).
  bool running() {
    if (exit_code_)
      return false;
    int status = 0;
    pid_t r;
    do
      r = ::waitpid(pid_, &status, WNOHANG);
    while (r < 0 && errno == EINTR);
    if (r == pid_) {
      record(status);
      return false;
    }
    if (r < 0) {
      exit_code_ = -1; // not our child any more: nothing to wait for
      return false;
    }
    return true;
  }

  void signal(int sig) {
    if (running())
      ::kill(pid_, sig);
  }

  /// The exit code (128 + signal when a signal ended it), or nothing when the
  /// child still runs after `within`.
  std::optional<int> wait_exit(std::chrono::milliseconds within = std::chrono::seconds(20)) {
    eventually([&] { return !running(); }, within);
    // Its last lines may still be in the pipe: the log has them once the reader is
    // at the end (bounded: a process it left behind may hold the pipe open).
    if (exit_code_)
      eventually([&] { return output_ended_.load(); }, std::chrono::seconds(5));
    return exit_code_;
  }

  /// Waits until GET /readyz on `port` answers 200; false when the child ended or
  /// `within` passed first.
  bool wait_ready(int port, std::chrono::milliseconds within = std::chrono::seconds(15)) {
    return eventually(
             [&] {
               if (!running())
                 return true;
               httplib::Client cli("127.0.0.1", port);
               cli.set_connection_timeout(std::chrono::milliseconds(200));
               cli.set_read_timeout(std::chrono::seconds(2));
               auto res = cli.Get("/readyz");
               return res && res->status == 200;
             },
             within) &&
           running();
  }

  /// What the child wrote to stderr/stdout so far.
  std::string log() const { return read_file(log_path_); }

private:
  void record(int status) {
    if (WIFEXITED(status))
      exit_code_ = WEXITSTATUS(status);
    else if (WIFSIGNALED(status))
      exit_code_ = 128 + WTERMSIG(status);
  }

  std::string log_path_;
  std::thread reader_;
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  std::atomic<bool> output_ended_{false};
};

} // namespace custodian::test
