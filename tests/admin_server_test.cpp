// The admin HTTP server over a recording fake node: routes, error mapping,
// limits, authentication and the event stream.

#include <httplib.h>
#include <optional>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "runtime/admin/admin_server.hpp"
#include "runtime/config/loopback.hpp"
#include "tests/support/admin_fixture.hpp"

using namespace custodian;
using namespace custodian::test;
using nlohmann::json;

namespace {

struct mutation {
  std::string method;
  std::string path;
  std::string body;
  std::string node_method;
};

// Every mutating route, with a body it accepts and the node call it makes.
const std::vector<mutation> mutations = {
  {"POST", "/api/v1/pools", R"({"name":"p","driver":"sim"})", "create_pool"},
  {"PATCH", "/api/v1/pools/orders-db", R"({"max_size":9})", "update_pool"},
  {"DELETE", "/api/v1/pools/orders-db", "", "delete_pool"},
  {"POST", "/api/v1/pools/orders-db/drain", "", "pool_action"},
  {"POST", "/api/v1/pools/orders-db/suspend", "", "pool_action"},
  {"POST", "/api/v1/pools/orders-db/resume", "", "pool_action"},
  {"POST", "/api/v1/pools/orders-db/resize", R"({"max_size":4})", "pool_action"},
  {"POST", "/api/v1/pools/orders-db/exec", R"({"request":{"sql":"select 1"}})", "exec"},
  {"POST", "/api/v1/resources/orders-db-1/quarantine", R"({"reason":"slow"})", "resource_action"},
  {"POST", "/api/v1/resources/orders-db-1/release", "", "resource_action"},
  {"POST", "/api/v1/resources/orders-db-1/maintain", "", "resource_action"},
  {"POST", "/api/v1/config/reload", "", "reload"},
  {"POST", "/api/v1/restore", R"({"pools":[]})", "restore"},
};

httplib::Result send(httplib::Client& cli, const std::string& method, const std::string& path,
                     const std::string& body = "", const httplib::Headers& headers = {}) {
  if (method == "GET")
    return cli.Get(path, headers);
  if (method == "POST")
    return cli.Post(path, headers, body, "application/json");
  if (method == "PATCH")
    return cli.Patch(path, headers, body, "application/json");
  if (method == "DELETE")
    return body.empty() ? cli.Delete(path, headers)
                        : cli.Delete(path, headers, body, "application/json");
  return cli.Options(path, headers);
}

json error_of(const httplib::Result& res) {
  REQUIRE(res);
  CHECK(res->get_header_value("Content-Type") == "application/json");
  auto body = json::parse(res->body);
  REQUIRE(body.contains("error"));
  return body["error"];
}

httplib::Headers bearer(const std::string& token) {
  return {{"Authorization", "Bearer " + token}};
}

} // namespace

TEST_CASE("compares tokens equal only when every byte and the length match") {
  CHECK(constant_time_equal("s3cret", "s3cret"));
  CHECK_FALSE(constant_time_equal("s3cres", "s3cret"));
  CHECK_FALSE(constant_time_equal("s3cre", "s3cret"));
  CHECK_FALSE(constant_time_equal("s3crets3cret", "s3cret"));
  CHECK_FALSE(constant_time_equal("", "s3cret"));
}

TEST_CASE("knows loopback addresses from the others") {
  for (const char* host : {"127.0.0.1", "127.1.2.3", "::1", "localhost"})
    CHECK(is_loopback(host));
  for (const char* host : {"0.0.0.0", "10.0.0.1", "::", "example.com", "128.0.0.1"})
    CHECK_FALSE(is_loopback(host));
}

TEST_CASE("refuses a non-loopback bind without a token") {
  fake_node node;
  admin_server_config config;
  config.bind = "0.0.0.0";
  config.port = 0;
  CHECK_THROWS_WITH_AS(admin_server(node, config),
                       "admin.bind 0.0.0.0 is not loopback: set admin.token_env",
                       std::invalid_argument);
  config.token = "t0ken";
  admin_server server(node, config);
  CHECK(server.port() != 0);
}

