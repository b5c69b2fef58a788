#include "drivers/process/child_process.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace custodian::drivers {

std::string exit_status::describe() const {
  if (!known)
    return "ended with an unknown status (SIGCHLD is ignored: the kernel reaped it)";
  if (!signaled)
    return "exited with status " + std::to_string(value);
  const char* name = ::sigabbrev_np(value);
  return "was killed by signal " + std::to_string(value) +
         (name ? " (SIG" + std::string{name} + ")" : std::string{});
}

namespace {

std::string error_text(int err) {
  return std::strerror(err);
}

void close_fd(int& fd) {
  if (fd >= 0)
    ::close(fd);
  fd = -1;
}

bool executable_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

/// The system's default PATH, for a child whose environment has none.
std::string default_path() {
  auto size = ::confstr(_CS_PATH, nullptr, 0);
  std::string path(size, '\0');
  ::confstr(_CS_PATH, path.data(), size);
  path.resize(size > 0 ? size - 1 : 0);
  return path;
}

exit_status status_of(const siginfo_t& info) {
  exit_status out;
  out.signaled = info.si_code == CLD_KILLED || info.si_code == CLD_DUMPED;
  out.value = info.si_status;
  return out;
}

/// The file actions and attributes of one spawn, released in every case.
struct spawn_setup {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;

