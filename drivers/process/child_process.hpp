#pragma once
// A child process started in its own process group with nothing of the parent's
// but what it is given: stdin and stdout pipes (or /dev/null), stderr to a file
// or /dev/null, no other descriptor, default signal dispositions and an empty
// signal mask (but for glibc's two internal signals, 32 and 33, which its
// posix_spawn leaves ignored: no program may use them). It is stopped (SIGTERM to the group,
// SIGKILL after a grace period) and reaped by pid: no process-wide SIGCHLD handler, the embedding
// application owns its signals.
//
// Its exit is observed without reaping it (waitid WNOWAIT), so that its pid, and
// with it the id of its process group, cannot be reused while the group may still
// be signalled: the zombie is reaped by `stop`, after the whole group got SIGKILL.

#include <memory>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

#include "drivers/deadline.hpp"
#include "drivers/driver.hpp"

namespace custodian::drivers {

struct spawn_spec {
  /// The program to run: a path (found on PATH beforehand, see `find_program`).
  std::string program;
  /// argv; argv[0] is the command as configured.
  std::vector<std::string> argv;
  /// The whole environment, "NAME=value" each.
  std::vector<std::string> env;
  /// Working directory; empty: the parent's.
  std::string cwd;
  /// Where stderr is appended; empty: /dev/null.
  std::string stderr_path;
  /// stdin and stdout are pipes to the parent; false: both are /dev/null.
  bool pipes = true;
};

/// How a child ended.
struct exit_status {
  bool signaled = false;
  /// The exit code, or the signal that killed it.
  int value = 0;
  /// False when the kernel reaped it for us (SIGCHLD set to SIG_IGN).
  bool known = true;

  bool success() const { return known && !signaled && value == 0; }
  /// "exited with status 3", "was killed by signal 9 (SIGKILL)".
  std::string describe() const;
};

/// `command` as a path to run: itself when it holds a '/', else the first
/// executable file of that name in `path_list` (a PATH value); `refused` naming
/// the directories searched when there is none.
driver_result<std::string> find_program(const std::string& command, const std::string& path_list);

class child_process {
public:
  /// Starts `spec`; `refused` with the reason when it cannot ("cannot start /x: No
  /// such file or directory", a working directory that does not exist).
  static driver_result<std::unique_ptr<child_process>> spawn(const spawn_spec& spec);

  /// Kills the group at once (SIGKILL) and reaps the child if `stop` did not.
  ~child_process();

  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  pid_t pid() const noexcept { return pid_; }
  /// The parent's ends of the pipes (non-blocking, close-on-exec); -1 without pipes.
  int stdin_fd() const noexcept { return stdin_fd_; }
  int stdout_fd() const noexcept { return stdout_fd_; }

  /// How it ended, if it has: non-blocking, and it stays unreaped.
  std::optional<exit_status> exited();
  /// Waits until it ends or the deadline passes; it stays unreaped.
  std::optional<exit_status> wait_exit(const deadline& until);

  /// SIGTERM to the process group, up to `grace` for the child to end (within
  /// `until`, less a fifth of it kept for SIGKILL to act), then SIGKILL to the
  /// group, and the child reaped. A grace of 0 sends
  /// SIGKILL at once. A child that still has not ended at `until` (stuck in the
  /// kernel) is reaped by a thread of its own when it does: nullopt. Idempotent.
  std::optional<exit_status> stop(millis grace, const deadline& until);

private:
  child_process() = default;
  void signal_group(int sig) const;

  pid_t pid_ = -1;
  int pidfd_ = -1; ///< readable once the child ended; -1 where the kernel has no pidfd
  int stdin_fd_ = -1;
  int stdout_fd_ = -1;
  std::optional<exit_status> ended_;
  bool reaped_ = false;
};

} // namespace custodian::drivers
