#include "runtime/admin/admin_server.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <httplib.h>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/admin/dashboard_files.hpp"
#include "runtime/config/loopback.hpp"

namespace custodian {

using json = nlohmann::json;

bool constant_time_equal(const std::string& presented, const std::string& expected) {
  if (expected.empty())
    return presented.empty();
  // Runs over the presented bytes only, with no early exit, so its time says
  // nothing about the expected token or how much of it matched.
  unsigned diff = presented.size() == expected.size() ? 0 : 1;
  for (std::size_t i = 0; i < presented.size(); ++i)
    diff |= static_cast<unsigned char>(presented[i]) ^
            static_cast<unsigned char>(expected[i % expected.size()]);
  return diff == 0;
}

namespace {

constexpr const char* json_type = "application/json";
constexpr std::size_t max_stream_backlog = 10000;
constexpr std::chrono::seconds stream_end_timeout{2};
// A page of GET events or GET audit.
constexpr uint64_t max_page_limit = 10000;
constexpr uint64_t default_page_limit = 500;

// Strings from the node may hold bytes that are not UTF-8; replace them rather
// than fail the whole answer.
std::string dump(const json& body) {
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

void send_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(dump(body), json_type);
}

/// An answer that is an error: its status and the body
/// {"error":{"code":"...","message":"...","path":"...","problems":[...]}}. The
/// server's own refusals are made as one; the node's come as api_error.
class http_error : public std::runtime_error {
public:
  http_error(int status, std::string code, const std::string& message, std::string path = {},
             std::vector<api_problem> problems = {})
      : std::runtime_error(message), status(status), code(std::move(code)), path(std::move(path)),
        problems(std::move(problems)) {}

  int status;
  std::string code;
  std::string path;
  std::vector<api_problem> problems;
};

/// How HTTP says what the node refused a request for: the node names the reason,
/// the status is the server's to choose.
int status_of(errc code) {
  switch (code) {
  case errc::not_found:
    return 404;
  case errc::bad_config:
  case errc::bad_request:
    return 400;
  case errc::invalid_transition:
  case errc::conflict:
  case errc::leased:
    return 409;
  case errc::driver_error:
    return 502;
  case errc::timeout:
    return 504;
  case errc::unavailable:
  case errc::dependency_unavailable:
  case errc::store_error:
    return 503;
  }
  return 500;
}

http_error answer_of(const api_error& err) {
  if (!err.code())
    return http_error(500, "internal", err.what());
  return http_error(status_of(*err.code()), to_string(*err.code()), err.what(), err.path(),
                    err.problems());
}

void send_error(httplib::Response& res, const http_error& err) {
  json error{{"code", err.code}, {"message", err.what()}, {"path", err.path}};
  if (!err.problems.empty()) {
    auto& problems = error["problems"] = json::array();
    for (const auto& p : err.problems)
      problems.push_back({{"path", p.path}, {"message", p.message}});
  }
  send_json(res, err.status, {{"error", std::move(error)}});
}

http_error bad_request(const std::string& message, const std::string& path) {
  return http_error(400, "bad_request", message, path);
}

/// The error httplib answers by itself (bad request line, header too long, ...).
http_error error_of(int status) {
  switch (status) {
  case 400:
    return http_error(status, "bad_request", "malformed request");
  case 404:
    return http_error(status, "not_found", "no such endpoint");
  case 413:
    return http_error(status, "payload_too_large", "request body too large");
  case 414:
    return http_error(status, "uri_too_long", "request target too long");
  case 416:
    return http_error(status, "range_not_satisfiable", "bad Range header");
  default:
    return http_error(status, status >= 500 ? "internal" : "error", "request failed");
  }
}

uint64_t parse_u64(const std::string& text, const std::string& name) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size())
    throw bad_request(name + " must be a non-negative integer", name);
  return value;
}

bool parse_bool(const std::string& text, const std::string& name) {
  if (text == "true" || text == "1")
    return true;
  if (text == "false" || text == "0")
    return false;
  throw bad_request(name + " must be true or false", name);
}

/// ?since=SEQ&limit=N of a paged read: since 0 and limit 500 by default.
struct page_query {
  uint64_t since = 0;
  std::size_t limit = default_page_limit;
};

page_query page_of(const httplib::Request& req) {
  page_query q;
  if (req.has_param("since"))
    q.since = parse_u64(req.get_param_value("since"), "since");
  auto limit =
    req.has_param("limit") ? parse_u64(req.get_param_value("limit"), "limit") : default_page_limit;
  if (limit < 1 || limit > max_page_limit)
    throw bad_request("limit must be from 1 to " + std::to_string(max_page_limit), "limit");
  q.limit = static_cast<std::size_t>(limit);
  return q;
}