TEST_CASE("refuses a port that is taken and names the address and the reason") {
  admin_fixture fx;
  admin_server_config config;
  config.port = fx.server->port();
  auto expected = "admin.bind 127.0.0.1:" + std::to_string(fx.server->port()) +
                  ": cannot listen: Address already in use";
  CHECK_THROWS_WITH_AS(admin_server(fx.node, config), expected.c_str(), std::invalid_argument);
}

TEST_CASE("answers healthz always and readyz from the node's readiness") {
  admin_fixture fx;
  auto cli = fx.client();
  auto health = cli.Get("/healthz");
  REQUIRE(health);
  CHECK(health->status == 200);
  CHECK(json::parse(health->body) == json{{"status", "ok"}});
  CHECK(cli.Get("/readyz")->status == 200);
  fx.node.reply("readiness", {{"ready", false}, {"reason", "starting orders-db"}});
  auto ready = cli.Get("/readyz");
  CHECK(ready->status == 503);
  CHECK(json::parse(ready->body)["reason"] == "starting orders-db");
}

TEST_CASE("serves metrics as Prometheus text") {
  admin_fixture fx;
  auto res = fx.client().Get("/metrics");
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->get_header_value("Content-Type") == "text/plain; version=0.0.4");
  CHECK(contains(res->body, "custodian_pool_size{pool=\"orders-db\"} 3"));
}

TEST_CASE("serves the dashboard files with their types and security headers") {
  admin_fixture fx;
  auto cli = fx.client();
  for (auto [path, type] : {std::pair{"/", "text/html; charset=utf-8"},
                            std::pair{"/app.js", "text/javascript; charset=utf-8"},
                            std::pair{"/style.css", "text/css; charset=utf-8"},
                            std::pair{"/favicon.svg", "image/svg+xml"}}) {
    CAPTURE(path);
    auto res = cli.Get(path);
    REQUIRE(res);
    CHECK(res->status == 200);
    CHECK(res->get_header_value("Content-Type") == type);
    CHECK(contains(res->get_header_value("Content-Security-Policy"), "default-src 'self'"));
    CHECK(res->get_header_value("X-Content-Type-Options") == "nosniff");
    CHECK_FALSE(res->body.empty());
  }
  CHECK(contains(cli.Get("/")->body, "data-testid=\"event-feed\""));
}

TEST_CASE("answers every read with the node's JSON") {
  admin_fixture fx;
  auto cli = fx.client();
  struct read {
    std::string path, node_method;
    json args;
  };
  std::vector<read> reads = {
    {"/api/v1", "status", json()},
    {"/api/v1/pools", "pools", json()},
    {"/api/v1/pools/orders-db", "pool", {{"name", "orders-db"}}},
    {"/api/v1/pools/orders-db/config/history", "config_history", {{"name", "orders-db"}}},
    {"/api/v1/events?since=7&limit=20", "events", {{"since", 7}, {"limit", 20}}},
    {"/api/v1/events", "events", {{"since", 0}, {"limit", 500}}},
    {"/api/v1/audit?since=3&limit=2", "audit_log", {{"since", 3}, {"limit", 2}}},
    {"/api/v1/audit", "audit_log", {{"since", 0}, {"limit", 500}}},
    {"/api/v1/backup", "backup", json()},
  };
  for (const auto& r : reads) {
    CAPTURE(r.path);
    fx.node.reply(r.node_method, {{"answer", r.path}});
    auto res = cli.Get(r.path);
    REQUIRE(res);
    CHECK(res->status == 200);
    CHECK(res->get_header_value("Content-Type") == "application/json");
    CHECK(json::parse(res->body) == json{{"answer", r.path}});
    CHECK(fx.node.last(r.node_method).args == r.args);
  }
}

TEST_CASE("passes every mutation's body, path and requester to the node") {
  admin_fixture fx;
  auto cli = fx.client();
  for (const auto& m : mutations) {
    CAPTURE(m.method);
    CAPTURE(m.path);
    auto res = send(cli, m.method, m.path, m.body);
    REQUIRE(res);
    CHECK(res->status == (m.node_method == "create_pool" ? 201 : 200));
    auto call = fx.node.last(m.node_method);
    CHECK(call.who.rfind("api 127.0.0.1:", 0) == 0);
    if (!m.body.empty() && m.method != "DELETE") {
      auto sent = json::parse(m.body);
      auto args = call.args;
      CHECK((args.contains("body")     ? args["body"]
             : args.contains("config") ? args["config"]
             : args.contains("patch")  ? args["patch"]
                                       : args["backup"]) == sent);
    }
  }
  CHECK(fx.node.last("pool_action").args["action"] == "resize");
  CHECK(fx.node.last("resource_action").args ==
        json{{"id", "orders-db-1"}, {"action", "maintain"}, {"body", json::object()}});
  CHECK(fx.node.last("exec").args["pool"] == "orders-db");
}

