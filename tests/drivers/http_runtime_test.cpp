// The http driver under the runtime: a pool built from a config's JSON (the
// catalog's "http" entry), leases that exec and that hand out the CURL handle,
// health probes that reach the server, and nothing left open after shutdown.

#include <curl/curl.h>
#include <string>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "drivers/http/http_driver.hpp"
#include "runtime/config/config.hpp"
#include "runtime/config/pool_from_json.hpp"
#include "runtime/runtime.hpp"
#include "tests/drivers/http_test_server.hpp"
#include "tests/support/node_process.hpp"

using namespace custodian;
using namespace custodian::test;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

/// A pool of http clients of `server`, from its config JSON as a node reads it.
pool_config http_pool(const http_test_server& server, uint32_t min_idle, uint32_t max_size) {
  json pool{{"name", "api"},
            {"driver", "http"},
            {"driver_config",
             {{"base_url", server.url()},
              {"health_path", "/health"},
              {"allow_private_addresses", {"127.0.0.1"}}}},
            {"min_idle", min_idle},
            {"max_size", max_size},
            {"health", {{"interval_ms", 50}, {"timeout_ms", 2000}}}};
  auto catalog = drivers::builtin_drivers();
  auto problems = validate_pool_config(pool, "", catalog);
  REQUIRE_MESSAGE(problems.empty(), (problems.empty() ? "" : to_string(problems.front())));
  return make_pool_config(canonical_pool_config(pool), catalog);
}

std::shared_ptr<drivers::http_driver> http_of(const pool_config& cfg) {
  auto d = std::dynamic_pointer_cast<drivers::http_driver>(cfg.driver);
  REQUIRE(d);
  return d;
}

} // namespace

TEST_CASE("http: a pool of http clients serves execs through leases and probes its clients") {
  http_test_server server;
  auto cfg = http_pool(server, 2, 3);
  auto d = http_of(cfg);
  {
    runtime rt;
    rt.add_pool(cfg);
    {
      auto lease = rt.acquire("api", 5s);
      auto echoed = lease.exec({{"method", "POST"}, {"path", "/echo"}, {"body", "hello"}}, 2s);
      CHECK(echoed["status"] == 200);
      CHECK(echoed["body"]["body"] == "hello");
      // A status is the caller's to judge: the lease stays held.
      CHECK(lease.exec({{"path", "/status/500"}}, 2s)["status"] == 500);
      CHECK(lease);
    }
    // Both warm clients are probed, over and over, through the server.
    CHECK(eventually([&] { return server.hits("/health") >= 2 + 10; }, http_test_bound));
    CHECK(d->metrics().figures(drivers::call_metrics::call::ping).outcomes[drivers::outcome_ok] >=
          10);
    CHECK(server.hits("/echo") == 1);
    rt.shutdown();
  }
  CHECK(d->counts().connections_opened >= 2);
  CHECK(nothing_leaked(*d));
}

TEST_CASE("http: a lease hands out the CURL handle - the holder's settings stay with it") {
  http_test_server server;
  auto cfg = http_pool(server, 1, 1);
  auto d = http_of(cfg);
  {
    runtime rt;
    rt.add_pool(cfg);
    {
      auto lease = rt.acquire("api", 5s);
      CURL* handle = lease.connection_as<drivers::http_connection>().native();
      std::string body;
      auto url = server.url() + "/echo";
      curl_easy_setopt(handle, CURLOPT_URL, url.c_str());
      curl_easy_setopt(handle, CURLOPT_USERAGENT, "the-holder");
      curl_easy_setopt(handle, CURLOPT_COOKIEFILE, ""); // the cookie engine, on for good
      curl_easy_setopt(handle, CURLOPT_WRITEDATA, &body);
      curl_easy_setopt(
        handle, CURLOPT_WRITEFUNCTION, +[](char* data, size_t size, size_t n, void* out) {
          static_cast<std::string*>(out)->append(data, size * n);
          return size * n;
        });
      REQUIRE(curl_easy_perform(handle) == CURLE_OK);
      CHECK(json::parse(body)["headers"]["User-Agent"] == "the-holder");
    }
    // The one resource came back with state its holder left: the pool reset it,
    // which gives it a fresh handle, before the next holder gets it.
    auto lease = rt.acquire("api", 5s);
    CHECK(lease.exec({{"path", "/echo"}}, 2s)["body"]["headers"]["User-Agent"] == "custodian");
    CHECK(d->counts().connections_opened == 2);
    lease.release();
    rt.shutdown();
  }
  CHECK(nothing_leaked(*d));
}

TEST_CASE("http: conf/http.json is a valid node config") {
  auto loaded =
    load_node_config(CUSTODIAN_SOURCE_DIR "/conf/http.json", drivers::builtin_drivers());
  REQUIRE_MESSAGE(loaded.problems.empty(),
                  (loaded.problems.empty() ? "" : to_string(loaded.problems.front())));
  REQUIRE(loaded.config);
  CHECK(loaded.config->pools.at(0)["driver"] == "http");
}
