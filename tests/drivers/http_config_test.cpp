// The http driver's driver_config (validated whole, defaults from the schema),
// its exec requests, and the body codec, without a server.

#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "drivers/driver_catalog.hpp"
#include "drivers/http/http_driver.hpp"
#include "drivers/http/http_request.hpp"

using namespace custodian;
using namespace custodian::drivers;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

/// "path: message" of every problem, for readable checks.
std::vector<std::string> problems(const json& cfg) {
  std::vector<std::string> out;
  for (const auto& p : http_driver::problems_of(cfg))
    out.push_back(p.path + ": " + p.message);
  return out;
}

bool mentions(const std::vector<std::string>& all, const std::string& part) {
  for (const auto& p : all)
    if (p.find(part) != std::string::npos)
      return true;
  return false;
}

} // namespace

TEST_CASE("http: a driver_config is validated whole, every problem at its path") {
  CHECK(problems(json::object()) == std::vector<std::string>{"base_url: required"});
  CHECK(problems(json::array()) == std::vector<std::string>{": must be an object"});
  auto all =
    problems({{"base_url", "ftp://example.com/"},
              {"max_redirect", 2},
              {"timeout_ms", 0},
              {"health_path", "health"},
              {"headers", {{"Authorization", "Bearer x"}, {"Bad Name", "v"}, {"X-Ok", "a\nb"}}},
              {"bearer_token_env", "TOKEN"},
              {"bearer_token_file", "/run/token"},
              {"allow_private_addresses", {"10.0.0.0/8", "10.0.0.0/99"}},
              {"max_response_bytes", 0},
              {"allow_private_networks", "yes"}});
  CHECK(mentions(all, "base_url: must be an http or https URL"));
  CHECK(mentions(all, "max_redirect: unknown key (did you mean \"max_redirects\"?)"));
  CHECK(mentions(all, "timeout_ms: must be ≥ 1"));
  CHECK(mentions(all, "health_path: must start with a single \"/\""));
  CHECK(mentions(all, "headers.Authorization: use bearer_token_env or bearer_token_file"));
  CHECK(mentions(all, "headers.Bad Name: must be a header name"));
  CHECK(mentions(all, "headers.X-Ok: must not contain line breaks"));
  CHECK(mentions(all, "bearer_token_file: only one of bearer_token_env, bearer_token_file"));
  CHECK(mentions(all, "allow_private_addresses[1]: must be an IP address or a CIDR range"));
  CHECK(mentions(all, "max_response_bytes: must be ≥ 1"));
  CHECK(mentions(all, "allow_private_networks: must be true or false"));
  CHECK(all.size() == 11);

  CHECK(mentions(problems({{"base_url", "http://user:pw@example.com/"}}),
                 "base_url: must not hold credentials"));
  CHECK(mentions(problems({{"base_url", "http://example.com/?a=b"}}),
                 "base_url: must not have a query"));
  CHECK(mentions(problems({{"base_url", "example.com"}}), "base_url: must be an http or https"));
  CHECK(mentions(problems({{"base_url", "http://x"}, {"bearer_token", "inline"}}),
                 "bearer_token: unknown key"));
  CHECK(problems({{"base_url", "https://api.example.com/v1/"},
                  {"headers", {{"Accept", "application/json"}}},
                  {"bearer_token_env", "API_TOKEN"},
                  {"ca_file", "/etc/ssl/certs/ca-certificates.crt"}})
          .empty());
}