bool valid_segment(const std::string& s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '_' || c == '.' || c == '-';
  });
}

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> out;
  std::size_t begin = path.empty() || path[0] != '/' ? 0 : 1;
  for (;;) {
    auto end = path.find('/', begin);
    out.push_back(path.substr(begin, end == std::string::npos ? end : end - begin));
    if (end == std::string::npos)
      return out;
    begin = end + 1;
  }
}

std::string content_type_of(std::string_view name) {
  auto ends_with = [&](std::string_view ext) {
    return name.size() >= ext.size() && name.substr(name.size() - ext.size()) == ext;
  };
  if (ends_with(".html"))
    return "text/html; charset=utf-8";
  if (ends_with(".js"))
    return "text/javascript; charset=utf-8";
  if (ends_with(".css"))
    return "text/css; charset=utf-8";
  if (ends_with(".svg"))
    return "image/svg+xml";
  return "application/octet-stream";
}

std::string requester_of(const httplib::Request& req) {
  auto addr =
    req.remote_addr.find(':') == std::string::npos ? req.remote_addr : "[" + req.remote_addr + "]";
  auto who = "api " + addr + ":" + std::to_string(req.remote_port);
  auto agent = req.get_header_value("User-Agent");
  if (agent.substr(0, agent.find_first_of("/ ")) == "custodianctl")
    who += " custodianctl";
  return who;
}

bool is_chunked(const httplib::Request& req) {
  auto te = req.get_header_value("Transfer-Encoding");
  std::transform(te.begin(), te.end(), te.begin(), [](unsigned char c) { return std::tolower(c); });
  return te == "chunked";
}

/// httplib::Server with a way to stop listening that also works before
/// listen_after_bind runs (Server::stop does nothing until then).
class http_server : public httplib::Server {
public:
  void close_listener() {
    auto sock = svr_sock_.exchange(INVALID_SOCKET);
    if (sock != INVALID_SOCKET) {
      ::shutdown(sock, SHUT_RDWR);
      ::close(sock);
    }
  }
};

/// One open GET events/stream: what the node's feed delivered and the client
/// has not been sent yet.
struct event_stream {
  std::mutex mutex;
  std::condition_variable wake;
  std::deque<std::string> pending;
  bool closed = false;              // the server stops, or the client fell too far behind
  std::unique_ptr<event_feed> feed; // last: stops before the rest goes
};

std::string sse_frame(const std::string& line) {
  auto event = json::parse(line, nullptr, false);
  std::string frame;
  if (event.is_object() && event.contains("seq") && event["seq"].is_number_unsigned())
    frame = "id: " + std::to_string(event["seq"].get<uint64_t>()) + "\n";
  return frame + "data: " + line + "\n\n";
}

enum class body_kind { none, optional_object, object };

struct request_context {
  const httplib::Request& req;
  std::map<std::string, std::string> params; // path parameters by name
  json body;
  requester who;
};

using handler = std::function<void(request_context&, httplib::Response&)>;

struct route {
  std::string method;
  std::vector<std::string> segments; // "{name}" is a path parameter
  bool api;                          // under protect_reads when a GET
  body_kind body;
  handler fn;
};

} // namespace

struct admin_server::impl {
  node_api& node;
  admin_server_config config;
  http_server http;
  std::vector<route> routes;
  std::thread listener;
  uint16_t port = 0;

  std::mutex streams_mutex;
  std::set<std::shared_ptr<event_stream>> streams;
  std::condition_variable streams_changed;
  bool stopping = false;

  impl(node_api& n, admin_server_config cfg) : node(n), config(std::move(cfg)) {
    if (config.token.empty() && !is_loopback(config.bind))
      throw std::invalid_argument("admin.bind " + config.bind +
                                  " is not loopback: set admin.token_env");
    add_routes();
    configure();
    bind();
    listener = std::thread([this] { http.listen_after_bind(); });
  }

  std::size_t max_streams() const { return config.threads > 1 ? config.threads - 1 : 0; }

  /// How much of a body past max_body_bytes is read and dropped so that its
  /// client gets the 413; a client that sends more has its connection closed.
  static constexpr std::size_t drained_past_limit = 1 << 20;

