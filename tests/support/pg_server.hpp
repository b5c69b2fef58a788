#pragma once
// A real PostgreSQL (the highest version under /usr/lib/postgresql) for the
// postgres driver's tests: a fresh cluster in a directory under
// $CUSTODIAN_TEST_TMPDIR (or /tmp), on 127.0.0.1 and a free port, with
// scram-sha-256 password authentication for one role (`custodian`, a random
// password, its own database) and `local all all trust` for the fixture's own
// admin SQL over the Unix socket in the data directory. As root the server runs as
// the `postgres` user. initdb runs once per scratch directory (a template cluster,
// made under flock so that parallel test processes do not race) and each server
// copies it. The server logs connections with epoch-millisecond timestamps
// (log_line_prefix %n) for the benchmark. Every wait is bounded; the destructor
// stops the server (immediate) and removes its directory, and
// scripts/stop-test-servers.sh stops one a crashed test left (its postmaster.pid).

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <libpq-fe.h>
#include <memory>
#include <poll.h>
#include <pwd.h>
#include <random>
#include <spawn.h>
#include <stdexcept>
#include <string>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include <nlohmann/json.hpp>

#include "drivers/deadline.hpp"
#include "tests/support/node_process.hpp"

extern char** environ;

namespace custodian::test {

namespace pg_detail {

inline std::string bin_dir() {
  std::string best;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
    auto name = entry.path().filename().string();
    bool version = !name.empty() && name.find_first_not_of("0123456789") == std::string::npos;
    if (version && std::filesystem::exists(entry.path() / "bin" / "postgres") &&
        (best.empty() || std::stoi(name) > std::stoi(best)))
      best = name;
  }
  if (best.empty())
    throw std::runtime_error("no PostgreSQL server under /usr/lib/postgresql");
  return "/usr/lib/postgresql/" + best + "/bin";
}

/// The server refuses to run as root: as root, it runs as `postgres`.
inline bool as_root() {
  return ::geteuid() == 0;
}

inline std::string scratch_base() {
  const char* base = std::getenv("CUSTODIAN_TEST_TMPDIR");
  return base && *base ? base : "/tmp";
}

/// Hands `path` (and what is in it) to the user the server runs as.
inline void give_to_server_user(const std::string& path) {
  if (!as_root())
    return;
  auto* pw = ::getpwnam("postgres");
  if (!pw)
    throw std::runtime_error("running as root, but there is no postgres user");
  ::chown(path.c_str(), pw->pw_uid, pw->pw_gid);
  for (const auto& entry : std::filesystem::recursive_directory_iterator(path))
    ::lchown(entry.path().c_str(), pw->pw_uid, pw->pw_gid);
}

/// Runs `argv` with its output appended to `output`, and waits for it at most
/// `bound` (then kills its process group); throws with its output when it fails
/// or outlives the bound.
inline void run(std::vector<std::string> argv, const std::string& output,
                std::chrono::milliseconds bound) {
  std::vector<char*> args;
  for (auto& a : argv)
    args.push_back(a.data());
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, output.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, args[0], &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0)
    throw std::runtime_error("cannot run " + argv[0] + ": " + std::strerror(rc));
  // glibc declares pidfd_open without C linkage for C++: the syscall itself.
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  bool ended = pidfd >= 0 && drivers::wait_for(pidfd, POLLIN, drivers::deadline{bound}) ==
                               drivers::fd_wait::ready;
  if (pidfd >= 0)
    ::close(pidfd);
  if (!ended)
    ::kill(-pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  std::string what;
  for (const auto& a : argv)
    what += (what.empty() ? "" : " ") + a;
  if (!ended)
    throw std::runtime_error(what + " took longer than " + std::to_string(bound.count()) +
                             " ms:\n" + read_file(output));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw std::runtime_error(what + " failed:\n" + read_file(output));
}

/// `run` as the server's user (`postgres` when root).
inline void run_as_server_user(std::vector<std::string> argv, const std::string& output,
                               std::chrono::milliseconds bound) {
  if (as_root())
    argv.insert(argv.begin(), {"/usr/sbin/runuser", "-u", "postgres", "--"});
  run(std::move(argv), output, bound);
}

inline std::string random_hex(std::size_t chars) {
  std::random_device rd;
  std::string out;
  for (std::size_t i = 0; i < chars; ++i)
    out.push_back("0123456789abcdef"[rd() % 16]);
  return out;
}

/// A cluster made by initdb once per scratch directory: each server copies it.
inline std::string template_data_dir() {
  auto base = scratch_base();
  if (as_root()) // the server's user must reach its directory under the scratch dir
    ::chmod(base.c_str(), 0711);
  auto bin = bin_dir();
  auto version = std::filesystem::path(bin).parent_path().filename().string();
  auto dir = base + "/pg-template-" + version;
  int lock = ::open((dir + ".lock").c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
  if (lock < 0 || ::flock(lock, LOCK_EX) != 0) // held at most one bounded initdb long
    throw std::runtime_error("cannot lock " + dir + ".lock: " + std::strerror(errno));
  std::unique_ptr<int, void (*)(int*)> unlock{&lock, [](int* fd) { ::close(*fd); }};
  if (!std::filesystem::exists(dir + "/ready")) {
    auto work = dir + ".tmp";
    std::filesystem::remove_all(work);
    std::filesystem::create_directories(work);
    give_to_server_user(work);
    run_as_server_user({bin + "/initdb", "-D", work + "/data", "-U", "postgres",
                        "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8",
                        "--no-locale", "--no-sync"},
                       work + "/initdb.log", std::chrono::seconds{120});
    std::filesystem::rename(work, dir);
    write_file(dir + "/ready", "");
  }
  return dir + "/data";
}

struct pgconn_closer {
  void operator()(PGconn* c) const { PQfinish(c); }
};
struct pgresult_clearer {
  void operator()(PGresult* r) const { PQclear(r); }
};

} // namespace pg_detail

class pg_server {
public:
  static constexpr const char* role = "custodian";
  static constexpr const char* database = "custodian";
  /// The fixture's own connections, left out of every count.
  static constexpr const char* admin_name = "custodian-test-admin";

