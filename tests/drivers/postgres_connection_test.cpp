// The postgres driver's connections against a real server (tests/support/pg_server.hpp):
// values by type, request errors that leave the connection usable, the server's
// own authentication message (never the password), deadlines that cancel the
// query on the server, connections the server ends, reset and needs_reset, and
// every connection closed.

#include <chrono>
#include <sys/socket.h>

#include <doctest/doctest.h>

#include "drivers/postgres/postgres_driver.hpp"
#include "tests/support/pg_server.hpp"

using namespace custodian;
using namespace custodian::drivers;
using namespace std::chrono_literals;
using json = nlohmann::json;
using test::pg_server;

namespace {

/// Generous: the machine is shared; only "within the deadline plus this" is asserted.
constexpr auto margin = 2000ms;

std::shared_ptr<connection> connect(const json& cfg, millis timeout = 5s) {
  auto conn = postgres_driver::from_config(cfg)->connect("pg-1", timeout);
  REQUIRE_MESSAGE(conn.ok(), (conn.ok() ? "" : conn.error().message));
  return conn.value();
}

json exec(connection& conn, const std::string& sql, json params = nullptr) {
  json request{{"sql", sql}};
  if (!params.is_null())
    request["params"] = std::move(params);
  auto res = conn.exec(request, 5s);
  REQUIRE_MESSAGE(res.ok(), (res.ok() ? "" : res.error().message));
  return res.value();
}

driver_error exec_error(connection& conn, const std::string& sql, millis timeout = 5s) {
  auto res = conn.exec(json{{"sql", sql}}, timeout);
  REQUIRE_FALSE(res.ok());
  return res.error();
}

/// Whether the server still runs a query whose text contains `part`.
bool server_runs(pg_server& server, const std::string& part) {
  return std::stoi(server
                     .admin_query("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
                                  "AND query LIKE '%' || $1 || '%' AND application_name <> $2",
                                  {part, pg_server::admin_name})
                     .at(0)
                     .at(0)) > 0;
}

json with(json cfg, const json& more) {
  cfg.update(more);
  return cfg;
}

double elapsed_ms(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - since)
    .count();
}

} // namespace

TEST_CASE("postgres: parameters and values round-trip typed by column") {
  pg_server server;
  auto conn = connect(server.driver_config());
  auto out =
    exec(*conn,
         "SELECT $1::int4 AS i, $2::int8 AS big, $3::text AS t, $4::bool AS b, "
         "$5::float8 AS f, $6::numeric AS n, $7::jsonb AS j, $8::text AS nothing, "
         "'\\x00ff41'::bytea AS bytes, 'NaN'::float8 AS nan, "
         "'2024-05-01 12:00:00.25+00'::timestamptz AS ts, '2024-05-01'::date AS d, "
         "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid AS id",
         json::array({42, 9007199254740993LL, "héllo 'quoted'", true, 1.5,
                      "123456789012345678901234567890.5", json{{"k", json::array({1})}}, nullptr}));
  CHECK(out["command"] == "SELECT");
  CHECK(out["rows_affected"] == 1);
  REQUIRE(out["columns"].size() == 13);
  CHECK(out["columns"][0] == json{{"name", "i"}, {"type", "int4"}});
  CHECK(out["columns"][6] == json{{"name", "j"}, {"type", "jsonb"}});
  const auto& row = out["rows"].at(0);
  CHECK(row[0] == 42);
  CHECK(row[1] == 9007199254740993LL);
  CHECK(row[2] == "héllo 'quoted'");
  CHECK(row[3] == true);
  CHECK(row[4] == 1.5);
  CHECK(row[5] == "123456789012345678901234567890.5");
  CHECK(row[6] == json{{"k", json::array({1})}});
  CHECK(row[7].is_null());
  CHECK(row[8] == "AP9B");
  CHECK(row[9] == "NaN");
  CHECK(row[10] == "2024-05-01T12:00:00.25Z");
  CHECK(row[11] == "2024-05-01");
  CHECK(row[12] == "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  // Without parameters several statements go at once; the last one answers.
  auto last = exec(*conn, "CREATE TEMP TABLE t (id int); INSERT INTO t VALUES (1), (2)");
  CHECK(last["command"] == "INSERT");
  CHECK(last["rows_affected"] == 2);
  CHECK(last["rows"] == json::array());
  CHECK(conn->close(1s).ok());
}

TEST_CASE("postgres: a SQL error is rejected with its SQLSTATE and the connection stays usable") {
  pg_server server;
  auto conn = connect(server.driver_config());
  auto err = exec_error(*conn, "SELEC 1");
  CHECK(err.code == driver_errc::rejected);
  CHECK(err.message.find("ERROR 42601: syntax error at or near \"SELEC\"") == 0);
  CHECK_FALSE(breaks_connection(err));
  CHECK(exec(*conn, "SELECT 2 AS two")["rows"] == json::array({json::array({2})}));
  // A bad request shape is refused before anything is sent.
  auto bad = conn->exec(json{{"sq", "SELECT 1"}}, 1s);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == driver_errc::rejected);
  CHECK(bad.error().message.find("sql: required") != std::string::npos);
  // COPY TO STDOUT is refused, the connection still usable.
  auto copy = exec_error(*conn, "COPY (SELECT 1) TO STDOUT");
  CHECK(copy.code == driver_errc::rejected);
  CHECK(exec(*conn, "SELECT 3")["rows"][0][0] == 3);
  CHECK(conn->ping(1s).ok());
  CHECK(conn->close(1s).ok());
}

