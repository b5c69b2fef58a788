// The http driver against a real local server (cpp-httplib on 127.0.0.1): the
// requests it sends and the answers it returns, its bounds (timeout, body size,
// redirects), its token handling, its error classes, and that every connection
// and socket it opens is closed.

#include <chrono>
#include <curl/curl.h>
#include <filesystem>
#include <string>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "drivers/http/http_driver.hpp"
#include "drivers/text_codec.hpp"
#include "tests/drivers/http_test_server.hpp"
#include "tests/support/node_process.hpp"

using namespace custodian::drivers;
using namespace custodian::test;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

/// The local server is on loopback: these tests allow it.
const json local{{"allow_private_networks", true}};

std::shared_ptr<connection> open(http_driver& d, millis timeout = 5s) {
  auto c = d.connect("r1", timeout);
  REQUIRE_MESSAGE(c, (c ? "" : c.error().message));
  return c.value();
}

json exec(connection& c, const json& request, millis timeout = 5s) {
  auto res = c.exec(request, timeout);
  REQUIRE_MESSAGE(res, (res ? "" : res.error().message));
  return res.value();
}

driver_error exec_error(connection& c, const json& request, millis timeout = 5s) {
  auto res = c.exec(request, timeout);
  REQUIRE_FALSE(res);
  return res.error();
}

millis since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<millis>(std::chrono::steady_clock::now() - start);
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("http: connect makes one health request and execs reuse the kept-alive connection") {
  http_test_server server;
  auto d = http_driver_for(server.url(), local);
  {
    auto c = open(*d);
    CHECK(server.hits("/health") == 1);
    for (int i = 0; i < 5; ++i)
      CHECK(exec(*c, {{"path", "/echo"}})["status"] == 200);
    CHECK(server.hits("/echo") == 5);
    CHECK(server.connections_seen() == 1);
    CHECK(c->ping(2s));
    CHECK(server.hits("/health") == 2);
    CHECK(c->close(1s));
  }
  CHECK(d->counts().connections_opened == 1);
  CHECK(d->counts().sockets_opened == 1);
  CHECK(nothing_leaked(*d));
}

TEST_CASE("http: exec sends method, path, query, headers and body, and returns the answer") {
  http_test_server server;
  auto d =
    http_driver_for(server.url() + "/", {{"allow_private_networks", true},
                                         {"headers", {{"X-Default", "d"}, {"X-Both", "d"}}}});
  auto c = open(*d);

  auto posted = exec(*c, {{"method", "POST"},
                          {"path", "/echo?limit=10&from=a%20b"},
                          {"headers", {{"x-both", "request"}}},
                          {"body", {{"order", 7}}}});
  CHECK(posted["status"] == 200);
  const auto& seen = posted["body"]; // the echo is JSON, so it comes back parsed
  CHECK(seen["method"] == "POST");
  CHECK(seen["path"] == "/echo");
  CHECK(seen["query"] == json{{"limit", "10"}, {"from", "a b"}});
  CHECK(seen["headers"]["X-Default"] == "d");
  // The request's header replaces the default of the same name, whatever the case.
  CHECK(seen["headers"]["X-Both"] == "request");
  CHECK_FALSE(seen["headers"].contains("x-both"));
  CHECK(seen["headers"]["Content-Type"] == "application/json");
  CHECK(seen["headers"]["User-Agent"] == "custodian");
  CHECK(json::parse(seen["body"].get<std::string>()) == json{{"order", 7}});
  CHECK(posted["headers"]["content-type"] == "application/json");
  CHECK(posted["headers"]["x-reply"] == "yes");
  CHECK(posted["headers"]["x-twice"] == "one, two");

  auto put = exec(*c, {{"method", "PUT"}, {"path", "/echo"}, {"body", "plain words"}});
  CHECK(put["body"]["method"] == "PUT");
  CHECK(put["body"]["body"] == "plain words");
  CHECK(put["body"]["headers"]["Content-Type"] == "text/plain; charset=utf-8");

  auto raw = exec(*c, {{"method", "PATCH"},
                       {"path", "/echo"},
                       {"headers", {{"Content-Type", "application/x-thing"}}},
                       {"body_base64", encode_base64("bytes")}});
  CHECK(raw["body"]["method"] == "PATCH");
  CHECK(raw["body"]["body"] == "bytes");
  CHECK(raw["body"]["headers"]["Content-Type"] == "application/x-thing");

  CHECK(exec(*c, {{"method", "DELETE"}, {"path", "/echo"}})["body"]["method"] == "DELETE");
  CHECK(exec(*c, {{"method", "OPTIONS"}, {"path", "/echo"}})["body"]["method"] == "OPTIONS");
  auto head = exec(*c, {{"method", "HEAD"}, {"path", "/echo"}});
  CHECK(head["status"] == 200);
  CHECK(head["body"] == "");
  // GET is the default method and "/" the default path.
  CHECK(exec(*c, json::object())["status"] == 404);
  CHECK(c->close(1s));
  CHECK(nothing_leaked(*d));
}