  pg_server()
      : bin_(pg_detail::bin_dir()), port_(free_port()), password_(pg_detail::random_hex(24)) {
    auto pattern = pg_detail::scratch_base() + "/pg-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr)
      throw std::runtime_error("mkdtemp failed: " + std::string{std::strerror(errno)});
    root_ = pattern;
    try {
      ::chmod(root_.c_str(), 0755);
      auto from = pg_detail::template_data_dir();
      pg_detail::give_to_server_user(root_);
      pg_detail::run_as_server_user({"/bin/cp", "-a", from, data_dir()}, root_ + "/setup.log",
                                    std::chrono::seconds{60});
      configure();
      write_file(password_file(), password_ + "\n");
      start();
      admin_query("CREATE ROLE " + std::string{role} + " LOGIN PASSWORD '" + password_ + "'");
      admin_query("CREATE DATABASE " + std::string{database} + " OWNER " + role);
    } catch (...) {
      clean_up();
      throw;
    }
  }

  ~pg_server() { clean_up(); }

  pg_server(const pg_server&) = delete;
  pg_server& operator=(const pg_server&) = delete;

  /// Starts the server and waits (bounded) until it accepts connections.
  void start() {
    running_ = true; // a start that fails half way is stopped too
    pg_detail::run_as_server_user(
      {bin_ + "/pg_ctl", "start", "-D", data_dir(), "-l", log_path(), "-w", "-t", "60", "-s"},
      root_ + "/pg_ctl.log", std::chrono::seconds{90});
  }

  /// pg_ctl stop -m immediate: every backend dies at once, nothing is flushed.
  void stop_immediate() {
    running_ = false;
    pg_detail::run_as_server_user(
      {bin_ + "/pg_ctl", "stop", "-D", data_dir(), "-m", "immediate", "-w", "-t", "60", "-s"},
      root_ + "/pg_ctl.log", std::chrono::seconds{90});
  }

  void restart() {
    stop_immediate();
    start();
  }

  bool running() const { return running_; }