TEST_CASE("postgres: a wrong password is the server's message, with neither password in it") {
  pg_server server;
  auto wrong = "wrong-" + server.password();
  auto cfg = server.driver_config();
  cfg.erase("password_file");
  cfg["password"] = wrong;
  auto start = std::chrono::steady_clock::now();
  auto conn = postgres_driver::from_config(cfg)->connect("pg-1", 3s);
  MESSAGE("a wrong password failed after " << elapsed_ms(start) << " ms");
  CHECK(elapsed_ms(start) < 3000 + margin.count());
  REQUIRE_FALSE(conn.ok());
  const auto& err = conn.error();
  CHECK(err.code == driver_errc::auth);
  CHECK(err.message.find("28P01: password authentication failed for user \"custodian\"") !=
        std::string::npos);
  CHECK(err.message.find(server.password()) == std::string::npos);
  CHECK(err.message.find(wrong) == std::string::npos);
  // A secret that cannot be read names its source, not a value.
  cfg.erase("password");
  cfg["password_env"] = "CUSTODIAN_TEST_PG_PASSWORD_UNSET";
  auto unset = postgres_driver::from_config(cfg)->connect("pg-1", 3s);
  REQUIRE_FALSE(unset.ok());
  CHECK(unset.error().code == driver_errc::auth);
  CHECK(unset.error().message ==
        "environment variable CUSTODIAN_TEST_PG_PASSWORD_UNSET is not set");
  CHECK(server.log().find("password authentication failed") != std::string::npos);
}

TEST_CASE("postgres: the password is read at every connect, so a rotated one is used next") {
  pg_server server;
  auto cfg = server.driver_config();
  auto first = connect(cfg);
  auto rotated = test::pg_detail::random_hex(24);
  server.admin_query("ALTER ROLE custodian PASSWORD '" + rotated + "'");
  test::write_file(server.password_file(), rotated + "\n");
  auto second = connect(cfg); // the same driver config, the new secret
  CHECK(exec(*second, "SELECT 1")["rows"][0][0] == 1);
  CHECK(exec(*first, "SELECT 1")["rows"][0][0] == 1); // connected before: unaffected
  CHECK(first->close(1s).ok());
  CHECK(second->close(1s).ok());
}

