#pragma once
// Runs the built custodianctl (path in CUSTODIANCTL), or another tool, as a user
// would: through the shell, collecting its stdout, its stderr and its exit code.

#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <sys/wait.h>
#include <vector>

#include <doctest/doctest.h>

namespace custodian::test {

struct ctl_result {
  int code = -1;
  std::string out;
  std::string err;
};

inline std::string shell_quoted(const std::string& arg) {
  std::string q = "'";
  for (char c : arg)
    q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

/// The shell command running custodianctl with `args`, without the caller's
/// CUSTODIAN_* variables unless `env` ("NAME=value ...") sets them; its stderr
/// goes to `stderr_path`.
inline std::string ctl_command(const std::vector<std::string>& args, const std::string& stderr_path,
                               const std::string& env = "") {
  std::string cmd =
    "env -u CUSTODIAN_URL -u CUSTODIAN_TOKEN " + env + " " + shell_quoted(CUSTODIANCTL);
  for (const auto& a : args)
    cmd += " " + shell_quoted(a);
  return cmd + " 2>" + shell_quoted(stderr_path);
}

/// Runs a shell command whose stderr goes to `stderr_path` to its end.
inline ctl_result run_shell(const std::string& command, const std::string& stderr_path) {
  ctl_result r;
  FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe);
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof(buf), pipe)) > 0;)
    r.out.append(buf, n);
  int status = ::pclose(pipe);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream in(stderr_path);
  r.err.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return r;
}

/// Runs ctl_command to its end.
inline ctl_result run_ctl(const std::vector<std::string>& args, const std::string& stderr_path,
                          const std::string& env = "") {
  return run_shell(ctl_command(args, stderr_path, env), stderr_path);
}

} // namespace custodian::test