TEST_CASE("http: the defaults come from the schema and base_url is curl's normal form") {
  auto s = read_http_settings({{"base_url", "HTTP://Example.com:8080/api/"}});
  CHECK(s.base_url == "http://Example.com:8080/api");
  CHECK(s.health_path == "/");
  CHECK(s.timeout == 30'000ms);
  CHECK(s.connect_timeout == 5'000ms);
  CHECK(s.max_redirects == 3);
  CHECK(s.max_response_bytes == 8 << 20);
  CHECK(s.headers.empty());
  CHECK(s.bearer_token.empty());
  CHECK(s.ca_file.empty());
  CHECK_FALSE(s.policy.refusal(*ip_address::parse("127.0.0.1")).empty());
  CHECK(read_http_settings({{"base_url", "http://2130706433/"}}).base_url == "http://127.0.0.1");
  auto token = read_http_settings({{"base_url", "http://x"}, {"bearer_token_env", "API_TOKEN"}});
  CHECK(token.bearer_token.describe() == "environment variable API_TOKEN");
}

TEST_CASE(
  "http: a literal non-public base_url is refused at validation, a name waits for connect") {
  for (const char* url : {"http://10.1.2.3/", "http://169.254.169.254/", "http://[fd00::1]/",
                          "http://0.0.0.0:80/", "http://[::]/", "http://100.64.0.1/"}) {
    CAPTURE(url);
    auto all = problems({{"base_url", url}});
    REQUIRE(all.size() == 1);
    CHECK(mentions(all, "base_url: refused to connect to "));
    CHECK(problems({{"base_url", url}, {"allow_private_networks", true}}).empty());
  }
  CHECK(problems({{"base_url", "http://10.1.2.3/"}, {"allow_private_addresses", {"10.1.0.0/16"}}})
          .empty());
  CHECK_FALSE(
    problems({{"base_url", "http://10.2.0.1/"}, {"allow_private_addresses", {"10.1.0.0/16"}}})
      .empty());
  CHECK(problems({{"base_url", "http://internal.example/"}}).empty());
  CHECK(problems({{"base_url", "http://8.8.8.8/"}}).empty());
}

TEST_CASE("http: the catalog knows the http driver") {
  auto catalog = builtin_drivers();
  auto entry = catalog.find("http");
  REQUIRE(entry);
  CHECK_FALSE(entry->validate(json::object()).empty());
  auto d = entry->make({{"base_url", "http://example.com"}});
  CHECK(d->name() == "http");
}

TEST_CASE("http: exec requests are read with their defaults and every problem") {
  auto plain = http::parse_request(json::object());
  REQUIRE(plain);
  CHECK(plain.value().method == "GET");
  CHECK(plain.value().path == "/");
  CHECK_FALSE(plain.value().body);

  auto full = http::parse_request(
    {{"method", "POST"}, {"path", "/x?y=1"}, {"headers", {{"A", "b"}}}, {"body", {1, 2}}});
  REQUIRE(full);
  CHECK(full.value().body == "[1,2]");
  CHECK(full.value().body_type == "application/json");
  CHECK(full.value().headers == http::header_list{{"A", "b"}});
  CHECK(http::parse_request({{"body", "text"}}).value().body_type.starts_with("text/plain"));
  CHECK(http::parse_request({{"body_base64", "AAE="}}).value().body == std::string("\0\1", 2));
  CHECK_FALSE(http::parse_request({{"body", nullptr}}).value().body);

  auto bad = http::parse_request({{"method", "CONNECT"}, {"heders", {}}, {"body_base64", "!!"}});
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == driver_errc::rejected);
  CHECK(bad.error().message.find("method: CONNECT is not sent") != std::string::npos);
  CHECK(bad.error().message.find("heders: unknown key (did you mean \"headers\"?)") !=
        std::string::npos);
  CHECK(bad.error().message.find("body_base64: must be standard base64") != std::string::npos);

  CHECK(http::path_problem("/a/./b") != "");
  CHECK(http::path_problem("/a/..") != "");
  CHECK(http::path_problem("/a/..b/c.d?x=../y") == "");
  CHECK(http::path_problem("/") == "");
}

TEST_CASE("http: headers merge by name whatever their case") {
  auto merged =
    http::merge_headers({{"Accept", "a"}, {"X-One", "1"}}, {{"accept", "b"}, {"X-Two", "2"}});
  CHECK(merged == http::header_list{{"Accept", "b"}, {"X-One", "1"}, {"X-Two", "2"}});
}