TEST_CASE("postgres: nothing listening is refused at once, a silent server times out in bound") {
  auto port = test::free_port();
  auto start = std::chrono::steady_clock::now();
  auto refused =
    postgres_driver::from_config(json{{"port", port}, {"user", "x"}})->connect("pg-1", 3s);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == driver_errc::refused);
  CHECK(refused.error().message.find("Connection refused") != std::string::npos);
  CHECK(elapsed_ms(start) < margin.count());

  // A listener that never answers: the kernel accepts, the startup goes unanswered.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(fd, 8) == 0);
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  auto silent = json{{"port", ntohs(addr.sin_port)}, {"user", "x"}, {"sslmode", "disable"}};
  start = std::chrono::steady_clock::now();
  auto timed_out = postgres_driver::from_config(silent)->connect("pg-1", 400ms);
  auto took = elapsed_ms(start);
  ::close(fd);
  REQUIRE_FALSE(timed_out.ok());
  CHECK(timed_out.error().code == driver_errc::timeout);
  CHECK(timed_out.error().message.find("longer than the connect timeout (400 ms)") !=
        std::string::npos);
  CHECK(took >= 350);
  CHECK(took < 400 + margin.count());
  // connect_timeout_ms caps what the pool gives.
  fd = ::socket(AF_INET, SOCK_STREAM, 0);
  addr.sin_port = 0;
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(fd, 8) == 0);
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  silent["port"] = ntohs(addr.sin_port);
  silent["connect_timeout_ms"] = 300;
  auto capped = postgres_driver::from_config(silent)->connect("pg-1", 30s);
  ::close(fd);
  REQUIRE_FALSE(capped.ok());
  CHECK(capped.error().message.find("(300 ms)") != std::string::npos);
}

TEST_CASE("postgres: a statement past its deadline is cancelled on the server and the "
          "connection is not used again") {
  pg_server server;
  auto conn = connect(server.driver_config());
  auto start = std::chrono::steady_clock::now();
  auto err = exec_error(*conn, "SELECT pg_sleep(10)", 300ms);
  auto took = elapsed_ms(start);
  MESSAGE("a 300 ms exec timed out after " << took << " ms");
  CHECK(err.code == driver_errc::timeout);
  CHECK(err.message.find("asked to cancel") != std::string::npos);
  CHECK(took < 300 + margin.count());
  // The server stops it long before its 10 s: the cancel reached it.
  CHECK(test::eventually([&] { return !server_runs(server, "pg_sleep(10)"); }, 5s));
  CHECK(server.log().find("canceling statement due to user request") != std::string::npos);
  auto after = exec_error(*conn, "SELECT 1");
  CHECK(after.code == driver_errc::broken);
  CHECK_FALSE(conn->alive());
  CHECK(conn->close(1s).ok());
  CHECK(test::eventually([&] { return server.backend_count_for(pg_server::role) == 0; }, 5s));
}

TEST_CASE("postgres: statement_timeout_ms is the session's: the server cancels, the "
          "connection stays") {
  pg_server server;
  auto conn = connect(with(server.driver_config(), {{"statement_timeout_ms", 200}}));
  CHECK(exec(*conn, "SHOW statement_timeout")["rows"][0][0] == "200ms");
  auto err = exec_error(*conn, "SELECT pg_sleep(5)", 5s);
  CHECK(err.code == driver_errc::rejected);
  CHECK(err.message.find("57014: canceling statement due to statement timeout") !=
        std::string::npos);
  CHECK(exec(*conn, "SELECT 1")["rows"][0][0] == 1);
  // The session is read in UTC with ISO dates, whatever the server's default.
  CHECK(exec(*conn, "SHOW TimeZone")["rows"][0][0] == "UTC");
  CHECK(conn->close(1s).ok());
}

