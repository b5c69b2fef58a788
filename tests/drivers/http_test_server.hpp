#pragma once
// The http driver's tests' server: cpp-httplib on a loopback address (127.0.0.1
// or ::1) and a port the kernel picks, served on its own thread, with the routes
// the tests use. It counts requests by path and the client connections it saw.
// Its destructor releases the handlers that wait and stops it.

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <httplib.h>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

#include <nlohmann/json.hpp>

#include "drivers/http/http_driver.hpp"

namespace custodian::test {

/// Bound of every wait in these tests: a bug fails a test instead of hanging it.
inline constexpr auto http_test_bound = std::chrono::seconds{30};

/// Routes:
///   /health           answers `health_status` (200 unless set)
///   /echo             {"method", "path", "query", "headers", "body"} of the request
///   /status/N         status N
///   /redirect/N       N redirects, then 200 "arrived"
///   /to?url=U         a 302 to U
///   /bytes/N          N bytes with a Content-Length; /chunked/N the same, chunked
///   /binary           the bytes 0..255; /json a JSON object; /not-json bad JSON
///   /slow             waits until release_waiters() (at the latest the destructor)
///   /auth             200 when the bearer token is `expected_token`, else 401
class http_test_server {
public:
  explicit http_test_server(const std::string& host = "127.0.0.1",
                            std::unique_ptr<httplib::Server> server = nullptr)
      : server_(server ? std::move(server) : std::make_unique<httplib::Server>()), host_(host) {
    // Every kept-alive connection holds a worker; the tests open more than 8.
    server_->new_task_queue = [] { return new httplib::ThreadPool(32); };
    // Keeps a client's connection however many requests it sends (the default is 5).
    server_->set_keep_alive_max_count(1'000'000);
    // Stopping waits for idle kept-alive connections this long (the default is 5 s).
    server_->set_keep_alive_timeout(1);
    routes();
    port_ = server_->bind_to_any_port(host);
    if (port_ <= 0)
      throw std::runtime_error("cannot listen on " + host);
    thread_ = std::thread{[this] { server_->listen_after_bind(); }};
    // stop() is a no-op until the loop runs: wait for it (briefly; bounded).
    auto give_up = std::chrono::steady_clock::now() + http_test_bound;
    while (!server_->is_running() && std::chrono::steady_clock::now() < give_up)
      std::this_thread::yield();
  }

  ~http_test_server() {
    release_waiters();
    server_->stop();
    thread_.join();
  }

  http_test_server(const http_test_server&) = delete;
  http_test_server& operator=(const http_test_server&) = delete;

  int port() const { return port_; }
  /// "http://127.0.0.1:PORT", "http://[::1]:PORT".
  std::string url(const std::string& scheme = "http") const {
    auto host = host_.find(':') != std::string::npos ? "[" + host_ + "]" : host_;
    return scheme + "://" + host + ":" + std::to_string(port_);
  }

  int hits(const std::string& path) {
    std::lock_guard<std::mutex> guard{mtx_};
    auto i = hits_.find(path);
    return i == hits_.end() ? 0 : i->second;
  }

  /// Client connections seen so far (distinct client ports).
  std::size_t connections_seen() {
    std::lock_guard<std::mutex> guard{mtx_};
    return clients_.size();
  }

  void set_health_status(int status) {
    std::lock_guard<std::mutex> guard{mtx_};
    health_status_ = status;
  }

  void set_expected_token(std::string token) {
    std::lock_guard<std::mutex> guard{mtx_};
    expected_token_ = std::move(token);
  }

  /// Ends every wait of /slow, now and from here on.
  void release_waiters() {
    {
      std::lock_guard<std::mutex> guard{mtx_};
      released_ = true;
    }
    release_.notify_all();
  }