TEST_CASE("deletes with force only when asked") {
  admin_fixture fx;
  auto cli = fx.client();
  CHECK(cli.Delete("/api/v1/pools/orders-db")->status == 200);
  CHECK(fx.node.last("delete_pool").args["force"] == false);
  CHECK(cli.Delete("/api/v1/pools/orders-db?force=true")->status == 200);
  CHECK(fx.node.last("delete_pool").args["force"] == true);
  auto bad = cli.Delete("/api/v1/pools/orders-db?force=maybe");
  CHECK(bad->status == 400);
  CHECK(error_of(bad)["path"] == "force");
}

TEST_CASE("names custodianctl in the requester when it is the user agent") {
  admin_fixture fx;
  auto cli = fx.client();
  cli.Post("/api/v1/pools/orders-db/drain", {{"User-Agent", "custodianctl/0.1.0"}}, "",
           "application/json");
  auto who = fx.node.last("pool_action").who;
  CHECK(who.rfind("api 127.0.0.1:", 0) == 0);
  CHECK(who.size() > std::string("api 127.0.0.1: custodianctl").size());
  CHECK(who.substr(who.size() - 13) == " custodianctl");
}

TEST_CASE("answers an api_error with its code, message, path and problems") {
  admin_fixture fx;
  fx.node.fail("create_pool",
               api_error(errc::bad_config, "2 problems", "pools[0]",
                         {{"max_size", "must be at least 1"}, {"driver", "unknown driver"}}));
  auto res = fx.client().Post("/api/v1/pools", R"({"name":"p"})", "application/json");
  REQUIRE(res);
  CHECK(res->status == 400);
  CHECK(error_of(res) == json{{"code", "bad_config"},
                              {"message", "2 problems"},
                              {"path", "pools[0]"},
                              {"problems",
                               {{{"path", "max_size"}, {"message", "must be at least 1"}},
                                {{"path", "driver"}, {"message", "unknown driver"}}}}});

  fx.node.fail("pool", api_error(errc::not_found, "no pool named nope", "name"));
  auto missing = fx.client().Get("/api/v1/pools/nope");
  CHECK(missing->status == 404);
  auto error = error_of(missing);
  CHECK(error == json{{"code", "not_found"}, {"message", "no pool named nope"}, {"path", "name"}});
  CHECK_FALSE(error.contains("problems"));
}

TEST_CASE("picks the status of a node's refusal by its error code") {
  struct row {
    std::optional<errc> code;
    int status;
    std::string name;
  };
  const std::vector<row> table = {
    {errc::not_found, 404, "not_found"},
    {errc::bad_config, 400, "bad_config"},
    {errc::bad_request, 400, "bad_request"},
    {errc::invalid_transition, 409, "invalid_transition"},
    {errc::conflict, 409, "conflict"},
    {errc::driver_error, 502, "driver_error"},
    {errc::timeout, 504, "timeout"},
    {errc::unavailable, 503, "unavailable"},
    {errc::dependency_unavailable, 503, "dependency_unavailable"},
    {errc::store_error, 503, "store_error"},
    {std::nullopt, 500, "internal"},
  };
  admin_fixture fx;
  for (const auto& r : table) {
    CAPTURE(r.name);
    fx.node.fail("pools", r.code ? api_error(*r.code, "refused") : api_error::internal("failed"));
    auto res = fx.client().Get("/api/v1/pools");
    REQUIRE(res);
    CHECK(res->status == r.status);
    CHECK(error_of(res)["code"] == r.name);
    CHECK(error_of(res)["message"] == (r.code ? "refused" : "failed"));
  }
}