  spawn_setup() {
    ::posix_spawn_file_actions_init(&actions);
    ::posix_spawnattr_init(&attr);
  }
  ~spawn_setup() {
    ::posix_spawn_file_actions_destroy(&actions);
    ::posix_spawnattr_destroy(&attr);
  }
  spawn_setup(const spawn_setup&) = delete;
  spawn_setup& operator=(const spawn_setup&) = delete;
};

std::vector<char*> pointers_to(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (const auto& s : strings)
    out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

} // namespace

driver_result<std::string> find_program(const std::string& command, const std::string& path_list) {
  if (command.find('/') != std::string::npos)
    return command;
  auto dirs = path_list.empty() ? default_path() : path_list;
  for (std::size_t start = 0; start <= dirs.size();) {
    auto end = std::min(dirs.find(':', start), dirs.size());
    // An empty entry would mean the node's working directory: never searched.
    if (end > start)
      if (auto candidate = dirs.substr(start, end - start) + "/" + command;
          executable_file(candidate))
        return candidate;
    start = end + 1;
  }
  return driver_error{driver_errc::refused,
                      "cannot start " + command + ": not found on PATH (" + dirs + ")"};
}

driver_result<std::unique_ptr<child_process>> child_process::spawn(const spawn_spec& spec) {
  auto cannot = [&](const std::string& why) {
    return driver_error{driver_errc::refused, "cannot start " + spec.program + ": " + why};
  };
  if (!spec.cwd.empty()) {
    // Checked here: the child's chdir failing would read as the program missing.
    struct stat st {};
    if (::stat(spec.cwd.c_str(), &st) != 0)
      return cannot("working directory " + spec.cwd + ": " + error_text(errno));
    if (!S_ISDIR(st.st_mode))
      return cannot("working directory " + spec.cwd + ": not a directory");
  }

  // Every descriptor made here is close-on-exec: the child gets copies at 0, 1, 2
  // only, and no other thread's spawn can inherit them.
  int in[2] = {-1, -1};
  int out[2] = {-1, -1};
  int err = -1;
  auto close_all = [&] {
    for (int* fd : {&in[0], &in[1], &out[0], &out[1], &err})
      close_fd(*fd);
  };
  if (spec.pipes && (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0)) {
    auto why = error_text(errno);
    close_all();
    return cannot("pipe: " + why);
  }
  const auto& err_path = spec.stderr_path.empty() ? std::string{"/dev/null"} : spec.stderr_path;
  err = ::open(err_path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (err < 0) {
    auto why = error_text(errno);
    close_all();
    return cannot("stderr file " + err_path + ": " + why);
  }

  spawn_setup setup;
  auto* actions = &setup.actions;
  if (!spec.cwd.empty())
    ::posix_spawn_file_actions_addchdir_np(actions, spec.cwd.c_str());
  if (spec.pipes) {
    ::posix_spawn_file_actions_adddup2(actions, in[0], STDIN_FILENO);
    ::posix_spawn_file_actions_adddup2(actions, out[1], STDOUT_FILENO);
  } else {
    ::posix_spawn_file_actions_addopen(actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    ::posix_spawn_file_actions_addopen(actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  }
  ::posix_spawn_file_actions_adddup2(actions, err, STDERR_FILENO);
  // Descriptors other code of this process opened without close-on-exec, too.
  ::posix_spawn_file_actions_addclosefrom_np(actions, STDERR_FILENO + 1);

  sigset_t none;
  sigset_t all;
  ::sigemptyset(&none);
  ::sigfillset(&all);
  ::posix_spawnattr_setsigmask(&setup.attr, &none);
  ::posix_spawnattr_setsigdefault(&setup.attr, &all);
  ::posix_spawnattr_setpgroup(&setup.attr, 0); // its own group: stopped as a whole
  ::posix_spawnattr_setflags(&setup.attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                            POSIX_SPAWN_SETPGROUP);

  auto argv = pointers_to(spec.argv);
  auto envp = pointers_to(spec.env);
  pid_t pid = -1;
  // glibc's posix_spawn reports a failed exec (ENOENT, EACCES, ENOEXEC) as its result.
  int rc =
    ::posix_spawn(&pid, spec.program.c_str(), actions, &setup.attr, argv.data(), envp.data());
  close_fd(in[0]);
  close_fd(out[1]);
  close_fd(err);
  if (rc != 0) {
    close_all();
    return cannot(error_text(rc));
  }

  std::unique_ptr<child_process> child{new child_process};
  child->pid_ = pid;
  child->stdin_fd_ = in[1];
  child->stdout_fd_ = out[0];
  for (int fd : {child->stdin_fd_, child->stdout_fd_})
    if (fd >= 0)
      ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  // Not reaped yet, so the pid cannot name another process. The system call
  // itself: glibc 2.36 declares pidfd_open without C linkage for C++.
  child->pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  return child;
}

child_process::~child_process() {
  if (!reaped_)
    stop(millis{0}, deadline{millis{1000}});
}

std::optional<exit_status> child_process::exited() {
  while (!ended_) {
    siginfo_t info{};
    if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0) {
      if (info.si_pid == pid_)
        ended_ = status_of(info);
      break;
    }
    if (errno == ECHILD)
      ended_ = exit_status{false, 0, false};
    else if (errno != EINTR)
      break;
  }
  return ended_;
}

std::optional<exit_status> child_process::wait_exit(const deadline& until) {
  for (;;) {
    if (auto status = exited())
      return status;
    if (until.passed())
      return std::nullopt;
    if (pidfd_ >= 0 && wait_for(pidfd_, POLLIN, until) != fd_wait::failed)
      continue;
    // No pidfd (an old kernel, a seccomp filter): look again shortly.
    std::this_thread::sleep_for(std::min(millis{2}, until.remaining()));
  }
}

void child_process::signal_group(int sig) const {
  // Unreaped, the leader keeps its pid, and so the group's id, from reuse.
  ::kill(-pid_, sig);
}

std::optional<exit_status> child_process::stop(millis grace, const deadline& until) {
  if (reaped_)
    return ended_;
  if (grace.count() > 0 && !exited()) {
    signal_group(SIGTERM);
    // A fifth of the time (up to a second) is kept for dying after SIGKILL.
    auto left = until.remaining();
    wait_exit(deadline{std::min(grace, left - std::min(left / 5, millis{1000}))});
  }
  // The whole group, even when the leader ended by itself: no orphan is left.
  signal_group(SIGKILL);
  reaped_ = true;
  close_fd(stdin_fd_);
  close_fd(stdout_fd_);
  if (!wait_exit(until)) {
    close_fd(pidfd_);
    // Stuck in the kernel despite SIGKILL: reaped whenever it ends.
    std::thread{[pid = pid_] {
      while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
      }
    }}.detach();
    return std::nullopt;
  }
  close_fd(pidfd_);
  if (ended_->known)
    while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
  return ended_;
}

} // namespace custodian::drivers