TEST_CASE("postgres: a backend the server terminates is dead while idle and its next exec is a "
          "connection error") {
  pg_server server;
  auto cfg = server.driver_config();
  auto idle = connect(cfg);
  auto used = connect(cfg);
  CHECK(idle->alive());
  CHECK(server.terminate_backends(pg_server::role) == 2);
  // No round trip: the FATAL notice and the closed socket tell.
  CHECK(test::eventually([&] { return !idle->alive(); }, 5s));
  CHECK(test::eventually([&] { return server.backend_count_for(pg_server::role) == 0; }, 5s));
  auto err = exec_error(*used, "SELECT 1");
  CHECK(breaks_connection(err));
  CHECK(err.code == driver_errc::unavailable);
  CHECK(err.message.find("terminating connection due to administrator command") !=
        std::string::npos);
  CHECK(idle->close(1s).ok());
  CHECK(used->close(1s).ok());
}

TEST_CASE("postgres: reset rolls back what a holder left open, needs_reset tells when") {
  pg_server server;
  auto conn = connect(server.driver_config());
  exec(*conn, "CREATE TABLE items (id int)");
  CHECK_FALSE(conn->needs_reset());
  // BEGIN ... COMMIT over several execs on one connection.
  exec(*conn, "BEGIN");
  exec(*conn, "INSERT INTO items VALUES ($1)", json::array({1}));
  CHECK(conn->needs_reset());
  exec(*conn, "COMMIT");
  CHECK_FALSE(conn->needs_reset());
  // An open transaction is rolled back.
  exec(*conn, "BEGIN");
  exec(*conn, "INSERT INTO items VALUES (2)");
  CHECK(conn->needs_reset());
  REQUIRE(conn->reset(2s).ok());
  CHECK_FALSE(conn->needs_reset());
  CHECK(exec(*conn, "SELECT count(*) FROM items")["rows"][0][0] == 1);
  // So is a failed one.
  exec(*conn, "BEGIN");
  exec_error(*conn, "SELECT nosuch");
  CHECK(conn->needs_reset());
  REQUIRE(conn->reset(2s).ok());
  CHECK(exec(*conn, "SELECT 1")["rows"][0][0] == 1);
  // Session settings are discarded.
  exec(*conn, "SET search_path TO nowhere");
  CHECK(conn->needs_reset());
  REQUIRE(conn->reset(2s).ok());
  CHECK(exec(*conn, "SHOW search_path")["rows"][0][0] == "\"$user\", public");
  CHECK(exec(*conn, "SHOW DateStyle")["rows"][0][0] == "ISO, MDY"); // the driver's own stay
  // The native handle may have changed anything.
  auto& pg = dynamic_cast<postgres_connection&>(*conn);
  CHECK(PQstatus(pg.native()) == CONNECTION_OK);
  CHECK(conn->needs_reset());
  REQUIRE(conn->reset(2s).ok());
  CHECK_FALSE(conn->needs_reset());
  CHECK(conn->close(1s).ok());
  CHECK(test::eventually([&] { return server.backend_count_for(pg_server::role) == 0; }, 5s));
}

TEST_CASE("postgres: require_primary makes a read-only refusal break the connection") {
  pg_server server;
  auto primary = connect(with(server.driver_config(), {{"require_primary", true}}));
  CHECK(primary->ping(1s).ok()); // pg_is_in_recovery() is false
  exec(*primary, "CREATE TABLE items (id int)");
  exec(*primary, "SET default_transaction_read_only = on");
  auto err = exec_error(*primary, "INSERT INTO items VALUES (1)");
  CHECK(err.code == driver_errc::read_only);
  CHECK(err.message.find("25006") != std::string::npos);
  CHECK(breaks_connection(err));
  CHECK_FALSE(primary->alive());
  // Without it, the same refusal is a request error.
  auto plain = connect(server.driver_config());
  exec(*plain, "SET default_transaction_read_only = on");
  CHECK(exec_error(*plain, "INSERT INTO items VALUES (1)").code == driver_errc::rejected);
  CHECK(plain->alive());
  CHECK(primary->close(1s).ok());
  CHECK(plain->close(1s).ok());
}
