// The mongodb driver: its config, unreachable servers (refused, silent) ended
// within the connect timeout, and libmongoc's real client against a stand-in
// server on 127.0.0.1 (tests/drivers/mongodb_fake_server.hpp) for the error
// classes, deadlines and leaks. With CUSTODIAN_MONGODB_URI set (a mongodb:// URI
// without a password; CUSTODIAN_MONGODB_USERNAME and CUSTODIAN_MONGODB_PASSWORD
// when it needs them), the last tests run against that real server; they are
// skipped otherwise. No test asserts how fast anything is.

#include <chrono>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>

#include <caf/scoped_actor.hpp>
#include <doctest/doctest.h>

#include "drivers/driver_catalog.hpp"
#include "drivers/mongodb/mongodb_driver.hpp"
#include "messages/errors.hpp"
#include "runtime/runtime.hpp"
#include "tests/drivers/mongodb_fake_server.hpp"
#include "tests/support/node_process.hpp"
#include "tests/support/pool_stats_of.hpp"
#include "tests/support/silent_listener.hpp"

using namespace custodian;
using namespace std::chrono_literals;
using custodian::test::silent_listener;
using drivers::driver_errc;
using drivers::mongodb_connection;
using drivers::mongodb_driver;
using json = nlohmann::json;

namespace {

using clock_type = std::chrono::steady_clock;

/// Slack on top of a timeout for a call to count as ended by it (2 shared cores).
constexpr auto margin = 3s;

std::string loopback_uri(int port) {
  return "mongodb://127.0.0.1:" + std::to_string(port);
}

std::shared_ptr<drivers::connection> connect(mongodb_driver& d,
                                             std::chrono::milliseconds timeout = 5s) {
  auto c = d.connect("docs-1", timeout);
  REQUIRE_MESSAGE(c, c.error().message);
  return c.value();
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

driver_errc code_of(const drivers::driver_result<json>& r) {
  REQUIRE(!r);
  return r.error().code;
}

using test::stats_of;

uint64_t failed_probes(const pool_stats& s) {
  uint64_t n = 0;
  for (std::size_t i = 0; i < s.probes.outcomes.size(); ++i)
    if (i != drivers::outcome_ok && i != drivers::outcome_degraded)
      n += s.probes.outcomes[i];
  return n;
}

const char* real_server_uri() {
  return std::getenv("CUSTODIAN_MONGODB_URI");
}

} // namespace

TEST_CASE("mongodb: driver_config problems have paths relative to it") {
  using problems = std::vector<config_problem>;
  auto problems_of = [](const json& cfg) { return mongodb_driver::problems_of(cfg); };
  CHECK(problems_of(json::object()) == problems{{"uri", "required"}});
  CHECK(problems_of({{"uri", "mongodb://h"}, {"databse", "x"}}) ==
        problems{{"databse", "unknown key (did you mean \"database\"?)"}});
  CHECK(problems_of({{"uri", "mongodb://h"}, {"connect_timeout_ms", 0}}) ==
        problems{{"connect_timeout_ms", "must be ≥ 1"}});
  auto not_uri = problems_of({{"uri", "postgres://h"}});
  REQUIRE(not_uri.size() == 1);
  CHECK(not_uri[0].path == "uri");
  CHECK(contains(not_uri[0].message, "not a MongoDB URI"));
  CHECK(problems_of({{"uri", "mongodb://app:s3cr3t@h/db"}}) ==
        problems{{"uri", "must not contain a password (it would show wherever the config does): "
                         "use password_env or password_file"}});
  CHECK(problems_of({{"uri", "mongodb+srv://cluster.example.com"}}).size() == 1);
  CHECK(problems_of({{"uri", "mongodb://h/?connectTimeoutMS=100&serverSelectionTryOnce=false"}}) ==
        problems{{"uri", "option connecttimeoutms is set by connect_timeout_ms"},
                 {"uri", "option serverselectiontryonce is set by server_selection_timeout_ms"}});
  CHECK(problems_of({{"uri", "mongodb://app@h"}, {"username", "other"}}) ==
        problems{{"username", "the uri names a user already"}});
  CHECK(problems_of({{"uri", "mongodb://h"}, {"password_env", "PW"}}) ==
        problems{{"password_env", "needs a user: set username (or a user in the uri)"}});
  CHECK(problems_of({{"uri", "mongodb://h"},
                     {"username", "u"},
                     {"password_env", "PW"},
                     {"password_file", "/run/pw"}}) ==
        problems{{"password_file", "only one of password_env, password_file may be set"}});
  CHECK(problems_of({{"uri", "mongodb://app@h"},
                     {"password_file", "/run/pw"},
                     {"database", "orders"},
                     {"server_selection_timeout_ms", 2000}})
          .empty());
  CHECK_THROWS_AS(mongodb_driver::from_config({{"uri", ""}}), std::invalid_argument);

  auto catalog = drivers::builtin_drivers();
  auto* mongodb = catalog.find("mongodb");
  REQUIRE(mongodb);
  CHECK(mongodb->validate({{"uri", "mongodb://127.0.0.1:27017"}}).empty());
  CHECK(mongodb->make({{"uri", "mongodb://127.0.0.1:27017"}})->name() == "mongodb");
}

TEST_CASE("mongodb: a connect where nothing listens is refused within the connect timeout") {
  auto port = test::free_port();
  // Trying once, or waiting for a server longer than the connect may take.
  for (int selection_ms : {0, 30'000}) {
    CAPTURE(selection_ms);
    auto d = mongodb_driver::from_config(
      {{"uri", loopback_uri(port)}, {"server_selection_timeout_ms", selection_ms}});
    auto start = clock_type::now();
    auto c = d->connect("docs-1", 3s);
    REQUIRE(!c);
    CHECK(clock_type::now() - start < 3s + margin);
    CHECK_MESSAGE(c.error().code == driver_errc::refused, c.error().message);
    CHECK(contains(c.error().message, "Connection refused"));
  }
}

TEST_CASE("mongodb: a connect to a listener that never speaks times out within the connect "
          "timeout, not libmongoc's 30 s") {
  silent_listener silent;
  auto d = mongodb_driver::from_config({{"uri", loopback_uri(silent.port())}});
  auto start = clock_type::now();
  auto c = d->connect("docs-1", 1500ms);
  REQUIRE(!c);
  CHECK(clock_type::now() - start < 1500ms + margin);
  CHECK_MESSAGE(c.error().code == driver_errc::timeout, c.error().message);

  // TLS to a server that speaks none: the handshake ends by the deadline too.
  test::fake_mongod plain;
  auto tls = mongodb_driver::from_config(
    {{"uri", plain.uri() + "/?tls=true&tlsAllowInvalidCertificates=true"}});
  start = clock_type::now();
  auto t = tls->connect("docs-1", 1500ms);
  REQUIRE(!t);
  CHECK(clock_type::now() - start < 1500ms + margin);
  CHECK(breaks_connection(t.error()));
  CHECK(test::eventually([&] { return plain.open_connections() == 0; }));
}

TEST_CASE("mongodb: exec runs a command on the database and returns the server's reply") {
  test::fake_mongod server;
  auto d = mongodb_driver::from_config({{"uri", server.uri()}, {"database", "orders"}});
  auto conn = connect(*d);
  // The JSON of a request keeps no key order: the command's name goes first.
  auto reply =
    conn->exec({{"command",
                 {{"insert", "items"},
                  {"documents", {{{"_id", {{"$oid", "0123456789ab0123456789ab"}}}, {"n", 1}}}},
                  {"bypassDocumentValidation", false}}}},
               5s);
  REQUIRE_MESSAGE(reply, reply.error().message);
  CHECK(reply.value()["ok"] == 1.0);
  CHECK(reply.value()["command"]["$db"] == "orders");
  CHECK(reply.value()["command"]["insert"] == "items");
  CHECK(reply.value()["command"]["documents"][0]["_id"] ==
        json{{"$oid", "0123456789ab0123456789ab"}});
  // Extended JSON text keeps its order exactly (a compound sort, say).
  auto text = conn->exec(
    {{"command", R"({"echo": 1, "sort": {"b": 1, "a": -1}})"}, {"database", "audit"}}, 5s);
  REQUIRE_MESSAGE(text, text.error().message);
  CHECK(text.value()["command"]["$db"] == "audit");
  auto wire = text.value()["text"].get<std::string>();
  CHECK_MESSAGE(wire.find("\"b\"") < wire.find("\"a\""), wire);
  auto probe = conn->ping(2s);
  REQUIRE_MESSAGE(probe, probe.error().message);
  CHECK(conn->alive());
  CHECK(dynamic_cast<mongodb_connection&>(*conn).native() != nullptr);
  CHECK(conn->close(2s));
  CHECK(test::eventually([&] { return server.open_connections() == 0; }));
  CHECK(d->metrics().figures(drivers::call_metrics::call::exec).outcomes[drivers::outcome_ok] == 2);
}

TEST_CASE("mongodb: a request error is rejected and leaves the connection usable") {
  test::fake_mongod server;
  auto d = mongodb_driver::from_config({{"uri", server.uri()}});
  auto conn = connect(*d);
  auto rejected = [&](const json& request, const std::string& part) {
    auto r = conn->exec(request, 5s);
    CHECK(code_of(r) == driver_errc::rejected);
    CHECK_MESSAGE(contains(r.error().message, part), r.error().message);
  };
  rejected({{"command", {{"nosuch", 1}}}}, "no such command: 'nosuch'");
  rejected({{"cmd", {{"ping", 1}}}}, "must be an object");
  rejected({{"command", {{"ping", 1}}}, {"databse", "x"}}, "did you mean \"database\"");
  rejected({{"command", "{not json"}}, "not extended JSON");
  rejected({{"command", json::object()}}, "non-empty");
  rejected({{"command", {{"ping", 1}}}, {"database", ""}}, "database");
  CHECK(conn->alive());
  CHECK(conn->exec({{"command", {{"ping", 1}}}}, 5s));
  CHECK(conn->close(2s));
}

TEST_CASE("mongodb: a standby and a server shutting down are told apart from request errors") {
  test::fake_mongod server;
  auto d = mongodb_driver::from_config({{"uri", server.uri()}});
  auto conn = connect(*d);
  CHECK(code_of(conn->exec({{"command", {{"notPrimary", 1}}}}, 5s)) == driver_errc::read_only);
  auto other = connect(*d);
  CHECK(code_of(other->exec({{"command", {{"shuttingDown", 1}}}}, 5s)) == driver_errc::unavailable);
  conn->close(2s);
  other->close(2s);
  CHECK(test::eventually([&] { return server.open_connections() == 0; }));
}

TEST_CASE("mongodb: a command past its deadline ends by it and breaks the connection") {
  test::fake_mongod server;
  auto d = mongodb_driver::from_config({{"uri", server.uri()}});
  auto conn = connect(*d);
  auto start = clock_type::now();
  auto hung = conn->exec({{"command", {{"hang", 1}}}}, 500ms);
  CHECK(clock_type::now() - start < 500ms + margin);
  CHECK_MESSAGE(code_of(hung) == driver_errc::timeout, hung.error().message);
  CHECK(breaks_connection(hung.error()));
  start = clock_type::now();
  CHECK(conn->close(1s));
  CHECK(clock_type::now() - start < 1s + margin);
  CHECK(test::eventually([&] { return server.open_connections() == 0; }));
}

TEST_CASE("mongodb: a connection the server drops is not alive, and its next command is broken") {
  test::fake_mongod server;
  auto d = mongodb_driver::from_config({{"uri", server.uri()}});
  auto conn = connect(*d);
  CHECK(conn->alive());
  server.drop_connections();
  CHECK(test::eventually([&] { return !conn->alive(); }));
  auto dropped = connect(*d);
  CHECK(code_of(dropped->exec({{"command", {{"dropConnection", 1}}}}, 5s)) == driver_errc::broken);
  conn->close(2s);
  dropped->close(2s);
  CHECK(test::eventually([&] { return server.open_connections() == 0; }));
}

TEST_CASE("mongodb: the password is read at each connect, a wrong one is the server's "
          "authentication error, and its value appears in no error") {
  test::fake_mongod server;
  constexpr const char* variable = "CUSTODIAN_TEST_MONGODB_PASSWORD";
  ::unsetenv(variable);
  json cfg{{"uri", server.uri()}, {"username", "app"}, {"password_env", variable}};
  auto d = mongodb_driver::from_config(cfg);
  auto unset = d->connect("docs-1", 3s);
  REQUIRE(!unset);
  CHECK(unset.error().code == driver_errc::auth);
  CHECK(unset.error().message == "environment variable " + std::string{variable} + " is not set");
  CHECK(server.accepted() == 0); // no secret, no connection

  ::setenv(variable, "s3cr3t-value", 1);
  auto start = clock_type::now();
  auto wrong = d->connect("docs-1", 3s);
  REQUIRE(!wrong);
  CHECK(clock_type::now() - start < 3s + margin);
  CHECK_MESSAGE(wrong.error().code == driver_errc::auth, wrong.error().message);
  CHECK(contains(wrong.error().message, "Authentication failed."));
  CHECK(!contains(wrong.error().message, "s3cr3t"));
  CHECK(server.auth_attempts() >= 1);
  ::unsetenv(variable);
  CHECK(test::eventually([&] { return server.open_connections() == 0; }));
}

TEST_CASE("mongodb: a runtime pool runs commands through leases, fails fast while the server is "
          "down and recovers when it is back") {
  auto server = std::make_unique<test::fake_mongod>();
  const int port = server->port();
  auto d = mongodb_driver::from_config({{"uri", server->uri()}});
  {
    runtime rt;
    pool_config pc;
    pc.name = "docs";
    pc.driver = d;
    pc.min_idle = 1;
    pc.max_size = 2;
    health_checker_config health;
    health.policy.interval = 200ms;
    health.policy.unhealthy_threshold = 1;
    health.policy.healthy_threshold = 1;
    health.timeout = 1s;
    pc.health = health;
    pc.resource.init.timeout = 2s;
    pc.resource.operation_timeout = 3s;
    pc.resource.cleanup_timeout = 1s;
    rt.add_pool(pc);
    {
      auto lease = rt.acquire("docs", 5s);
      CHECK(lease.connection_as<mongodb_connection>().native() != nullptr);
      CHECK(lease.exec({{"command", {{"ping", 1}}}}, 3s)["ok"] == 1.0);
    }

    server.reset(); // the server goes away
    CHECK(test::eventually([&] { return failed_probes(stats_of(rt, "docs")) > 0; }, 20s));
    auto start = clock_type::now();
    try {
      auto lease = rt.acquire("docs", 2s);
      lease.exec({{"command", {{"ping", 1}}}}, 3s);
      FAIL("a command worked while the server is down");
    } catch (const lease_error& e) {
      MESSAGE("while down: " << std::string{e.what()});
    }
    CHECK(clock_type::now() - start < 2s + 3s + margin);

    auto passed_before = stats_of(rt, "docs").probes.outcomes[drivers::outcome_ok];
    server = std::make_unique<test::fake_mongod>(port);
    CHECK(test::eventually(
      [&] {
        try {
          auto lease = rt.acquire("docs", 2s);
          return lease.exec({{"command", {{"ping", 1}}}}, 3s)["ok"] == 1.0;
        } catch (const lease_error&) {
          return false;
        }
      },
      30s));
    CHECK(test::eventually([&] {
      auto s = stats_of(rt, "docs");
      return s.idle >= 1 && s.probes.outcomes[drivers::outcome_ok] > passed_before;
    }));
    CHECK(server->open_connections() <= 2); // never more than max_size
    rt.shutdown();
  }
  CHECK(test::eventually([&] { return server->open_connections() == 0; }));
}

TEST_CASE("mongodb: against CUSTODIAN_MONGODB_URI, commands run through a pool") {
  if (!real_server_uri()) {
    MESSAGE("skipped: CUSTODIAN_MONGODB_URI not set"); // CTest reports it skipped
    return;
  }
  json cfg{{"uri", real_server_uri()}, {"database", "custodian_test"}};
  if (const char* user = std::getenv("CUSTODIAN_MONGODB_USERNAME"))
    cfg["username"] = user;
  if (std::getenv("CUSTODIAN_MONGODB_PASSWORD"))
    cfg["password_env"] = "CUSTODIAN_MONGODB_PASSWORD";
  auto d = mongodb_driver::from_config(cfg);
  runtime rt;
  pool_config pc;
  pc.name = "real";
  pc.driver = d;
  pc.min_idle = 1;
  pc.max_size = 2;
  rt.add_pool(pc);
  {
    auto lease = rt.acquire("real", 5s);
    CHECK(lease.exec({{"command", {{"ping", 1}}}}, 5s)["ok"] == 1.0);
    try {
      lease.exec({{"command", {{"drop", "items"}}}}, 5s);
    } catch (const lease_error&) { // not there yet: a request error, the lease stays
    }
  }
  auto lease = rt.acquire("real", 5s);
  auto inserted =
    lease.exec({{"command", R"({"insert": "items", "documents": [{"_id": 1, "name": "a"}]})"}}, 5s);
  CHECK(inserted["n"] == 1);
  auto found = lease.exec({{"command", {{"find", "items"}, {"filter", {{"_id", 1}}}}}}, 5s);
  CHECK(found["cursor"]["firstBatch"][0]["name"] == "a");
  CHECK_THROWS_AS(lease.exec({{"command", {{"nosuchcommand", 1}}}}, 5s), lease_error);
  lease = rt.acquire("real", 5s);
  lease.exec({{"command", {{"drop", "items"}}}}, 5s);
  lease.release();
  rt.shutdown();
}