  /// Runs `sql` as the superuser over the Unix socket, in `dbname`; every row's
  /// fields as text (NULL as ""). Throws with the server's message when it fails.
  std::vector<std::vector<std::string>> admin_query(const std::string& sql,
                                                    const std::vector<std::string>& params = {},
                                                    const std::string& dbname = "postgres") {
    auto conninfo = "host=" + data_dir() + " port=" + std::to_string(port_) +
                    " user=postgres dbname=" + dbname +
                    " connect_timeout=10 application_name=" + admin_name +
                    " options='-c statement_timeout=30000'";
    std::unique_ptr<PGconn, pg_detail::pgconn_closer> conn{PQconnectdb(conninfo.c_str())};
    if (PQstatus(conn.get()) != CONNECTION_OK)
      throw std::runtime_error("admin connection failed: " +
                               std::string{PQerrorMessage(conn.get())});
    PQsetNoticeProcessor(
      conn.get(), [](void*, const char*) {}, nullptr); // not on stderr
    std::vector<const char*> values;
    for (const auto& p : params)
      values.push_back(p.c_str());
    std::unique_ptr<PGresult, pg_detail::pgresult_clearer> r{
      PQexecParams(conn.get(), sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                   nullptr, nullptr, 0)};
    auto status = PQresultStatus(r.get());
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK)
      // Not the SQL: it may set a password.
      throw std::runtime_error("admin query failed: " + std::string{PQresultErrorMessage(r.get())});
    std::vector<std::vector<std::string>> rows;
    for (int t = 0; t < PQntuples(r.get()); ++t) {
      rows.emplace_back();
      for (int f = 0; f < PQnfields(r.get()); ++f)
        rows.back().emplace_back(PQgetvalue(r.get(), t, f));
    }
    return rows;
  }

  /// Client backends whose role or application_name is `who` (the fixture's own
  /// left out).
  int backend_count_for(const std::string& who) {
    return std::stoi(admin_query("SELECT count(*) FROM pg_stat_activity WHERE backend_type = "
                                 "'client backend' AND application_name <> $2 AND "
                                 "(usename = $1 OR application_name = $1)",
                                 {who, admin_name})
                       .at(0)
                       .at(0));
  }

  /// pg_terminate_backend on every backend of `role_name`; how many there were.
  int terminate_backends(const std::string& role_name) {
    return std::stoi(admin_query("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                 "WHERE usename = $1 AND application_name <> $2",
                                 {role_name, admin_name})
                       .at(0)
                       .at(0));
  }

  int port() const { return port_; }
  const std::string& password() const { return password_; }
  /// The password, in a file of its own (for password_file).
  std::string password_file() const { return root_ + "/password"; }
  std::string data_dir() const { return root_ + "/data"; }
  /// A path for a test's own file, removed with the server's directory.
  std::string file(const std::string& name) const { return root_ + "/" + name; }
  std::string log_path() const { return root_ + "/server.log"; }
  std::string log() const { return read_file(log_path()); }

  /// Names the server, the database and the role; no password.
  std::string conninfo() const {
    return "host=127.0.0.1 port=" + std::to_string(port_) + " dbname=" + database + " user=" + role;
  }

  /// A postgres driver_config for the role, its password read from its file.
  nlohmann::json driver_config() const {
    return {{"host", "127.0.0.1"},
            {"port", port_},
            {"dbname", database},
            {"user", role},
            {"password_file", password_file()}};
  }

private:
  void clean_up() {
    try {
      if (running_)
        stop_immediate();
    } catch (const std::exception&) {
      // scripts/stop-test-servers.sh stops what is left
    }
    std::error_code ignored;
    std::filesystem::remove_all(root_, ignored);
  }

  void configure() {
    auto conf = data_dir() + "/postgresql.conf";
    write_file(conf, read_file(conf) +
                       "\n# custodian test server\n"
                       "listen_addresses = '127.0.0.1'\n"
                       "port = " +
                       std::to_string(port_) +
                       "\n"
                       "unix_socket_directories = '" +
                       data_dir() +
                       "'\n"
                       "max_connections = 60\n"
                       "shared_buffers = 16MB\n"
                       "fsync = off\n"
                       "synchronous_commit = off\n"
                       "full_page_writes = off\n"
                       "log_connections = on\n"
                       "log_disconnections = on\n"
                       "log_line_prefix = '%n [%p] %q%u@%d '\n");
    write_file(data_dir() + "/pg_hba.conf", "local all all trust\n"
                                            "host all all 127.0.0.1/32 scram-sha-256\n"
                                            "host all all ::1/128 scram-sha-256\n");
  }

  std::string bin_;
  int port_;
  std::string password_;
  std::string root_;
  bool running_ = false;
};

} // namespace custodian::test