TEST_CASE("http: bodies come back parsed when JSON, as text when UTF-8, else as base64") {
  http_test_server server;
  auto d = http_driver_for(server.url(), local);
  auto c = open(*d);
  auto parsed = exec(*c, {{"path", "/json"}});
  CHECK(parsed["body"] == json{{"answer", 42}, {"list", {1, "two"}}});
  CHECK(exec(*c, {{"path", "/not-json"}})["body"] == "{not json");
  CHECK(exec(*c, {{"path", "/bytes/3"}})["body"] == "xxx");
  auto binary = exec(*c, {{"path", "/binary"}});
  CHECK_FALSE(binary.contains("body"));
  auto bytes = decode_base64(binary["body_base64"].get<std::string>());
  REQUIRE(bytes);
  REQUIRE(bytes->size() == 256);
  CHECK(static_cast<unsigned char>((*bytes)[255]) == 255);
  CHECK(c->close(1s));
}

TEST_CASE("http: 4xx and 5xx are statuses for exec and failures of the health check") {
  http_test_server server;
  auto d = http_driver_for(server.url(), local);
  auto c = open(*d);
  CHECK(exec(*c, {{"path", "/status/404"}})["status"] == 404);
  auto failed = exec(*c, {{"path", "/status/503"}});
  CHECK(failed["status"] == 503);
  CHECK(failed["body"] == "status 503");

  server.set_health_status(503);
  auto unavailable = c->ping(2s);
  REQUIRE_FALSE(unavailable);
  CHECK(unavailable.error().code == driver_errc::unavailable);
  CHECK(has(unavailable.error().message, "answered 503: not serving now"));
  server.set_health_status(404);
  CHECK(c->ping(2s).error().code == driver_errc::rejected);
  server.set_health_status(401);
  CHECK(c->ping(2s).error().code == driver_errc::auth);
  server.set_health_status(204);
  CHECK(c->ping(2s));

  // The same verdicts fail a connect.
  server.set_health_status(502);
  auto refused = d->connect("r2", 2s);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == driver_errc::unavailable);
  CHECK(c->close(1s));
  CHECK(nothing_leaked(*d));
}

TEST_CASE("http: a bearer token from the environment is sent, read at every request, never shown") {
  http_test_server server;
  server.set_expected_token("first-secret-value");
  scoped_env token{"CUSTODIAN_HTTP_TEST_TOKEN", "first-secret-value"};
  auto d = http_driver_for(server.url(), {{"allow_private_networks", true},
                                          {"health_path", "/auth"},
                                          {"bearer_token_env", "CUSTODIAN_HTTP_TEST_TOKEN"}});
  auto c = open(*d);
  CHECK(exec(*c, {{"path", "/auth"}})["status"] == 200);
  // A server that echoes the request does not hand the token to the caller.
  auto echoed = exec(*c, {{"path", "/echo"}});
  CHECK(echoed["body"]["headers"]["Authorization"] == "Bearer <redacted>");
  CHECK_FALSE(has(echoed.dump(), "first-secret-value"));

  // A redirect to another server (another port) does not take the token along.
  http_test_server other;
  auto redirected = exec(*c, {{"path", "/to?url=" + other.url() + "/echo"}});
  CHECK(other.hits("/echo") == 1);
  CHECK_FALSE(redirected["body"]["headers"].contains("Authorization"));

  // Rotated: the next request carries the new token, on the same connection.
  server.set_expected_token("second-secret-value");
  CHECK(exec(*c, {{"path", "/auth"}})["status"] == 401);
  ::setenv("CUSTODIAN_HTTP_TEST_TOKEN", "second-secret-value", 1);
  CHECK(exec(*c, {{"path", "/auth"}})["status"] == 200);

  // A wrong token fails connect with the server's own words, not the token.
  ::setenv("CUSTODIAN_HTTP_TEST_TOKEN", "wrong-secret-value", 1);
  auto start = std::chrono::steady_clock::now();
  auto denied = d->connect("r2", 2s);
  REQUIRE_FALSE(denied);
  CHECK(since(start) < 2s + 3s);
  CHECK(denied.error().code == driver_errc::auth);
  CHECK(has(denied.error().message, "answered 401: invalid token"));
  CHECK_FALSE(has(denied.error().message, "secret-value"));

  ::unsetenv("CUSTODIAN_HTTP_TEST_TOKEN");
  auto unset = c->exec({{"path", "/auth"}}, 2s);
  REQUIRE_FALSE(unset);
  CHECK(unset.error().code == driver_errc::auth);
  CHECK(has(unset.error().message, "environment variable CUSTODIAN_HTTP_TEST_TOKEN"));
  CHECK(c->close(1s));
  CHECK(nothing_leaked(*d));
}

