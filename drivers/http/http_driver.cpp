#include "drivers/http/http_driver.hpp"

#include <algorithm>
#include <curl/header.h>
#include <memory>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

#include "drivers/text_codec.hpp"

namespace custodian::drivers {

struct http_connection::counters {
  std::atomic<uint64_t> connections_opened{0};
  std::atomic<uint64_t> connections_closed{0};
  std::atomic<uint64_t> sockets_opened{0};
  std::atomic<uint64_t> sockets_closed{0};
  std::atomic<uint64_t> addresses_refused{0};
};

namespace {

CURL* new_handle() {
  // Thread-safe in this libcurl (CURL_VERSION_THREADSAFE); once per process.
  static const CURLcode global = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (global != CURLE_OK)
    throw std::runtime_error(std::string{"curl_global_init failed: "} + curl_easy_strerror(global));
  // Only an asynchronous resolver ends name resolution at the call's timeout
  // (without it, and without signals, a lookup could wait for minutes).
  static const bool async_dns =
    curl_version_info(CURLVERSION_NOW)->features & CURL_VERSION_ASYNCHDNS;
  if (!async_dns)
    throw std::runtime_error("this libcurl resolves names synchronously: the http driver could "
                             "not bound name resolution");
  CURL* handle = curl_easy_init();
  if (!handle)
    throw std::runtime_error("curl_easy_init failed");
  return handle;
}

template <class T>
void set(CURL* handle, CURLoption option, T value, const char* name) {
  if (auto rc = curl_easy_setopt(handle, option, value); rc != CURLE_OK)
    throw std::runtime_error(std::string{"curl_easy_setopt("} + name +
                             ") failed: " + curl_easy_strerror(rc));
}

#define SET(handle, option, value) set(handle, option, value, #option)

/// A call's timeout, capped; never 0, which curl reads as "no timeout".
long budget_ms(millis timeout, millis cap) {
  return std::max<long>(1, static_cast<long>(std::min(timeout, cap).count()));
}

/// Up to 200 bytes of a body, on one line, for an error message: the server's
/// own words ("invalid token").
std::string excerpt(const std::string& body, const std::string& token) {
  // Scrubbed whole first: a cut could leave part of the token.
  auto text = http::scrub(body, token).substr(0, 200);
  bool utf8 = is_utf8(text);
  for (auto& c : text)
    if (static_cast<unsigned char>(c) < 0x20 || (!utf8 && static_cast<unsigned char>(c) >= 0x80))
      c = ' ';
  while (!text.empty() && text.back() == ' ')
    text.pop_back();
  return text.empty() ? std::string{} : ": " + text;
}

bool is_tls_failure(CURLcode rc) {
  switch (rc) {
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_CIPHER:
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_SSL_ENGINE_NOTFOUND:
  case CURLE_SSL_ENGINE_SETFAILED:
  case CURLE_SSL_ENGINE_INITFAILED:
  case CURLE_SSL_SHUTDOWN_FAILED:
  case CURLE_SSL_CRL_BADFILE:
  case CURLE_SSL_ISSUER_ERROR:
  case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
  case CURLE_SSL_INVALIDCERTSTATUS:
  case CURLE_SSL_CLIENTCERT:
    return true;
  default:
    return false;
  }
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items)
    if (out.find(item) == std::string::npos)
      out += (out.empty() ? "" : "; ") + item;
  return out;
}

} // namespace

http_connection::http_connection(std::shared_ptr<const http_settings> settings,
                                 std::shared_ptr<counters> counts)
    : settings_(std::move(settings)), counts_(std::move(counts)), handle_(new_handle()) {
  ++counts_->connections_opened;
  configure(settings_->timeout);
}

http_connection::~http_connection() {
  release_handle();
}

void http_connection::release_handle() {
  if (!handle_)
    return;
  // Closes the handle's kept-alive connections through close_socket.
  curl_easy_cleanup(handle_);
  handle_ = nullptr;
  ++counts_->connections_closed;
}

CURL* http_connection::native() {
  lend_native();
  return handle_;
}

