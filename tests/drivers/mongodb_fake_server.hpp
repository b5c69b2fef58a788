#pragma once
// A stand-in for mongod on 127.0.0.1, for the mongodb driver's tests (Debian has
// no MongoDB server). It speaks as much of the wire protocol as libmongoc uses
// for a handshake and plain commands (OP_QUERY for the first hello, OP_MSG
// after) and answers hello, ping and endSessions; it fails saslStart as a wrong
// password does (code 18, the server's own text). The tests' own commands make
// it misbehave: {hang: 1} is never answered, {dropConnection: 1} closes the
// connection, {notPrimary: 1} and {shuttingDown: 1} fail as a standby and a
// server going down do, {echo: 1, ...} and {insert: ...} return the command they
// got (as a document and as canonical extended JSON text, whose key order is the
// wire's). Anything
// else is CommandNotFound (59). It counts the connections it holds.

#include <arpa/inet.h>
#include <atomic>
#include <bson/bson.h>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <netinet/in.h>
#include <poll.h>
#include <stdexcept>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace custodian::test {

class fake_mongod {
public:
  /// Listens on 127.0.0.1:`port`; 0 takes a free port.
  explicit fake_mongod(int port = 0) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int on = 1;
    ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    socklen_t len = sizeof addr;
    if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listener_, 64) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
        ::pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0)
      throw std::runtime_error(std::string{"fake_mongod: "} + std::strerror(errno));
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread{[this] { run(); }};
  }

  /// Stops serving and closes every connection.
  ~fake_mongod() {
    stopping_ = true;
    wake();
    thread_.join();
    for (auto& c : clients_)
      ::close(c.fd);
    ::close(listener_);
    ::close(wake_[0]);
    ::close(wake_[1]);
  }

  fake_mongod(const fake_mongod&) = delete;
  fake_mongod& operator=(const fake_mongod&) = delete;

  int port() const { return port_; }
  std::string uri() const { return "mongodb://127.0.0.1:" + std::to_string(port_); }
  /// Connections open now.
  int open_connections() const { return open_.load(); }
  /// Connections accepted since the start.
  int accepted() const { return accepted_.load(); }
  /// Authentications attempted (saslStart), all refused.
  int auth_attempts() const { return auth_attempts_.load(); }
  /// Closes every client connection, as a server that drops its idle clients.
  void drop_connections() {
    dropping_ = true;
    wake();
  }