TEST_CASE("http: a bearer token file is read at every request") {
  http_test_server server;
  temp_dir dir;
  auto path = dir.file("token");
  write_file(path, "from-the-file\n");
  server.set_expected_token("from-the-file");
  auto d = http_driver_for(
    server.url(),
    {{"allow_private_networks", true}, {"health_path", "/auth"}, {"bearer_token_file", path}});
  auto c = open(*d);
  write_file(path, "rotated-in-the-file\n");
  server.set_expected_token("rotated-in-the-file");
  CHECK(exec(*c, {{"path", "/auth"}})["status"] == 200);
  std::filesystem::remove(path);
  auto missing = c->exec({{"path", "/auth"}}, 2s);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == driver_errc::auth);
  CHECK(has(missing.error().message, "file " + path));
  CHECK_FALSE(has(missing.error().message, "rotated-in"));
  CHECK(c->close(1s));
}

TEST_CASE("http: a request that outlasts its timeout fails with timeout within the bound") {
  http_test_server server;
  auto d = http_driver_for(server.url(), {{"allow_private_networks", true}, {"timeout_ms", 400}});
  auto c = open(*d);
  // The call's own timeout.
  auto start = std::chrono::steady_clock::now();
  auto err = exec_error(*c, {{"path", "/slow"}}, 300ms);
  CHECK(err.code == driver_errc::timeout);
  CHECK(since(start) < 300ms + 3s);
  // timeout_ms caps a longer call timeout.
  start = std::chrono::steady_clock::now();
  CHECK(exec_error(*c, {{"path", "/slow"}}, 60s).code == driver_errc::timeout);
  CHECK(since(start) < 400ms + 3s);
  // connect's health request is bounded by the connect timeout.
  auto slow =
    http_driver_for(server.url(), {{"allow_private_networks", true}, {"health_path", "/slow"}});
  start = std::chrono::steady_clock::now();
  auto refused = slow->connect("r2", 300ms);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == driver_errc::timeout);
  CHECK(since(start) < 300ms + 3s);
  server.release_waiters();
  CHECK(c->close(1s));
  CHECK(nothing_leaked(*d));
  CHECK(nothing_leaked(*slow));
}

TEST_CASE("http: max_response_bytes stops a larger body, with or without a Content-Length") {
  http_test_server server;
  auto d =
    http_driver_for(server.url(), {{"allow_private_networks", true}, {"max_response_bytes", 1000}});
  auto c = open(*d);
  CHECK(exec(*c, {{"path", "/bytes/1000"}})["body"].get<std::string>().size() == 1000);
  for (const char* path : {"/bytes/5000", "/chunked/5000"}) {
    CAPTURE(path);
    auto err = exec_error(*c, {{"path", path}});
    CHECK(err.code == driver_errc::rejected);
    CHECK(has(err.message, "larger than max_response_bytes (1000)"));
  }
  // The connection still serves.
  CHECK(exec(*c, {{"path", "/chunked/999"}})["body"].get<std::string>().size() == 999);
  CHECK(c->close(1s));
  CHECK(nothing_leaked(*d));
}

TEST_CASE("http: max_redirects bounds a chain of redirects - 0 returns the redirect itself") {
  http_test_server server;
  auto d = http_driver_for(server.url(), local);
  auto c = open(*d);
  auto arrived = exec(*c, {{"path", "/redirect/3"}});
  CHECK(arrived["status"] == 200);
  CHECK(arrived["body"] == "arrived");
  auto err = exec_error(*c, {{"path", "/redirect/4"}});
  CHECK(err.code == driver_errc::rejected);
  CHECK(has(err.message, "max_redirects is 3"));
  // Only http and https are followed.
  for (const char* target : {"ftp://127.0.0.1/x", "file:///etc/passwd", "gopher://127.0.0.1/"}) {
    CAPTURE(target);
    CHECK(exec_error(*c, {{"path", std::string{"/to?url="} + target}}).code ==
          driver_errc::rejected);
  }
  CHECK(exec(*c, {{"path", "/echo"}})["status"] == 200);

  auto none =
    http_driver_for(server.url(), {{"allow_private_networks", true}, {"max_redirects", 0}});
  auto c0 = open(*none);
  auto redirect = exec(*c0, {{"path", "/redirect/1"}});
  CHECK(redirect["status"] == 302);
  CHECK(redirect["headers"]["location"] == "/redirect/0");
  CHECK(c->close(1s));
  CHECK(c0->close(1s));
  CHECK(nothing_leaked(*d));
  CHECK(nothing_leaked(*none));
}