TEST_CASE("answers 500 internal without the message of any other exception") {
  admin_fixture fx;
  fx.node.fail("pools", std::runtime_error("postgres://admin:hunter2@db failed"));
  auto res = fx.client().Get("/api/v1/pools");
  REQUIRE(res);
  CHECK(res->status == 500);
  CHECK(error_of(res)["code"] == "internal");
  CHECK_FALSE(contains(res->body, "hunter2"));
  for (const auto& [name, value] : res->headers)
    CHECK_FALSE(contains(value, "hunter2"));
  CHECK(fx.client().Get("/healthz")->status == 200);
}

TEST_CASE("answers 404 for an unknown route and 405 with Allow for a wrong method") {
  admin_fixture fx;
  auto cli = fx.client();
  for (const char* path : {"/nope", "/api/v2/pools", "/api/v1/pools/orders-db/explode",
                           "/api/v1/pools/orders-db/config"}) {
    CAPTURE(path);
    auto res = cli.Get(path);
    CHECK(res->status == 404);
    CHECK(error_of(res)["code"] == "not_found");
  }
  auto put = cli.Put("/api/v1/pools", "{}", "application/json");
  CHECK(put->status == 405);
  CHECK(error_of(put)["code"] == "method_not_allowed");
  CHECK(put->get_header_value("Allow") == "GET, POST");
  auto get = cli.Get("/api/v1/pools/orders-db/drain");
  CHECK(get->status == 405);
  CHECK(get->get_header_value("Allow") == "POST");
  auto options = cli.Options("/api/v1/pools/orders-db");
  CHECK(options->status == 405);
  CHECK(options->get_header_value("Allow") == "GET, PATCH, DELETE");
}

TEST_CASE("refuses a body that is not JSON or not an object with bad_json") {
  admin_fixture fx;
  auto cli = fx.client();
  auto broken = cli.Post("/api/v1/pools", R"({"name": nope})", "application/json");
  CHECK(broken->status == 400);
  auto error = error_of(broken);
  CHECK(error["code"] == "bad_json");
  CHECK(error["message"] == "request body is not valid JSON (at byte 11)");
  for (const char* body : {"[1,2]", "42", "", "   "}) {
    CAPTURE(body);
    auto res = cli.Patch("/api/v1/pools/orders-db", body, "application/json");
    CHECK(res->status == 400);
    CHECK(error_of(res)["code"] == "bad_json");
  }
  // An action without a body gets an empty object.
  CHECK(cli.Post("/api/v1/pools/orders-db/drain", "", "application/json")->status == 200);
  CHECK(fx.node.last("pool_action").args["body"] == json::object());
  CHECK(fx.node.calls().size() == 1);
}

TEST_CASE("refuses a body over the limit with 413 whether sized or chunked") {
  admin_server_config config;
  config.max_body_bytes = 1024;
  admin_fixture fx(config);
  auto cli = fx.client();
  std::string big = "{\"pad\":\"" + std::string(2000, 'x') + "\"}";
  auto sized = cli.Post("/api/v1/pools", big, "application/json");
  REQUIRE(sized);
  CHECK(sized->status == 413);
  CHECK(error_of(sized)["code"] == "payload_too_large");
  auto chunked = cli.Post(
    "/api/v1/pools",
    [&](std::size_t offset, httplib::DataSink& sink) {
      if (offset < big.size())
        sink.write(big.data() + offset, std::min<std::size_t>(256, big.size() - offset));
      else
        sink.done();
      return true;
    },
    "application/json");
  REQUIRE(chunked);
  CHECK(chunked->status == 413);
  CHECK(cli.Post("/api/v1/pools", R"({"name":"p"})", "application/json")->status == 201);
  CHECK(fx.node.calls().size() == 1);
}