void http_connection::configure(millis budget) {
  const auto& s = *settings_;
  // Keeps the handle's live connections and DNS cache, drops every option.
  curl_easy_reset(handle_);
  error_[0] = '\0';
  long total = budget_ms(budget, s.timeout);
  SET(handle_, CURLOPT_NOSIGNAL, 1L);
  SET(handle_, CURLOPT_TIMEOUT_MS, total);
  SET(handle_, CURLOPT_CONNECTTIMEOUT_MS, budget_ms(millis{total}, s.connect_timeout));
  SET(handle_, CURLOPT_PROTOCOLS_STR, "http,https");
  SET(handle_, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  // An empty proxy and no proxy for any host: http_proxy and friends are ignored.
  SET(handle_, CURLOPT_PROXY, "");
  SET(handle_, CURLOPT_NOPROXY, "*");
  SET(handle_, CURLOPT_FOLLOWLOCATION, s.max_redirects > 0 ? 1L : 0L);
  SET(handle_, CURLOPT_MAXREDIRS, s.max_redirects);
  SET(handle_, CURLOPT_OPENSOCKETFUNCTION, &http_connection::open_socket);
  SET(handle_, CURLOPT_OPENSOCKETDATA, static_cast<void*>(this));
  SET(handle_, CURLOPT_CLOSESOCKETFUNCTION, &http_connection::close_socket);
  SET(handle_, CURLOPT_CLOSESOCKETDATA, static_cast<void*>(this));
  SET(handle_, CURLOPT_WRITEFUNCTION, &http_connection::on_body);
  SET(handle_, CURLOPT_WRITEDATA, static_cast<void*>(this));
  // Refuses a declared length up front; on_body stops a body without one.
  SET(handle_, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(s.max_response_bytes));
  SET(handle_, CURLOPT_ERRORBUFFER, error_);
  SET(handle_, CURLOPT_USERAGENT, "custodian");
  if (!s.ca_file.empty())
    SET(handle_, CURLOPT_CAINFO, s.ca_file.c_str());
  SET(handle_, CURLOPT_URL, (s.base_url + "/").c_str());
}

curl_socket_t http_connection::open_socket(void* self_ptr, curlsocktype, curl_sockaddr* address) {
  auto* self = static_cast<http_connection*>(self_ptr);
  try {
    auto ip = ip_address::from_sockaddr(&address->addr, address->addrlen);
    auto why = ip ? self->settings_->policy.refusal(*ip)
                  : std::string{"refused to connect: not an IP address"};
    if (!why.empty()) {
      ++self->counts_->addresses_refused;
      self->refusals_.push_back(std::move(why));
      return CURL_SOCKET_BAD;
    }
  } catch (...) {
    return CURL_SOCKET_BAD; // out of memory: nothing is opened
  }
  ++self->sockets_allowed_;
  // Close-on-exec: a child process started by another driver inherits nothing.
  int fd = ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
  if (fd < 0)
    return CURL_SOCKET_BAD;
  ++self->counts_->sockets_opened;
  return fd;
}

int http_connection::close_socket(void* self_ptr, curl_socket_t fd) {
  ++static_cast<http_connection*>(self_ptr)->counts_->sockets_closed;
  return ::close(fd);
}

size_t http_connection::on_body(char* data, size_t size, size_t count, void* self_ptr) {
  auto* self = static_cast<http_connection*>(self_ptr);
  auto bytes = size * count;
  if (self->body_.size() + bytes > static_cast<size_t>(self->settings_->max_response_bytes)) {
    self->body_too_large_ = true;
    return CURL_WRITEFUNC_ERROR; // stops reading here
  }
  try {
    self->body_.append(data, bytes);
  } catch (...) {
    return CURL_WRITEFUNC_ERROR;
  }
  return bytes;
}

driver_result<http::response> http_connection::perform(const http::request& req, millis timeout,
                                                       std::string& token) {
  auto secret = settings_->bearer_token.resolve();
  if (!secret)
    return driver_error{driver_errc::auth, "bearer token: " + secret.error().message};
  token = std::move(secret.value());
  if (!http::header_value_problem(token).empty())
    return driver_error{driver_errc::auth, "the bearer token from " +
                                             settings_->bearer_token.describe() +
                                             " contains a line break or NUL"};
  auto headers = settings_->headers;
  if (!token.empty())
    headers = http::merge_headers(std::move(headers), {{"Authorization", "Bearer " + token}});
  if (req.body)
    headers = http::merge_headers(std::move(headers), {{"Content-Type", req.body_type}});
  headers = http::merge_headers(std::move(headers), req.headers);

  configure(timeout);
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> list{nullptr, curl_slist_free_all};
  auto add = [&](const std::string& line) {
    auto* grown = curl_slist_append(list.get(), line.c_str());
    if (!grown)
      throw std::bad_alloc{};
    list.release();
    list.reset(grown);
  };
  bool expect = false;
  for (const auto& [name, value] : headers) {
    // "Name;" sends an empty value; "Name:" would remove the header.
    add(value.empty() ? name + ";" : name + ": " + value);
    expect = expect || http::same_header_name(name, "Expect");
  }
  if (!expect)
    add("Expect:"); // no wait for "100 Continue" before a large body
  auto url = settings_->base_url + req.path;
  SET(handle_, CURLOPT_URL, url.c_str());
  SET(handle_, CURLOPT_HTTPHEADER, list.get());
  if (req.method == "HEAD")
    SET(handle_, CURLOPT_NOBODY, 1L);
  else if (req.method == "POST")
    SET(handle_, CURLOPT_POST, 1L);
  else if (req.method != "GET" || req.body)
    SET(handle_, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  if (req.body) {
    SET(handle_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body->size()));
    SET(handle_, CURLOPT_POSTFIELDS, req.body->data());
  } else if (req.method == "POST") {
    SET(handle_, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t{0});
    SET(handle_, CURLOPT_POSTFIELDS, "");
  }

  body_.clear();
  body_too_large_ = false;
  refusals_.clear();
  sockets_allowed_ = 0;
  auto rc = curl_easy_perform(handle_);
  driver_result<http::response> result = collect(rc, req.method + " " + url, token);
  // The handle no longer points at this request's headers and body (a holder of
  // native() may perform on it next).
  configure(settings_->timeout);
  return result;
}

driver_result<http::response> http_connection::collect(CURLcode rc, const std::string& what,
                                                       const std::string& token) {
  if (rc != CURLE_OK)
    return failure_of(rc, what, token);
  http::response out;
  curl_easy_getinfo(handle_, CURLINFO_RESPONSE_CODE, &out.status);
  // The headers of the last response (after redirects).
  for (curl_header* h = nullptr; (h = curl_easy_nextheader(handle_, CURLH_HEADER, -1, h));)
    out.headers.emplace_back(h->name, h->value);
  out.body = std::move(body_);
  body_.clear();
  return out;
}

driver_error http_connection::failure_of(CURLcode rc, const std::string& what,
                                         const std::string& token) const {
  auto said = http::scrub(what + ": " + (error_[0] ? error_ : curl_easy_strerror(rc)), token);
  auto refused = joined(refusals_);
  if (rc == CURLE_COULDNT_CONNECT && !refused.empty()) {
    // Every address was refused by policy: a config or request error, not a down server.
    if (sockets_allowed_ == 0)
      return {driver_errc::rejected, what + ": " + refused};
    return {driver_errc::refused, said + "; " + refused};
  }
  if (body_too_large_ || rc == CURLE_FILESIZE_EXCEEDED)
    return {driver_errc::rejected, what +
                                     ": the response body is larger than max_response_bytes (" +
                                     std::to_string(settings_->max_response_bytes) + ")"};
  switch (rc) {
  case CURLE_COULDNT_CONNECT:
  case CURLE_COULDNT_RESOLVE_HOST:
    return {driver_errc::refused, said};
  case CURLE_OPERATION_TIMEDOUT:
    return {driver_errc::timeout, said};
  case CURLE_TOO_MANY_REDIRECTS:
    return {driver_errc::rejected,
            said + " (max_redirects is " + std::to_string(settings_->max_redirects) + ")"};
  case CURLE_UNSUPPORTED_PROTOCOL: // a redirect to another scheme
  case CURLE_URL_MALFORMAT:
    return {driver_errc::rejected, said};
  default:
    // A TLS failure, a reset, a reply that is not HTTP: this connection is unusable.
    return {driver_errc::broken, is_tls_failure(rc) ? "TLS: " + said : said};
  }
}

driver_status http_connection::check_health(millis timeout) {
  http::request req;
  req.path = settings_->health_path;
  std::string token;
  auto res = perform(req, timeout, token);
  if (!res)
    return res.error();
  auto status = res.value().status;
  if (status >= 200 && status < 400)
    return done{};
  auto said = "GET " + settings_->base_url + req.path + " answered " + std::to_string(status) +
              excerpt(res.value().body, token);
  if (status == 401 || status == 403 || status == 407)
    return driver_error{driver_errc::auth, said};
  if (status == 429 || status >= 500)
    return driver_error{driver_errc::unavailable, said};
  return driver_error{driver_errc::rejected, said};
}

driver_status http_connection::do_ping(millis timeout) {
  return check_health(timeout);
}

driver_result<nlohmann::json> http_connection::do_exec(const nlohmann::json& request,
                                                       millis timeout) {
  auto req = http::parse_request(request);
  if (!req)
    return req.error();
  std::string token;
  auto res = perform(req.value(), timeout, token);
  if (!res)
    return res.error();
  return http::response_json(res.value(), token);
}

driver_status http_connection::do_reset(millis) {
  auto fresh = new_handle();
  release_handle();
  handle_ = fresh;
  ++counts_->connections_opened;
  configure(settings_->timeout);
  return done{};
}

driver_status http_connection::do_close(millis) {
  release_handle();
  return done{};
}

http_driver::http_driver(http_settings settings)
    : settings_(std::make_shared<const http_settings>(std::move(settings))),
      counts_(std::make_shared<http_connection::counters>()) {}

std::vector<config_problem> http_driver::problems_of(const nlohmann::json& driver_config) {
  return http_config_problems(driver_config);
}

std::shared_ptr<http_driver> http_driver::from_config(const nlohmann::json& driver_config) {
  return std::make_shared<http_driver>(read_http_settings(driver_config));
}

std::string http_driver::name() const {
  return "http";
}

http_counts http_driver::counts() const {
  return {counts_->connections_opened, counts_->connections_closed, counts_->sockets_opened,
          counts_->sockets_closed, counts_->addresses_refused};
}

driver_result<std::shared_ptr<connection>> http_driver::do_connect(const std::string&,
                                                                   millis timeout) {
  auto conn = std::make_shared<http_connection>(settings_, counts_);
  // One health request: a server that is down or a refused address fails here.
  if (auto opened = conn->check_health(timeout); !opened)
    return opened.error(); // the handle goes with conn
  return std::shared_ptr<connection>{std::move(conn)};
}

} // namespace custodian::drivers