TEST_CASE("http: an invalid exec request is rejected naming every problem, the connection serves") {
  http_test_server server;
  auto d = http_driver_for(server.url(), local);
  auto c = open(*d);
  auto err = exec_error(*c, {{"method", "get"}, {"pth", "/x"}, {"headers", {{"X", "a\r\nB: c"}}}});
  CHECK(err.code == driver_errc::rejected);
  CHECK(has(err.message, "method: must be an HTTP method"));
  CHECK(has(err.message, "pth: unknown key (did you mean \"path\"?)"));
  CHECK(has(err.message, "headers.X: must not contain line breaks"));
  for (const char* path :
       {"//evil.example/x", "http://evil.example/", "x", "/a/../../admin", "/a b", "/x#frag"}) {
    CAPTURE(path);
    CHECK(exec_error(*c, {{"path", path}}).code == driver_errc::rejected);
  }
  CHECK(exec_error(*c, {{"method", "TRACE"}}).code == driver_errc::rejected);
  CHECK(exec_error(*c, {{"body", "a"}, {"body_base64", "YQ=="}}).code == driver_errc::rejected);
  CHECK(exec_error(*c, {{"headers", {{"Content-Length", "5"}}}}).code == driver_errc::rejected);
  CHECK(exec_error(*c, json::array()).code == driver_errc::rejected);
  CHECK(server.hits("/echo") == 0);
  CHECK(exec(*c, {{"path", "/echo"}})["status"] == 200);
  CHECK(c->close(1s));
}

TEST_CASE("http: a server that is not there fails connect with refused, at once") {
  auto d = http_driver_for("http://127.0.0.1:" + std::to_string(free_port()), local);
  auto start = std::chrono::steady_clock::now();
  auto refused = d->connect("r1", 2s);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == driver_errc::refused);
  CHECK(since(start) < 2s + 3s);
  CHECK(nothing_leaked(*d));

  // A server that goes away fails the next exec with a connection error.
  auto server = std::make_unique<http_test_server>();
  auto gone = http_driver_for(server->url(), local);
  auto c = open(*gone);
  server.reset();
  auto err = exec_error(*c, {{"path", "/echo"}}, 2s);
  CHECK(breaks_connection(err));
  CHECK(err.code == driver_errc::refused);
  CHECK(c->close(1s));
  CHECK(nothing_leaked(*gone));
}

TEST_CASE("http: proxy environment variables are ignored") {
  // A proxy that is not there: a request sent to it would fail.
  auto nowhere = "http://127.0.0.1:" + std::to_string(free_port());
  scoped_env a{"http_proxy", nowhere}, b{"HTTP_PROXY", nowhere}, c{"https_proxy", nowhere},
    e{"HTTPS_PROXY", nowhere}, f{"all_proxy", nowhere}, g{"ALL_PROXY", nowhere}, h{"no_proxy", ""},
    i{"NO_PROXY", ""};
  http_test_server server;
  auto d = http_driver_for(server.url(), local);
  auto conn = open(*d);
  CHECK(exec(*conn, {{"path", "/echo"}})["status"] == 200);
  CHECK(server.hits("/echo") == 1);
  CHECK(conn->close(1s));
}

TEST_CASE("http: native() is the configured CURL handle - after it the connection is reset fresh") {
  http_test_server server;
  auto d = http_driver_for(server.url(), local);
  auto conn = open(*d);
  auto& http = dynamic_cast<http_connection&>(*conn);
  CHECK_FALSE(conn->needs_reset());

  CURL* handle = http.native();
  REQUIRE(handle);
  CHECK(conn->needs_reset());
  // The holder's own request, with the driver's bounds and guard in place.
  std::string body;
  auto url = server.url() + "/echo";
  curl_easy_setopt(handle, CURLOPT_URL, url.c_str());
  curl_easy_setopt(handle, CURLOPT_USERAGENT, "the-holder");
  curl_easy_setopt(handle, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(
    handle, CURLOPT_WRITEFUNCTION, +[](char* data, size_t size, size_t n, void* out) {
      static_cast<std::string*>(out)->append(data, size * n);
      return size * n;
    });
  REQUIRE(curl_easy_perform(handle) == CURLE_OK);
  CHECK(json::parse(body)["headers"]["User-Agent"] == "the-holder");

  CHECK(conn->reset(1s));
  CHECK_FALSE(conn->needs_reset());
  auto after = exec(*conn, {{"path", "/echo"}});
  CHECK(after["body"]["headers"]["User-Agent"] == "custodian");
  CHECK(d->counts().connections_opened == 2); // reset made a fresh handle
  CHECK(conn->close(1s));
  CHECK(nothing_leaked(*d));
}
