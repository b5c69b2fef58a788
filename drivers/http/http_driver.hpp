#pragma once
// The `http` driver (libcurl): a client bound to one base_url. A connection is
// one curl easy handle, which keeps its TCP (or TLS) connections alive between
// requests. connect makes one health request, so that a server that is down, a
// refused address or a rejected token fails the connect itself. Every request is
// bounded by its call's timeout (capped by timeout_ms), follows at most
// max_redirects redirects over http and https only, ignores the proxy
// environment variables, and reads at most max_response_bytes of body. Before
// every socket is opened — redirects included — its resolved address meets the
// address policy (drivers/http/address_policy.hpp).

#include <atomic>
#include <cstdint>
#include <curl/curl.h>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "drivers/config_schema.hpp"
#include "drivers/driver.hpp"
#include "drivers/http/http_response.hpp"
#include "drivers/http/http_settings.hpp"

namespace custodian::drivers {

/// What the driver opened and closed, so that a test (or an operator) sees that
/// nothing leaks.
struct http_counts {
  uint64_t connections_opened = 0; ///< easy handles
  uint64_t connections_closed = 0;
  uint64_t sockets_opened = 0; ///< TCP connections to servers
  uint64_t sockets_closed = 0;
  uint64_t addresses_refused = 0; ///< connections the address policy stopped
};

class http_connection final : public connection {
public:
  struct counters;

  http_connection(std::shared_ptr<const http_settings> settings, std::shared_ptr<counters> counts);
  ~http_connection() override;

  /// The libcurl easy handle, configured as the driver's requests are (the
  /// address guard, timeouts capped by timeout_ms, http/https only, no proxy,
  /// CURLOPT_URL = base_url). Valid on the holder's thread while the lease is
  /// held. Whatever the holder sets stays with the lease: when it comes back
  /// the pool gives the connection a fresh handle (needs_reset, then reset).
  /// Keep the socket callbacks in place: they are the address guard.
  CURL* native();

protected:
  /// GET health_path (not while native() is out: see connection::lend_native).
  driver_status do_ping(millis timeout) override;
  driver_result<nlohmann::json> do_exec(const nlohmann::json& request, millis timeout) override;
  /// A fresh easy handle: no option, cookie or connection of a holder survives.
  driver_status do_reset(millis timeout) override;
  driver_status do_close(millis timeout) override;

private:
  friend class http_driver;

  /// GET health_path (connect and ping): 2xx and 3xx pass.
  driver_status check_health(millis timeout);
  /// One request under `timeout` (capped); the bearer token it sent in `token`.
  driver_result<http::response> perform(const http::request& req, millis timeout,
                                        std::string& token);
  /// A clean handle with the options every request shares.
  void configure(millis budget);
  /// The response of the request just performed, or why it failed.
  driver_result<http::response> collect(CURLcode rc, const std::string& what,
                                        const std::string& token);
  driver_error failure_of(CURLcode rc, const std::string& what, const std::string& token) const;
  void release_handle();

  static curl_socket_t open_socket(void* self, curlsocktype purpose, curl_sockaddr* address);
  static int close_socket(void* self, curl_socket_t fd);
  static size_t on_body(char* data, size_t size, size_t count, void* self);

  std::shared_ptr<const http_settings> settings_;
  std::shared_ptr<counters> counts_;
  CURL* handle_ = nullptr;
  // State of the request in flight, written by the callbacks.
  std::string body_;
  bool body_too_large_ = false;
  std::vector<std::string> refusals_;
  uint32_t sockets_allowed_ = 0;
  char error_[CURL_ERROR_SIZE] = {};
};

class http_driver final : public driver {
public:
  explicit http_driver(http_settings settings);

  /// Every problem of a driver_config, at paths relative to it.
  static std::vector<config_problem> problems_of(const nlohmann::json& driver_config);
  /// The driver of a driver_config that `problems_of` accepted.
  static std::shared_ptr<http_driver> from_config(const nlohmann::json& driver_config);

  std::string name() const override;
  const http_settings& settings() const { return *settings_; }
  http_counts counts() const;

protected:
  driver_result<std::shared_ptr<connection>> do_connect(const std::string& resource_id,
                                                        millis timeout) override;

private:
  std::shared_ptr<const http_settings> settings_;
  std::shared_ptr<http_connection::counters> counts_;
};

} // namespace custodian::drivers
