#pragma once
// A real redis-server (Debian's /usr/bin/redis-server) for the redis driver's
// integration tests: a child in its own process group, on 127.0.0.1 and a free
// port, with a random password, nothing saved, in a fresh directory under
// $CUSTODIAN_TEST_TMPDIR (temp_dir). It writes its pid file at once, so that
// scripts/stop-test-servers.sh stops it if the test dies; the destructor kills and
// reaps it and removes the directory. Its own admin connection (named so that
// client counts leave it out) asks the server what it sees.

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <hiredis/hiredis.h>
#include <random>
#include <spawn.h>
#include <stdexcept>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "drivers/redis/redis_reply.hpp"
#include "drivers/redis/redis_wire.hpp"
#include "tests/support/node_process.hpp"

extern char** environ;

namespace custodian::test {

class redis_server {
public:
  /// The name of the admin connection, left out of every client count.
  static constexpr const char* admin_name = "custodian-test-admin";

  redis_server() : port_(free_port()), password_(random_password()) { start(); }

  /// Kills and reaps it; then its directory goes.
  ~redis_server() { kill(); }

  redis_server(const redis_server&) = delete;
  redis_server& operator=(const redis_server&) = delete;

  int port() const { return port_; }
  const std::string& password() const { return password_; }
  const std::string& dir() const { return dir_.path; }
  std::string log() const { return read_file(dir_.file("redis.log")); }

  /// Starts the server (again, on the same port) and waits until it answers PING.
  void start() {
    if (pid_ > 0)
      throw std::logic_error("redis_server: already running");
    write_file(dir_.file("redis.conf"), config_text());
    ::chmod(dir_.file("redis.conf").c_str(), 0600); // it holds the password
    spawn();
    bool ready = eventually(
      [&] {
        if (!running())
          return true;
        try {
          return admin({"PING"}) == nlohmann::json{{"status", "PONG"}};
        } catch (const std::runtime_error&) {
          return false;
        }
      },
      std::chrono::seconds{15});
    if (!ready || !running())
      throw std::runtime_error("redis-server did not start on port " + std::to_string(port_) +
                               ":\n" + log());
  }

  /// SIGKILL to its process group, then reaps it.
  void kill() {
    admin_.reset();
    if (pid_ <= 0)
      return;
    ::kill(-pid_, SIGKILL);
    reap();
  }

  /// SHUTDOWN NOSAVE through the admin connection; reaps it within a bound (then
  /// SIGKILL).
  void shutdown_nosave() {
    try {
      admin({"SHUTDOWN", "NOSAVE"});
    } catch (const std::runtime_error&) {
      // The server closes the connection instead of answering.
    }
    admin_.reset();
    if (!eventually([&] { return !running(); }, std::chrono::seconds{10}))
      kill();
  }

  /// kill() then start() on the same port.
  void restart() {
    kill();
    start();
  }

  /// Whether the child has not ended (reaps it if it just did).
  bool running() {
    if (pid_ <= 0)
      return false;
    int status = 0;
    pid_t r;
    do
      r = ::waitpid(pid_, &status, WNOHANG);
    while (r < 0 && errno == EINTR);
    if (r == 0)
      return true;
    forget_pid();
    return false;
  }

  /// Runs a command on the fixture's own connection (opened on demand, bounded by
  /// 5 s per read and write); its reply as the driver's JSON. Throws
  /// std::runtime_error when the server cannot be reached.
  nlohmann::json admin(const std::vector<std::string>& argv) {
    if (!admin_)
      admin_ = connect_admin();
    auto reply = command(admin_.get(), argv);
    if (!reply) {
      std::string why = admin_->errstr;
      admin_.reset();
      throw std::runtime_error("redis admin: " + why);
    }
    return drivers::reply_to_json(*reply);
  }

  /// The ids of the clients connected now, the admin connection left out.
  std::vector<int64_t> client_ids() {
    std::vector<int64_t> ids;
    auto list = admin({"CLIENT", "LIST"});
    std::string text = list.is_string() ? list.get<std::string>() : std::string{};
    std::size_t start = 0;
    while (start < text.size()) {
      auto end = text.find('\n', start);
      auto line = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
      start = end == std::string::npos ? text.size() : end + 1;
      if (line.empty() || line.find(std::string{" name="} + admin_name + " ") != std::string::npos)
        continue;
      ids.push_back(std::stoll(line.substr(line.find("id=") + 3)));
    }
    return ids;
  }