  void configure() {
    auto threads = std::max<std::size_t>(config.threads, 1);
    http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    // One request per connection: an idle keep-alive connection would hold one of
    // the few worker threads.
    http.set_keep_alive_max_count(1);
    http.set_keep_alive_timeout(2);
    http.set_payload_max_length(config.max_body_bytes);
    // httplib's default sets SO_REUSEPORT, which would let a second process bind
    // the same port; SO_REUSEADDR only allows a restart over TIME_WAIT.
    http.set_socket_options([](socket_t sock) {
      int yes = 1;
      setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    });
    http.set_default_headers(
      {{"X-Content-Type-Options", "nosniff"},
       {"Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'"},
       {"Referrer-Policy", "no-referrer"}});
    http.set_error_handler([](const httplib::Request&, httplib::Response& res) {
      if (res.body.empty() && !res.content_provider_)
        send_error(res, error_of(res.status));
    });
    http.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        send_error(res, http_error(500, "internal", "internal error"));
      });
    auto plain = [this](const httplib::Request& req, httplib::Response& res) {
      dispatch(req, res, nullptr);
    };
    auto with_body = [this](const httplib::Request& req, httplib::Response& res,
                            const httplib::ContentReader& reader) { dispatch(req, res, &reader); };
    http.Get(".*", plain);
    http.Options(".*", plain);
    http.Post(".*", with_body);
    http.Put(".*", with_body);
    http.Patch(".*", with_body);
    http.Delete(".*", with_body);
  }

  void bind() {
    errno = 0;
    int bound = config.port == 0 ? http.bind_to_any_port(config.bind)
                                 : (http.bind_to_port(config.bind, config.port) ? config.port : -1);
    if (bound <= 0) {
      std::string reason = errno ? std::strerror(errno) : "cannot resolve or bind the address";
      throw std::invalid_argument("admin.bind " + config.bind + ":" + std::to_string(config.port) +
                                  ": cannot listen: " + reason);
    }
    port = static_cast<uint16_t>(bound);
  }

  void stop() {
    {
      std::unique_lock<std::mutex> lock(streams_mutex);
      if (stopping)
        return;
      stopping = true;
      for (const auto& s : streams) {
        std::lock_guard<std::mutex> stream_guard(s->mutex);
        s->closed = true;
        s->wake.notify_all();
      }
      // Lets each stream send its last chunk: once the listener is closed httplib
      // stops calling the providers and cuts streams off unterminated.
      streams_changed.wait_for(lock, stream_end_timeout, [&] { return streams.empty(); });
    }
    http.close_listener();
    if (listener.joinable())
      listener.join();
  }

  // --- dispatch -----------------------------------------------------------

  void dispatch(const httplib::Request& req, httplib::Response& res,
                const httplib::ContentReader* reader) {
    try {
      // The body is read first, whatever the answer, so the connection is not
      // closed on unread bytes (a reset that can swallow the answer).
      auto body = read_body(req, res, reader);
      auto method = req.method == "HEAD" ? std::string("GET") : req.method;
      auto segments = split_path(req.path);
      std::string allowed;
      for (const auto& r : routes) {
        std::map<std::string, std::string> params;
        if (!match(r, segments, params))
          continue;
        if (r.method != method) {
          allowed += (allowed.empty() ? "" : ", ") + r.method;
          continue;
        }
        authorize(r, req);
        request_context ctx{req, std::move(params), parse_body(r.body, body), requester_of(req)};
        for (const auto& [name, value] : ctx.params)
          if (!valid_segment(value))
            throw bad_request(name + " must be 1 to 64 characters of A-Z a-z 0-9 _ . -", name);
        r.fn(ctx, res);
        return;
      }
      if (allowed.empty())
        throw http_error(404, "not_found", "no such endpoint: " + req.method + " " + req.path);
      res.set_header("Allow", allowed);
      throw http_error(405, "method_not_allowed",
                       req.method + " is not allowed here; allowed: " + allowed);
    } catch (const api_error& err) {
      send_error(res, answer_of(err));
    } catch (const http_error& err) {
      if (err.status == 401)
        res.set_header("WWW-Authenticate", "Bearer");
      send_error(res, err);
    } catch (...) {
      // Neither: its message may hold anything (a connection string).
      send_error(res, http_error(500, "internal", "internal error"));
    }
  }

  static bool match(const route& r, const std::vector<std::string>& segments,
                    std::map<std::string, std::string>& params) {
    if (r.segments.size() != segments.size())
      return false;
    for (std::size_t i = 0; i < segments.size(); ++i) {
      const auto& pattern = r.segments[i];
      if (pattern.size() > 2 && pattern.front() == '{' && pattern.back() == '}')
        params[pattern.substr(1, pattern.size() - 2)] = segments[i];
      else if (pattern != segments[i])
        return false;
    }
    return true;
  }

  std::string read_body(const httplib::Request& req, httplib::Response& res,
                        const httplib::ContentReader* reader) const {
    // Without a length or chunking httplib would read until the client closes.
    if (!reader || (!req.has_header("Content-Length") && !is_chunked(req)))
      return req.body;
    std::string body;
    bool too_large = false;
    std::size_t dropped = 0;
    bool ok = (*reader)([&](const char* data, std::size_t size) {
      if (!too_large && body.size() + size <= config.max_body_bytes) {
        body.append(data, size);
        return true;
      }
      // Past the limit the rest is read and dropped (up to a bound): closing
      // while the client still sends would reset the connection, and the client
      // would never read the 413.
      too_large = true;
      body.clear();
      dropped += size;
      return dropped <= drained_past_limit;
    });
    if (too_large || res.status == 413)
      throw http_error(413, "payload_too_large",
                       "request body is larger than " + std::to_string(config.max_body_bytes) +
                         " bytes");
    if (!ok)
      throw bad_request("cannot read the request body", "body");
    return body;
  }

  static json parse_body(body_kind kind, const std::string& text) {
    if (kind == body_kind::none)
      return json();
    if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
      if (kind == body_kind::optional_object)
        return json::object();
      throw http_error(400, "bad_json", "request body must be a JSON object", "body");
    }
    try {
      auto body = json::parse(text);
      if (!body.is_object())
        throw http_error(400, "bad_json", "request body must be a JSON object", "body");
      return body;
    } catch (const json::parse_error& e) {
      // The position only: the parser's message quotes the body.
      throw http_error(400, "bad_json",
                       "request body is not valid JSON (at byte " + std::to_string(e.byte) + ")",
                       "body");
    }
  }

  void authorize(const route& r, const httplib::Request& req) const {
    bool needed = !config.token.empty() && (r.method != "GET" || (r.api && config.protect_reads));
    if (!needed)
      return;
    auto header = req.get_header_value("Authorization");
    constexpr std::string_view scheme = "Bearer ";
    bool ok = header.size() > scheme.size() &&
              std::equal(scheme.begin(), scheme.end(), header.begin(),
                         [](char a, char b) { return std::tolower(a) == std::tolower(b); }) &&
              constant_time_equal(header.substr(scheme.size()), config.token);
    if (!ok)
      throw http_error(401, "unauthorized", "a valid bearer token is required");
  }

  // --- routes -------------------------------------------------------------

  void add(std::string method, const std::string& pattern, bool api, body_kind body, handler fn) {
    routes.push_back({std::move(method), split_path(pattern), api, body, std::move(fn)});
  }

  /// A route that answers 200 (or `status`) with what `call` returns.
  template <class Call>
  void add_json(std::string method, const std::string& pattern, body_kind body, Call call,
                int status = 200) {
    add(std::move(method), pattern, true, body,
        [call, status](request_context& c, httplib::Response& res) {
          send_json(res, status, call(c));
        });
  }

  void add_routes() {
    using c = request_context&;
    add("GET", "/healthz", false, body_kind::none, [](c, httplib::Response& res) {
      send_json(res, 200, {{"status", "ok"}});
    });
    add("GET", "/readyz", false, body_kind::none, [this](c, httplib::Response& res) {
      auto ready = node.readiness();
      send_json(res, ready.value("ready", false) ? 200 : 503, ready);
    });
    add("GET", "/metrics", true, body_kind::none, [this](c, httplib::Response& res) {
      res.set_content(node.metrics(), "text/plain; version=0.0.4");
    });
    for (const auto& file : dashboard_files()) {
      auto path = file.name == "index.html" ? std::string("/") : "/" + std::string(file.name);
      add("GET", path, false, body_kind::none, [file](c, httplib::Response& res) {
        res.set_content(file.content.data(), file.content.size(), content_type_of(file.name));
      });
    }
    const std::string v1 = "/api/v1";
    auto none = body_kind::none;
    auto object = body_kind::object;
    auto optional = body_kind::optional_object;
    add_json("GET", v1, none, [this](c) { return node.status(); });
    add_json("GET", v1 + "/pools", none, [this](c) { return node.pools(); });
    add_json(
      "POST", v1 + "/pools", object, [this](c x) { return node.create_pool(x.body, x.who); }, 201);
    add_json("GET", v1 + "/pools/{name}", none,
             [this](c x) { return node.pool(x.params["name"]); });
    add_json("PATCH", v1 + "/pools/{name}", object,
             [this](c x) { return node.update_pool(x.params["name"], x.body, x.who); });
    add_json("DELETE", v1 + "/pools/{name}", none, [this](c x) {
      bool force = x.req.has_param("force") && parse_bool(x.req.get_param_value("force"), "force");
      return node.delete_pool(x.params["name"], force, x.who);
    });
    for (const char* action : {"drain", "suspend", "resume", "resize"})
      add_json("POST", v1 + "/pools/{name}/" + action, optional, [this, action](c x) {
        return node.pool_action(x.params["name"], action, x.body, x.who);
      });
    add_json("POST", v1 + "/pools/{name}/exec", object,
             [this](c x) { return node.exec(x.params["name"], x.body, x.who); });
    add_json("GET", v1 + "/pools/{name}/config/history", none,
             [this](c x) { return node.config_history(x.params["name"]); });
    for (const char* action : {"quarantine", "release", "maintain"})
      add_json("POST", v1 + "/resources/{id}/" + action, optional, [this, action](c x) {
        return node.resource_action(x.params["id"], action, x.body, x.who);
      });
    add_json("GET", v1 + "/events", none, [this](c x) {
      auto page = page_of(x.req);
      return node.events(page.since, page.limit);
    });
    add("GET", v1 + "/events/stream", true, none,
        [this](c x, httplib::Response& res) { open_stream(x.req, res); });
    add_json("POST", v1 + "/config/reload", none, [this](c x) { return node.reload(x.who); });
    add_json("GET", v1 + "/audit", none, [this](c x) {
      auto page = page_of(x.req);
      return node.audit_log(page.since, page.limit);
    });
    add_json("GET", v1 + "/backup", none, [this](c) { return node.backup(); });
    add_json("POST", v1 + "/restore", object, [this](c x) { return node.restore(x.body, x.who); });
  }

  // --- event stream ---------------------------------------------------------

  void open_stream(const httplib::Request& req, httplib::Response& res) {
    uint64_t since = 0;
    if (req.has_param("since"))
      since = parse_u64(req.get_param_value("since"), "since");
    else if (req.has_header("Last-Event-ID"))
      since = parse_u64(req.get_header_value("Last-Event-ID"), "Last-Event-ID");
    auto stream = std::make_shared<event_stream>();
    {
      std::lock_guard<std::mutex> guard(streams_mutex);
      if (stopping || streams.size() >= max_streams())
        throw http_error(503, "unavailable",
                         "too many event streams (at most " + std::to_string(max_streams()) + ")");
      streams.insert(stream);
    }
    try {
      // The feed lives inside the stream, so the raw pointer outlives every call.
      stream->feed = node.follow_events(since, [s = stream.get()](const std::string& line) {
        std::lock_guard<std::mutex> guard(s->mutex);
        if (s->pending.size() >= max_stream_backlog)
          s->closed = true; // the client reconnects with Last-Event-ID
        else
          s->pending.push_back(line);
        s->wake.notify_all();
      });
    } catch (...) {
      release_stream(stream);
      throw;
    }
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider(
      "text/event-stream",
      [this, stream](std::size_t offset, httplib::DataSink& sink) {
        return pump(*stream, offset, sink);
      },
      [this, stream](bool) { release_stream(stream); });
  }

  void release_stream(const std::shared_ptr<event_stream>& stream) {
    stream->feed.reset();
    std::lock_guard<std::mutex> guard(streams_mutex);
    streams.erase(stream);
    streams_changed.notify_all();
  }

  /// Sends what has arrived, or a keepalive comment when nothing has for a while.
  bool pump(event_stream& stream, std::size_t offset, httplib::DataSink& sink) {
    if (offset == 0) {
      // Starts the stream at once; tells EventSource how soon to reconnect.
      static const std::string retry = "retry: 2000\n\n";
      return sink.write(retry.data(), retry.size());
    }
    std::deque<std::string> lines;
    bool end = false;
    {
      std::unique_lock<std::mutex> lock(stream.mutex);
      stream.wake.wait_for(lock, config.sse_keepalive,
                           [&] { return !stream.pending.empty() || stream.closed; });
      lines.swap(stream.pending);
      end = stream.closed;
    }
    std::string out;
    for (const auto& line : lines)
      out += sse_frame(line);
    if (out.empty() && !end)
      out = ": keepalive\n\n";
    if (!out.empty() && !sink.write(out.data(), out.size()))
      return false;
    if (end)
      sink.done();
    return true;
  }
};

admin_server::admin_server(node_api& node, admin_server_config config)
    : impl_(std::make_unique<impl>(node, std::move(config))) {}

admin_server::~admin_server() {
  stop();
}

uint16_t admin_server::port() const {
  return impl_->port;
}

void admin_server::stop() {
  impl_->stop();
}

} // namespace custodian
