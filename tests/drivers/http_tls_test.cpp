// The http driver over TLS against a local https server with a self-signed
// certificate: ca_file makes it trusted; without it, or with a file that is not
// there, the connect fails as a broken connection naming TLS.

#include <cstdlib>
#include <httplib.h>
#include <memory>
#include <string>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "drivers/http/http_driver.hpp"
#include "tests/drivers/http_test_server.hpp"
#include "tests/support/node_process.hpp"

using namespace custodian::drivers;
using namespace custodian::test;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

/// A self-signed certificate for 127.0.0.1 and its key, made by the openssl
/// command in `dir`.
struct self_signed {
  std::string cert;
  std::string key;

  explicit self_signed(const temp_dir& dir) : cert(dir.file("cert.pem")), key(dir.file("key.pem")) {
    auto command = "timeout 30 openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
                   "-nodes -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 "
                   "-keyout " +
                   key + " -out " + cert + " 2>/dev/null";
    REQUIRE(std::system(command.c_str()) == 0);
  }
};

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("http: https is verified against ca_file - an unverified server is a broken connection") {
  temp_dir dir;
  self_signed certificate{dir};
  auto tls =
    std::make_unique<httplib::SSLServer>(certificate.cert.c_str(), certificate.key.c_str());
  REQUIRE(tls->is_valid());
  http_test_server server{"127.0.0.1", std::move(tls)};

  auto trusted = http_driver_for(server.url("https"),
                                 {{"allow_private_networks", true}, {"ca_file", certificate.cert}});
  auto c = trusted->connect("r1", 5s);
  REQUIRE_MESSAGE(c, (c ? "" : c.error().message));
  auto res = c.value()->exec({{"path", "/echo"}}, 5s);
  REQUIRE(res);
  CHECK(res.value()["status"] == 200);
  CHECK(c.value()->close(1s));

  auto untrusted = http_driver_for(server.url("https"), {{"allow_private_networks", true}});
  auto refused = untrusted->connect("r1", 5s);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == driver_errc::broken);
  CHECK(has(refused.error().message, "TLS: GET https://127.0.0.1:"));

  auto missing = http_driver_for(
    server.url("https"), {{"allow_private_networks", true}, {"ca_file", dir.file("missing.pem")}});
  auto no_ca = missing->connect("r1", 5s);
  REQUIRE_FALSE(no_ca);
  CHECK(no_ca.error().code == driver_errc::broken);
  CHECK(has(no_ca.error().message, "TLS: "));

  CHECK(server.hits("/echo") == 1);
  CHECK(nothing_leaked(*trusted));
  CHECK(nothing_leaked(*untrusted));
  CHECK(nothing_leaked(*missing));
}