private:
  struct client {
    int fd;
    std::string in;
    bool hung = false;
  };
  enum class action { reply, hang, drop };

  static int32_t le32(const char* p) {
    int32_t v;
    std::memcpy(&v, p, 4);
    return v;
  }
  static void put32(std::string& out, int32_t v) { out.append(reinterpret_cast<char*>(&v), 4); }

  void wake() { [[maybe_unused]] auto n = ::write(wake_[1], "x", 1); }

  void run() {
    while (!stopping_) {
      std::vector<pollfd> fds{{wake_[0], POLLIN, 0}, {listener_, POLLIN, 0}};
      for (auto& c : clients_)
        fds.push_back({c.fd, POLLIN, 0});
      if (::poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR)
        return;
      if (fds[0].revents) {
        char drain[64];
        while (::read(wake_[0], drain, sizeof drain) > 0) {
        }
      }
      if (dropping_.exchange(false)) {
        for (auto& c : clients_)
          close_client(c);
        clients_.clear();
        continue;
      }
      if (fds[1].revents & POLLIN) {
        int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd >= 0) {
          clients_.push_back({fd, {}});
          ++accepted_;
          ++open_;
        }
      }
      std::vector<client> kept;
      for (std::size_t i = 0; i < clients_.size() && i + 2 < fds.size(); ++i) {
        auto& c = clients_[i];
        if (fds[i + 2].revents && !serve(c)) {
          close_client(c);
          continue;
        }
        kept.push_back(std::move(c));
      }
      // Accepted during this round: not polled yet.
      for (std::size_t i = fds.size() - 2; i < clients_.size(); ++i)
        kept.push_back(std::move(clients_[i]));
      clients_ = std::move(kept);
    }
  }

  void close_client(client& c) {
    ::close(c.fd);
    --open_;
  }

  /// Reads what came and answers every whole message; false: close it.
  bool serve(client& c) {
    char buf[16384];
    auto n = ::recv(c.fd, buf, sizeof buf, 0);
    if (n <= 0)
      return false;
    c.in.append(buf, static_cast<std::size_t>(n));
    while (c.in.size() >= 16) {
      auto len = le32(c.in.data());
      if (len < 16 || len > 48'000'000)
        return false;
      if (c.in.size() < static_cast<std::size_t>(len))
        break;
      std::string msg = c.in.substr(0, static_cast<std::size_t>(len));
      c.in.erase(0, static_cast<std::size_t>(len));
      if (c.hung)
        continue; // it answers nothing any more
      if (!answer(c, msg))
        return false;
    }
    return true;
  }

  bool answer(client& c, const std::string& msg) {
    const int32_t request_id = le32(msg.data() + 4);
    const int32_t op = le32(msg.data() + 12);
    std::size_t pos = 16;
    if (op == 2004) { // OP_QUERY: flags, collection name, skip, return, query
      pos += 4;
      pos = msg.find('\0', pos) + 1 + 8;
    } else if (op == 2013) { // OP_MSG: flags, then the command (section kind 0)
      pos += 4;
      if (pos >= msg.size() || msg[pos] != 0)
        return false;
      pos += 1;
    } else {
      return false;
    }
    if (pos + 4 > msg.size())
      return false;
    bson_t command;
    if (!bson_init_static(&command, reinterpret_cast<const uint8_t*>(msg.data() + pos),
                          static_cast<std::size_t>(le32(msg.data() + pos))))
      return false;
    bson_t reply;
    bson_init(&reply);
    auto what = respond(command, reply);
    if (what == action::reply)
      send(c, request_id, op, reply);
    bson_destroy(&reply);
    if (what == action::hang)
      c.hung = true;
    return what != action::drop;
  }

  action respond(const bson_t& command, bson_t& reply) {
    bson_iter_t it;
    std::string name =
      bson_iter_init(&it, &command) && bson_iter_next(&it) ? bson_iter_key(&it) : "";
    auto fail = [&](int32_t code, const char* code_name, const std::string& text) {
      BSON_APPEND_DOUBLE(&reply, "ok", 0);
      BSON_APPEND_UTF8(&reply, "errmsg", text.c_str());
      BSON_APPEND_INT32(&reply, "code", code);
      BSON_APPEND_UTF8(&reply, "codeName", code_name);
      return action::reply;
    };
    if (name == "isMaster" || name == "ismaster" || name == "hello") {
      BSON_APPEND_BOOL(&reply, "ismaster", true);
      BSON_APPEND_BOOL(&reply, "isWritablePrimary", true);
      BSON_APPEND_BOOL(&reply, "helloOk", true);
      BSON_APPEND_INT32(&reply, "maxBsonObjectSize", 16 * 1024 * 1024);
      BSON_APPEND_INT32(&reply, "maxMessageSizeBytes", 48'000'000);
      BSON_APPEND_INT32(&reply, "maxWriteBatchSize", 100'000);
      BSON_APPEND_DATE_TIME(&reply, "localTime",
                            std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count());
      BSON_APPEND_INT32(&reply, "minWireVersion", 0);
      BSON_APPEND_INT32(&reply, "maxWireVersion", 13);
      BSON_APPEND_BOOL(&reply, "readOnly", false);
    } else if (name == "saslStart" || name == "authenticate") {
      ++auth_attempts_;
      return fail(18, "AuthenticationFailed", "Authentication failed.");
    } else if (name == "hang") {
      return action::hang;
    } else if (name == "dropConnection") {
      return action::drop;
    } else if (name == "notPrimary") {
      return fail(10107, "NotWritablePrimary", "not primary");
    } else if (name == "shuttingDown") {
      return fail(91, "ShutdownInProgress", "The server is in quiesce mode and will shut down");
    } else if (name == "echo" || name == "insert") {
      BSON_APPEND_DOCUMENT(&reply, "command", &command);
      char* text = bson_as_canonical_extended_json(&command, nullptr);
      BSON_APPEND_UTF8(&reply, "text", text);
      bson_free(text);
    } else if (name != "ping" && name != "endSessions") {
      return fail(59, "CommandNotFound", "no such command: '" + name + "'");
    }
    BSON_APPEND_DOUBLE(&reply, "ok", 1);
    return action::reply;
  }

  void send(client& c, int32_t request_id, int32_t op, const bson_t& doc) {
    std::string body;
    if (op == 2004) { // OP_REPLY: flags, cursor id, starting from, number returned
      put32(body, 0);
      body.append(8, '\0');
      put32(body, 0);
      put32(body, 1);
    } else { // OP_MSG: flags, section kind 0
      put32(body, 0);
      body.push_back('\0');
    }
    body.append(reinterpret_cast<const char*>(bson_get_data(&doc)), doc.len);
    std::string out;
    put32(out, static_cast<int32_t>(16 + body.size()));
    put32(out, ++next_id_);
    put32(out, request_id);
    put32(out, op == 2004 ? 1 : 2013);
    out += body;
    for (std::size_t sent = 0; sent < out.size();) {
      auto n = ::send(c.fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
      if (n <= 0)
        return;
      sent += static_cast<std::size_t>(n);
    }
  }

  int listener_ = -1;
  int wake_[2] = {-1, -1};
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> dropping_{false};
  std::atomic<int> open_{0};
  std::atomic<int> accepted_{0};
  std::atomic<int> auth_attempts_{0};
  int32_t next_id_ = 0;
  std::vector<client> clients_; // the server thread's
  std::thread thread_;
};

} // namespace custodian::test