TEST_CASE("refuses malformed path segments and query values with 400 naming them") {
  admin_fixture fx;
  auto cli = fx.client();
  struct bad {
    std::string method, path, where;
  };
  std::vector<bad> cases = {
    {"GET", "/api/v1/pools/bad%20name", "name"},
    {"GET", "/api/v1/pools/%zz", "name"},
    {"GET", "/api/v1/pools/" + std::string(65, 'a'), "name"},
    {"POST", "/api/v1/resources/a%00b/release", "id"},
    {"GET", "/api/v1/events?since=abc", "since"},
    {"GET", "/api/v1/events?since=-1", "since"},
    {"GET", "/api/v1/events?limit=0", "limit"},
    {"GET", "/api/v1/events?limit=10001", "limit"},
    {"GET", "/api/v1/events/stream?since=1x", "since"},
    {"GET", "/api/v1/audit?since=x", "since"},
    {"GET", "/api/v1/audit?limit=0", "limit"},
    {"GET", "/api/v1/audit?limit=10001", "limit"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.path);
    auto res = send(cli, c.method, c.path);
    REQUIRE(res);
    CHECK(res->status == 400);
    auto error = error_of(res);
    CHECK(error["code"] == "bad_request");
    CHECK(error["path"] == c.where);
  }
  CHECK(cli.Get("/api/v1/pools/" + std::string(64, 'a'))->status == 200);
  CHECK(fx.node.calls().size() == 1);
}

