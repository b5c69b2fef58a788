// The http driver's SSRF guard through curl against local servers: every
// spelling of a loopback base_url is refused (at validation when it is a literal,
// at connect once a name resolves) naming the address, a redirect to a refused
// address is stopped at its socket, and with the flag every one of them works.

#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "drivers/http/http_driver.hpp"
#include "tests/drivers/http_test_server.hpp"

using namespace custodian::drivers;
using namespace custodian::test;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// A base_url spelling of a loopback server and the address it reaches.
struct spelling {
  std::string url;
  std::string address;
};

std::vector<spelling> loopback_spellings(const http_test_server& v4, const http_test_server& v6) {
  auto port = ":" + std::to_string(v4.port());
  return {
    {"http://127.0.0.1" + port, "127.0.0.1"},
    {"http://[::1]:" + std::to_string(v6.port()), "::1"},
    {"http://[::ffff:127.0.0.1]" + port, "::ffff:127.0.0.1"},
    {"http://2130706433" + port, "127.0.0.1"},
    {"http://0x7f000001" + port, "127.0.0.1"},
    {"http://0177.0.0.1" + port, "127.0.0.1"},
  };
}

/// Settings for `url` without going through validation (which refuses literal
/// loopback addresses up front), as an embedding application may build them.
http_settings unchecked(const std::string& url, json extra = json::object()) {
  json cfg{{"base_url", url}, {"health_path", "/health"}};
  cfg.update(extra);
  return read_http_settings(cfg);
}

} // namespace

TEST_CASE("http: every spelling of a loopback base_url is refused naming the address") {
  http_test_server v4;
  http_test_server v6{"::1"};
  for (const auto& s : loopback_spellings(v4, v6)) {
    CAPTURE(s.url);
    // A literal is refused by validation already.
    auto problems = http_driver::problems_of({{"base_url", s.url}});
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].path == "base_url");
    CHECK(has(problems[0].message, "refused to connect to " + s.address + ": loopback address"));

    // And by the socket guard, whoever built the settings.
    http_driver d{unchecked(s.url)};
    auto refused = d.connect("r1", 2s);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == driver_errc::rejected);
    CHECK(has(refused.error().message, "refused to connect to " + s.address + ": loopback"));
    CHECK(has(refused.error().message, "allow_private_networks"));
    CHECK(d.counts().sockets_opened == 0);
    CHECK(d.counts().addresses_refused >= 1);
  }
  CHECK(v4.hits("/health") == 0);
  CHECK(v6.hits("/health") == 0);
}

TEST_CASE("http: with allow_private_networks every loopback spelling reaches the server") {
  http_test_server v4;
  http_test_server v6{"::1"};
  int expected_v4 = 0;
  for (const auto& s : loopback_spellings(v4, v6)) {
    CAPTURE(s.url);
    auto d = http_driver_for(s.url, {{"allow_private_networks", true}});
    auto c = d->connect("r1", 2s);
    REQUIRE_MESSAGE(c, (c ? "" : c.error().message));
    auto res = c.value()->exec({{"path", "/echo"}}, 2s);
    REQUIRE(res);
    CHECK(res.value()["status"] == 200);
    CHECK(c.value()->close(1s));
    CHECK(nothing_leaked(*d));
    if (s.address != "::1")
      ++expected_v4;
  }
  CHECK(v4.hits("/echo") == expected_v4);
  CHECK(v6.hits("/echo") == 1);
}

TEST_CASE("http: a name is judged once resolved: localhost is refused at connect") {
  http_test_server server;
  auto url = "http://localhost:" + std::to_string(server.port());
  CHECK(http_driver::problems_of({{"base_url", url}}).empty());
  auto d = http_driver_for(url);
  auto refused = d->connect("r1", 2s);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == driver_errc::rejected);
  CHECK(has(refused.error().message, ": loopback address"));
  CHECK(server.hits("/health") == 0);

  auto allowed = http_driver_for(url, {{"allow_private_addresses", {"127.0.0.1", "::1"}}});
  auto c = allowed->connect("r1", 2s);
  REQUIRE_MESSAGE(c, (c ? "" : c.error().message));
  CHECK(c.value()->close(1s));
  CHECK(server.hits("/health") == 1);
}

TEST_CASE("http: a redirect to a refused address is stopped at its socket, naming it") {
  // The first hop is allowed by address; the targets are other loopback addresses.
  http_test_server first;
  http_test_server target{"::1"};
  auto d = http_driver_for(first.url(), {{"allow_private_addresses", {"127.0.0.1"}}});
  auto c = d->connect("r1", 2s);
  REQUIRE_MESSAGE(c, (c ? "" : c.error().message));
  auto& conn = *c.value();
  auto target_port = ":" + std::to_string(target.port());
  const std::vector<spelling> targets{
    {"http://[::1]" + target_port + "/echo", "::1"},
    {"http://0x7f000002" + target_port + "/echo", "127.0.0.2"},
    {"http://2130706434" + target_port + "/echo", "127.0.0.2"},
    {"http://[::ffff:127.0.0.2]" + target_port + "/echo", "::ffff:127.0.0.2"},
    {"http://169.254.169.254/latest/meta-data/", "169.254.169.254"},
    {"http://10.0.0.1/", "10.0.0.1"},
  };
  for (const auto& t : targets) {
    CAPTURE(t.url);
    auto res = conn.exec({{"path", "/to?url=" + t.url}}, 2s);
    REQUIRE_FALSE(res);
    CHECK(res.error().code == driver_errc::rejected);
    CHECK(has(res.error().message, "refused to connect to " + t.address));
    // A request error: the connection still serves.
    CHECK(conn.exec({{"path", "/echo"}}, 2s));
  }
  CHECK(target.hits("/echo") == 0);
  CHECK(conn.close(1s));

  // With the flag the same redirect arrives.
  auto open = http_driver_for(first.url(), {{"allow_private_networks", true}});
  auto c2 = open->connect("r1", 2s);
  REQUIRE(c2);
  auto res = c2.value()->exec({{"path", "/to?url=" + targets[0].url}}, 2s);
  REQUIRE_MESSAGE(res, (res ? "" : res.error().message));
  CHECK(res.value()["status"] == 200);
  CHECK(target.hits("/echo") == 1);
  CHECK(c2.value()->close(1s));
  CHECK(nothing_leaked(*d));
  CHECK(nothing_leaked(*open));
}

TEST_CASE("http: the guard also holds for a request made through native()") {
  http_test_server first;
  http_test_server other{"::1"};
  auto d = http_driver_for(first.url(), {{"allow_private_addresses", {"127.0.0.1"}}});
  auto c = d->connect("r1", 2s);
  REQUIRE(c);
  CURL* handle = dynamic_cast<http_connection&>(*c.value()).native();
  auto url = other.url() + "/echo";
  curl_easy_setopt(handle, CURLOPT_URL, url.c_str());
  CHECK(curl_easy_perform(handle) == CURLE_COULDNT_CONNECT);
  CHECK(other.hits("/echo") == 0);
  CHECK(c.value()->close(1s));
  CHECK(nothing_leaked(*d));
}
