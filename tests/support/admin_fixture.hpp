#pragma once
// An admin server on an ephemeral loopback port over a fake node, with the
// helpers the HTTP and CLI tests share: an SSE reader on its own thread and raw
// socket requests.

#include <arpa/inet.h>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <httplib.h>
#include <memory>
#include <mutex>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <sys/time.h>
#include <thread>
#include <unistd.h>

#include "runtime/admin/admin_server.hpp"
#include "tests/support/fake_node.hpp"

namespace custodian::test {

struct admin_fixture {
  fake_node node;
  std::unique_ptr<admin_server> server;

  explicit admin_fixture(admin_server_config config = {}) {
    config.port = 0;
    server = std::make_unique<admin_server>(node, std::move(config));
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(server->port()); }

  httplib::Client client() const {
    httplib::Client cli("127.0.0.1", server->port());
    cli.set_read_timeout(std::chrono::seconds(10));
    return cli;
  }

  /// Sends `bytes` as they are, closes the sending side and returns all that
  /// comes back (empty when the server just closed).
  std::string raw(const std::string& bytes) const {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(server->port());
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval timeout{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    std::string answer;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
      ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      ::shutdown(fd, SHUT_WR);
      char buf[4096];
      for (ssize_t n; (n = ::recv(fd, buf, sizeof(buf), 0)) > 0;)
        answer.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return answer;
  }
};

/// Reads GET events/stream on a thread of its own until the stream ends.
class sse_reader {
public:
  sse_reader(const admin_fixture& fx, const std::string& path, httplib::Headers headers = {}) {
    thread_ = std::thread([this, port = fx.server->port(), path, headers] {
      httplib::Client cli("127.0.0.1", port);
      cli.set_read_timeout(std::chrono::seconds(30));
      auto result = cli.Get(
        path, headers,
        [this](const httplib::Response& res) {
          std::lock_guard<std::mutex> guard(mutex_);
          status_ = res.status;
          content_type_ = res.get_header_value("Content-Type");
          changed_.notify_all();
          return true;
        },
        [this](const char* data, std::size_t size) {
          std::lock_guard<std::mutex> guard(mutex_);
          text_.append(data, size);
          changed_.notify_all();
          return !cancelled_;
        });
      std::lock_guard<std::mutex> guard(mutex_);
      if (result && status_ == 0)
        status_ = result->status;
      if (result && text_.empty())
        text_ = result->body;
      ended_ = true;
      changed_.notify_all();
    });
  }

  /// Ends the read at the next data or keepalive comment.
  ~sse_reader() {
    {
      std::lock_guard<std::mutex> guard(mutex_);
      cancelled_ = true;
    }
    thread_.join();
  }

  /// Waits until `done(text so far)` holds; false after `timeout`.
  bool wait(const std::function<bool(const std::string&)>& done,
            std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return done(text_); });
  }

  bool wait_ended(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return ended_; });
  }

  std::string text() const {
    std::lock_guard<std::mutex> guard(mutex_);
    return text_;
  }
  int status() const {
    std::lock_guard<std::mutex> guard(mutex_);
    return status_;
  }
  std::string content_type() const {
    std::lock_guard<std::mutex> guard(mutex_);
    return content_type_;
  }

private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::string text_;
  std::string content_type_;
  int status_ = 0;
  bool ended_ = false;
  bool cancelled_ = false;
  std::thread thread_;
};

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace custodian::test