  /// How many clients are connected, the admin connection left out.
  std::size_t connected_clients() { return client_ids().size(); }

  /// INFO's total_connections_received: every connection the server accepted
  /// since it started, the admin's included.
  uint64_t connections_received() {
    auto info = admin({"INFO", "stats"}).get<std::string>();
    constexpr std::string_view key = "total_connections_received:";
    auto at = info.find(key);
    if (at == std::string::npos)
      throw std::runtime_error("INFO stats has no total_connections_received");
    return std::stoull(info.substr(at + key.size()));
  }

  /// CLIENT KILL ID `id`.
  void client_kill(int64_t id) { admin({"CLIENT", "KILL", "ID", std::to_string(id)}); }

  /// Kills every client but the admin connection; how many it killed.
  int64_t client_kill_all() {
    auto killed = admin({"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"});
    return killed.is_number() ? killed.get<int64_t>() : 0;
  }

private:
  static std::string random_password() {
    std::random_device rd;
    std::string out;
    for (int i = 0; i < 24; ++i)
      out += "0123456789abcdef"[rd() % 16];
    return out;
  }

  std::string config_text() const {
    const std::vector<std::pair<std::string, std::string>> settings{
      {"port", std::to_string(port_)},
      {"bind", "127.0.0.1"},
      {"requirepass", password_},
      {"dir", dir_.path},
      {"save", "\"\""}, // nothing written to disk
      {"appendonly", "no"},
      {"daemonize", "no"},
      {"pidfile", pid_path()},
      {"logfile", dir_.file("redis.log")},
    };
    std::string text;
    for (const auto& [key, value] : settings)
      text += key + " " + value + "\n";
    return text;
  }

  /// One blocking command (binary-safe arguments); null when the connection failed.
  static drivers::reply_ptr command(redisContext* c, const std::vector<std::string>& argv) {
    std::vector<const char*> args;
    std::vector<size_t> lens;
    for (const auto& a : argv) {
      args.push_back(a.data());
      lens.push_back(a.size());
    }
    return drivers::reply_ptr{
      static_cast<redisReply*>(redisCommandArgv(c, int(args.size()), args.data(), lens.data()))};
  }

  std::string pid_path() const { return dir_.file("redis.pid"); }

  void spawn() {
    std::string binary = "/usr/bin/redis-server";
    std::string conf = dir_.file("redis.conf");
    std::vector<char*> argv{binary.data(), conf.data(), nullptr};
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setpgroup(&attr, 0); // its own group: kill() reaches all of it
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                      POSIX_SPAWN_SETPGROUP);
    int rc = ::posix_spawn(&pid_, binary.c_str(), &actions, &attr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
      pid_ = -1;
      throw std::runtime_error("posix_spawn " + binary + ": " + std::strerror(rc));
    }
    // Before redis writes it itself: a test that dies now still leaves its pid.
    write_file(pid_path(), std::to_string(pid_) + "\n");
  }

  void reap() {
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    forget_pid();
  }

  /// The child is gone: its pid may be reused, so no file names it any more.
  void forget_pid() {
    pid_ = -1;
    std::error_code ignored;
    std::filesystem::remove(pid_path(), ignored);
  }

  drivers::context_ptr connect_admin() {
    timeval tv{5, 0};
    drivers::context_ptr c{redisConnectWithTimeout("127.0.0.1", port_, tv)};
    if (!c || c->err)
      throw std::runtime_error(std::string{"redis admin connect: "} +
                               (c ? c->errstr : "out of memory"));
    redisSetTimeout(c.get(), tv);
    for (std::vector<std::string> argv :
         {std::vector<std::string>{"AUTH", password_}, {"CLIENT", "SETNAME", admin_name}}) {
      auto reply = command(c.get(), argv);
      if (!reply || reply->type == REDIS_REPLY_ERROR)
        throw std::runtime_error("redis admin " + argv[0] + " failed" +
                                 (reply ? std::string{": "} + reply->str : std::string{}));
    }
    return c;
  }

  temp_dir dir_; // first in, last out: it outlives the server
  int port_;
  std::string password_;
  pid_t pid_ = -1;
  drivers::context_ptr admin_;
};

} // namespace custodian::test