TEST_CASE("survives malformed raw requests and still answers healthz") {
  admin_fixture fx;
  std::vector<std::string> garbage = {
    "HELLO\r\n\r\n",
    "GET\r\n\r\n",
    "GET / HTTP/9.9\r\n\r\n",
    "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
    "GET /healthz HTTP/1.1\r\nX-Big: " + std::string(100000, 'a') + "\r\n\r\n",
    "GET /" + std::string(20000, 'a') + " HTTP/1.1\r\n\r\n",
    "GET /api/v1/pools/%zz%%%u12 HTTP/1.1\r\nHost: x\r\n\r\n",
    "POST /api/v1/pools HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n{}",
    "POST /api/v1/pools HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}",
    "POST /api/v1/pools HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    "PATCH /api/v1/pools/p HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{",
    std::string("GET /healthz HTTP/1.1\r\nHost: \0\0\0\r\n\r\n", 37),
  };
  for (const auto& request : garbage) {
    auto answer = fx.raw(request);
    if (!answer.empty())
      CHECK(answer.rfind("HTTP/1.1 ", 0) == 0);
  }
  auto res = fx.client().Get("/healthz");
  REQUIRE(res);
  CHECK(res->status == 200);
  for (const auto& call : fx.node.calls())
    CHECK(call.method != "create_pool");
}

TEST_CASE("requires the bearer token on every mutating route") {
  admin_server_config config;
  config.token = "s3cret-token";
  admin_fixture fx(config);
  auto cli = fx.client();
  for (const auto& m : mutations) {
    CAPTURE(m.method);
    CAPTURE(m.path);
    auto missing = send(cli, m.method, m.path, m.body);
    REQUIRE(missing);
    CHECK(missing->status == 401);
    CHECK(missing->get_header_value("WWW-Authenticate") == "Bearer");
    auto error = error_of(missing);
    CHECK(error["code"] == "unauthorized");
    auto wrong = send(cli, m.method, m.path, m.body, bearer("s3cret-tokem"));
    CHECK(wrong->status == 401);
    CHECK(error_of(wrong) == error);
    CHECK(
      send(cli, m.method, m.path, m.body, {{"Authorization", "Basic czNjcmV0LXRva2Vu"}})->status ==
      401);
    CHECK_FALSE(contains(wrong->body, "s3cret"));
    CHECK(fx.node.calls().empty());
    auto right = send(cli, m.method, m.path, m.body, bearer("s3cret-token"));
    CHECK(right->status < 300);
    CHECK(fx.node.calls().size() == 1);
    fx.node.forget_calls();
  }
  // Reads are open.
  for (const char* path : {"/api/v1", "/api/v1/pools", "/metrics", "/", "/healthz"})
    CHECK(cli.Get(path)->status == 200);
}

TEST_CASE("protects reads too when protect_reads is set except probes and the dashboard") {
  admin_server_config config;
  config.token = "s3cret-token";
  config.protect_reads = true;
  admin_fixture fx(config);
  auto cli = fx.client();
  for (const char* path : {"/api/v1", "/api/v1/pools", "/api/v1/events", "/metrics",
                           "/api/v1/backup", "/api/v1/audit", "/api/v1/events/stream"}) {
    CAPTURE(path);
    CHECK(cli.Get(path)->status == 401);
  }
  CHECK(cli.Get("/api/v1/pools", bearer("s3cret-token"))->status == 200);
  for (const char* path : {"/healthz", "/readyz", "/", "/app.js", "/style.css"})
    CHECK(cli.Get(path)->status == 200);
}

TEST_CASE("streams events to a follower in order with their ids") {
  admin_server_config config;
  config.sse_keepalive = std::chrono::seconds(1);
  admin_fixture fx(config);
  sse_reader reader(fx, "/api/v1/events/stream");
  REQUIRE(fx.node.wait_for_followers(1));
  REQUIRE(reader.wait([](const std::string& t) { return contains(t, "retry: 2000\n\n"); }));
  CHECK(reader.status() == 200);
  CHECK(reader.content_type() == "text/event-stream");
  fx.node.emit("resource_state", "orders-db", "orders-db-1", "idle", "in_use");
  fx.node.emit("resource_state", "orders-db", "orders-db-1", "in_use", "idle");
  fx.node.emit("pool_state", "cache", "", "active", "draining");
  REQUIRE(reader.wait([](const std::string& t) { return contains(t, "id: 3\n"); }));
  auto text = reader.text();
  auto first = text.find("id: 1\ndata: {\"seq\":1,");
  auto second = text.find("id: 2\ndata: {\"seq\":2,");
  auto third = text.find("id: 3\ndata: {\"seq\":3,");
  CHECK(first != std::string::npos);
  CHECK(first < second);
  CHECK(second < third);
  CHECK(contains(text, "\"to\":\"draining\",\"detail\":{}}\n\n"));
  fx.server->stop();
  CHECK(reader.wait_ended());
}

TEST_CASE("replays what follows Last-Event-ID or since and sends keepalives when idle") {
  admin_server_config config;
  config.sse_keepalive = std::chrono::seconds(1);
  admin_fixture fx(config);
  for (int i = 0; i < 4; ++i)
    fx.node.emit("resource_state", "orders-db", "orders-db-1", "idle", "in_use");
  {
    sse_reader reader(fx, "/api/v1/events/stream", {{"Last-Event-ID", "2"}});
    REQUIRE(reader.wait([](const std::string& t) { return contains(t, "id: 4\n"); }));
    CHECK_FALSE(contains(reader.text(), "id: 2\n"));
    CHECK(contains(reader.text(), "id: 3\n"));
    REQUIRE(reader.wait([](const std::string& t) { return contains(t, ": keepalive\n\n"); }));
  }
  CHECK(fx.node.last("follow_events").args["since"] == 2);
  {
    sse_reader reader(fx, "/api/v1/events/stream?since=3", {{"Last-Event-ID", "1"}});
    REQUIRE(reader.wait([](const std::string& t) { return contains(t, "id: 4\n"); }));
    CHECK_FALSE(contains(reader.text(), "id: 3\n"));
  }
  fx.server->stop();
}

TEST_CASE("answers 503 to event streams beyond the cap") {
  admin_server_config config;
  config.threads = 3;
  config.sse_keepalive = std::chrono::seconds(1);
  admin_fixture fx(config);
  sse_reader one(fx, "/api/v1/events/stream");
  sse_reader two(fx, "/api/v1/events/stream");
  REQUIRE(fx.node.wait_for_followers(2));
  auto third = fx.client().Get("/api/v1/events/stream");
  REQUIRE(third);
  CHECK(third->status == 503);
  CHECK(error_of(third)["code"] == "unavailable");
  CHECK(fx.client().Get("/healthz")->status == 200);
  fx.server->stop();
}

TEST_CASE("ends open streams promptly when the server stops") {
  admin_fixture fx; // the default 15 s keepalive: stop must not wait for it
  sse_reader reader(fx, "/api/v1/events/stream");
  REQUIRE(fx.node.wait_for_followers(1));
  auto before = std::chrono::steady_clock::now();
  fx.server->stop();
  CHECK(std::chrono::steady_clock::now() - before < std::chrono::seconds(5));
  CHECK(reader.wait_ended());
  CHECK(fx.node.followers() == 0);
  CHECK_FALSE(fx.client().Get("/healthz"));
}