  /// Requests of /slow that are waiting now.
  int waiting() {
    std::lock_guard<std::mutex> guard{mtx_};
    return waiting_;
  }

private:
  void routes() {
    using httplib::Request;
    using httplib::Response;
    server_->set_pre_routing_handler([this](const Request& req, Response&) {
      std::lock_guard<std::mutex> guard{mtx_};
      ++hits_[req.path];
      clients_.insert(req.remote_addr + "/" + std::to_string(req.remote_port));
      return httplib::Server::HandlerResponse::Unhandled;
    });
    server_->Get("/health", [this](const Request&, Response& res) {
      std::lock_guard<std::mutex> guard{mtx_};
      res.status = health_status_;
      res.set_content(health_status_ < 400 ? "ok" : "not serving now", "text/plain");
    });
    auto echo = [](const Request& req, Response& res) {
      nlohmann::json headers = nlohmann::json::object();
      for (const auto& [name, value] : req.headers)
        headers[name] = value;
      nlohmann::json query = nlohmann::json::object();
      for (const auto& [name, value] : req.params)
        query[name] = value;
      res.set_header("X-Reply", "yes");
      res.set_header("X-Twice", "one");
      res.set_header("X-Twice", "two");
      res.set_content(nlohmann::json{{"method", req.method},
                                     {"path", req.path},
                                     {"query", query},
                                     {"headers", headers},
                                     {"body", req.body}}
                        .dump(),
                      "application/json");
    };
    server_->Get("/echo", echo);
    server_->Post("/echo", echo);
    server_->Put("/echo", echo);
    server_->Patch("/echo", echo);
    server_->Delete("/echo", echo);
    server_->Options("/echo", echo);
    server_->Get(R"(/status/(\d+))", [](const Request& req, Response& res) {
      res.status = std::stoi(req.matches[1]);
      res.set_content("status " + std::string{req.matches[1]}, "text/plain");
    });
    server_->Get(R"(/redirect/(\d+))", [](const Request& req, Response& res) {
      int left = std::stoi(req.matches[1]);
      if (left == 0)
        return res.set_content("arrived", "text/plain");
      res.set_redirect("/redirect/" + std::to_string(left - 1));
    });
    server_->Get("/to", [](const Request& req, Response& res) {
      res.set_redirect(req.get_param_value("url"));
    });
    server_->Get(R"(/bytes/(\d+))", [](const Request& req, Response& res) {
      res.set_content(std::string(std::stoul(req.matches[1]), 'x'), "text/plain");
    });
    server_->Get(R"(/chunked/(\d+))", [](const Request& req, Response& res) {
      auto left = std::make_shared<std::size_t>(std::stoul(req.matches[1]));
      res.set_chunked_content_provider("text/plain", [left](std::size_t, httplib::DataSink& sink) {
        if (*left == 0) {
          sink.done();
          return true;
        }
        auto n = std::min<std::size_t>(*left, 256);
        *left -= n;
        return sink.write(std::string(n, 'x').data(), n);
      });
    });
    server_->Get("/binary", [](const Request&, Response& res) {
      std::string bytes;
      for (int i = 0; i < 256; ++i)
        bytes += static_cast<char>(i);
      res.set_content(bytes, "application/octet-stream");
    });
    server_->Get("/json", [](const Request&, Response& res) {
      res.set_content(R"({"answer": 42, "list": [1, "two"]})", "application/problem+json");
    });
    server_->Get("/not-json", [](const Request&, Response& res) {
      res.set_content("{not json", "application/json");
    });
    server_->Get("/slow", [this](const Request&, Response& res) {
      std::unique_lock<std::mutex> lock{mtx_};
      ++waiting_;
      release_.wait_for(lock, http_test_bound, [this] { return released_; });
      --waiting_;
      res.set_content("finally", "text/plain");
    });
    server_->Get("/auth", [this](const Request& req, Response& res) {
      std::lock_guard<std::mutex> guard{mtx_};
      if (req.get_header_value("Authorization") == "Bearer " + expected_token_)
        return res.set_content("welcome", "text/plain");
      res.status = 401;
      res.set_content("invalid token", "text/plain");
    });
  }

  std::unique_ptr<httplib::Server> server_;
  std::string host_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mtx_;
  std::condition_variable release_;
  bool released_ = false;
  int waiting_ = 0;
  int health_status_ = 200;
  std::string expected_token_;
  std::map<std::string, int> hits_;
  std::set<std::string> clients_;
};

/// Sets an environment variable for one test and restores it afterwards.
class scoped_env {
public:
  scoped_env(std::string name, const std::string& value) : name_(std::move(name)) {
    if (const char* old = std::getenv(name_.c_str()))
      old_ = old;
    ::setenv(name_.c_str(), value.c_str(), 1);
  }
  ~scoped_env() {
    if (old_)
      ::setenv(name_.c_str(), old_->c_str(), 1);
    else
      ::unsetenv(name_.c_str());
  }
  scoped_env(const scoped_env&) = delete;
  scoped_env& operator=(const scoped_env&) = delete;

private:
  std::string name_;
  std::optional<std::string> old_;
};

/// A driver for `base_url` with `extra` merged into its driver_config; the config
/// must be valid.
inline std::shared_ptr<drivers::http_driver> http_driver_for(const std::string& base_url,
                                                             nlohmann::json extra = {}) {
  nlohmann::json cfg{{"base_url", base_url}, {"health_path", "/health"}};
  if (extra.is_object())
    cfg.update(extra);
  auto problems = drivers::http_driver::problems_of(cfg);
  if (!problems.empty())
    throw std::invalid_argument(problems.front().path + ": " + problems.front().message);
  return drivers::http_driver::from_config(cfg);
}

/// Every connection and socket the driver opened is closed.
inline bool nothing_leaked(const drivers::http_driver& d) {
  auto c = d.counts();
  return c.connections_opened == c.connections_closed && c.sockets_opened == c.sockets_closed;
}

} // namespace custodian::test
