// The postgres driver without a server: its driver_config (paths, did-you-mean,
// exclusive keys, ranges, defaults), the decoding of values by type OID, the
// encoding of parameters, and the classification of the server's errors.

#include <doctest/doctest.h>

#include "drivers/driver_catalog.hpp"
#include "drivers/postgres/pg_errors.hpp"
#include "drivers/postgres/pg_values.hpp"
#include "drivers/postgres/postgres_driver.hpp"
#include "drivers/text_codec.hpp"

using namespace custodian;
using namespace custodian::drivers;
using json = nlohmann::json;

namespace {

std::vector<config_problem> problems(const char* text) {
  return postgres_settings::problems_of(json::parse(text));
}

bool has_problem(const std::vector<config_problem>& all, const std::string& path,
                 const std::string& part) {
  for (const auto& p : all)
    if (p.path == path && p.message.find(part) != std::string::npos)
      return true;
  return false;
}

std::string listed(const std::vector<config_problem>& all) {
  std::string out;
  for (const auto& p : all)
    out += p.path + ": " + p.message + "\n";
  return out;
}

} // namespace

TEST_CASE("postgres: the catalog knows the driver and validates through it") {
  auto catalog = builtin_drivers();
  auto* entry = catalog.find("postgres");
  REQUIRE(entry);
  CHECK(entry->validate(json::object()).empty());
  CHECK(entry->make(json::object())->name() == "postgres");
  CHECK(has_problem(entry->validate(json{{"prot", 5432}}), "prot", "did you mean \"port\""));
}

TEST_CASE("postgres: defaults of an empty driver_config") {
  auto s = postgres_settings::from_config(json::object());
  CHECK(s.target_value("host") == "127.0.0.1");
  CHECK(s.target_value("port") == "5432");
  CHECK(s.target_value("sslmode") == "prefer");
  CHECK(s.target_value("dbname").empty());
  CHECK(s.password.empty());
  CHECK(s.connect_timeout == millis{0});
  CHECK(s.connect_budget(millis{2000}) == millis{2000});
  CHECK(s.statement_timeout == millis{0});
  CHECK(s.keepalives_idle_s == 5);
  CHECK(s.keepalives_interval_s == 2);
  CHECK(s.keepalives_count == 3);
  CHECK(s.tcp_user_timeout == millis{10'000});
  CHECK_FALSE(s.require_primary);
  CHECK(s.describe() == "127.0.0.1:5432");
}

TEST_CASE("postgres: discrete keys name the target, connect_timeout_ms caps the pool's") {
  auto s = postgres_settings::from_config(json::parse(
    R"({"host": "db.internal", "port": 6432, "dbname": "orders", "user": "app",
        "application_name": "orders-api", "sslmode": "require", "connect_timeout_ms": 500,
        "password_env": "ORDERS_PG_PASSWORD"})"));
  CHECK(s.target_value("host") == "db.internal");
  CHECK(s.target_value("port") == "6432");
  CHECK(s.target_value("application_name") == "orders-api");
  CHECK(s.target_value("sslmode") == "require");
  CHECK(s.connect_budget(millis{2000}) == millis{500});
  CHECK(s.connect_budget(millis{200}) == millis{200});
  CHECK(s.password.describe() == "environment variable ORDERS_PG_PASSWORD");
  CHECK(s.describe() == "db.internal:6432/orders as app");
}

TEST_CASE("postgres: unknown keys, types and ranges are named by path") {
  auto all = problems(R"({"hots": "x", "port": 0, "sslmode": "requir",
    "statement_timeout_ms": -1, "keepalives_count": 500, "tcp_user_timeout_ms": "10",
    "require_primary": "yes", "password_env": "1BAD", "dbname": ""})");
  INFO(listed(all));
  CHECK(has_problem(all, "hots", "unknown key (did you mean \"host\"?)"));
  CHECK(has_problem(all, "port", "must be ≥ 1"));
  CHECK(has_problem(all, "sslmode", "did you mean \"require\""));
  CHECK(has_problem(all, "statement_timeout_ms", "must be ≥ 0"));
  CHECK(has_problem(all, "keepalives_count", "must be ≤ 127"));
  CHECK(has_problem(all, "tcp_user_timeout_ms", "must be an integer"));
  CHECK(has_problem(all, "require_primary", "must be true or false"));
  CHECK(has_problem(all, "password_env", "environment variable"));
  CHECK(has_problem(all, "dbname", "must not be empty"));
  CHECK(has_problem(postgres_settings::problems_of(json::array()), "", "must be an object"));
}

TEST_CASE("postgres: conninfo and the discrete keys are exclusive") {
  auto all = problems(R"({"conninfo": "host=db dbname=x", "host": "db", "user": "app"})");
  INFO(listed(all));
  CHECK(has_problem(all, "host", "conninfo and host are exclusive"));
  CHECK(has_problem(all, "user", "conninfo and user are exclusive"));
  // The password and the driver's own settings go along with a conninfo.
  CHECK(problems(R"({"conninfo": "postgresql://app@db:6432/orders", "password_env": "PGPW",
                     "statement_timeout_ms": 1000, "require_primary": true})")
          .empty());
}

TEST_CASE("postgres: a conninfo is parsed as libpq parses it, URI or key=value") {
  auto uri = postgres_settings::from_config(
    json{{"conninfo", "postgresql://app@db.internal:6432/orders?application_name=api"}});
  CHECK(uri.target_value("host") == "db.internal");
  CHECK(uri.target_value("port") == "6432");
  CHECK(uri.target_value("dbname") == "orders");
  CHECK(uri.target_value("user") == "app");
  CHECK(uri.target_value("application_name") == "api");
  auto kv = postgres_settings::from_config(json{{"conninfo", "host=/run/pg dbname=x"}});
  CHECK(kv.target_value("host") == "/run/pg");
  CHECK(kv.describe() == "/run/pg/x");
}

TEST_CASE("postgres: a conninfo holding a password or the driver's keywords is refused") {
  auto with_password = problems(R"({"conninfo": "host=db password=hunter2"})");
  INFO(listed(with_password));
  CHECK(has_problem(with_password, "conninfo", "must not hold password"));
  auto uri_password = problems(R"({"conninfo": "postgresql://app:hunter2@db/x"})");
  CHECK(has_problem(uri_password, "conninfo", "must not hold password"));
  for (const auto& p : uri_password)
    CHECK(p.message.find("hunter2") == std::string::npos);
  CHECK(has_problem(problems(R"({"conninfo": "host=db connect_timeout=3"})"), "conninfo",
                    "set connect_timeout_ms"));
  CHECK(has_problem(problems(R"({"conninfo": "host=db keepalives_idle=60"})"), "conninfo",
                    "set keepalives_idle_s"));
  CHECK(has_problem(problems(R"({"conninfo": "host=db nosuch=1"})"), "conninfo",
                    "invalid connection option"));
  // A malformed text that may hold a password is not quoted back.
  auto malformed = problems(R"({"conninfo": "host=db password hunter2"})");
  REQUIRE(malformed.size() == 1);
  CHECK(malformed[0].message.find("hunter2") == std::string::npos);
}

TEST_CASE("postgres: one password source at most") {
  auto all = problems(R"({"password": "x", "password_env": "PGPW"})");
  INFO(listed(all));
  CHECK(has_problem(all, "password_env", "only one of password, password_env"));
}

TEST_CASE("postgres: parameters become the text the server parses") {
  using pg::param_text;
  CHECK_FALSE(param_text(nullptr).has_value());
  CHECK(param_text("it's") == "it's");
  CHECK(param_text(42) == "42");
  CHECK(param_text(-9007199254740993LL) == "-9007199254740993");
  CHECK(param_text(1.5) == "1.5");
  CHECK(param_text(true) == "true");
  CHECK(param_text(json{{"a", 1}}) == R"({"a":1})");
  CHECK(param_text(json::array({1, "x"})) == R"([1,"x"])");
}

TEST_CASE("postgres: fields are typed by their column's OID") {
  using namespace pg::type_oid;
  using pg::field_value;
  CHECK(field_value(boolean, "t") == true);
  CHECK(field_value(boolean, "f") == false);
  CHECK(field_value(int2, "-7") == -7);
  CHECK(field_value(int8, "9223372036854775807") == INT64_MAX);
  CHECK(field_value(int8, "9223372036854775807").is_number_integer());
  CHECK(field_value(float8, "1.25") == 1.25);
  CHECK(field_value(float4, "NaN") == "NaN");
  CHECK(field_value(float8, "-Infinity") == "-Infinity");
  CHECK(field_value(numeric, "12345678901234567890.000001") == "12345678901234567890.000001");
  CHECK(field_value(text, "héllo") == "héllo");
  CHECK(field_value(jsonb, R"({"a": [1, null]})") == json::parse(R"({"a": [1, null]})"));
  CHECK(field_value(bytea, "\\x00ff41") == "AP9B");
  CHECK(field_value(bytea, "a\\\\\\001") == encode_base64(std::string{"a\\\x01"}));
  CHECK(field_value(timestamptz, "2024-05-01 12:00:00.25+00") == "2024-05-01T12:00:00.25Z");
  CHECK(field_value(timestamptz, "2024-05-01 14:00:00+02") == "2024-05-01T14:00:00+02:00");
  CHECK(field_value(timestamptz, "2024-05-01 17:30:00+05:30") == "2024-05-01T17:30:00+05:30");
  CHECK(field_value(timestamptz, "infinity") == "infinity");
  CHECK(field_value(timestamp, "2024-05-01 12:00:00") == "2024-05-01T12:00:00");
  CHECK(field_value(timestamp, "0044-03-15 12:00:00 BC") == "0044-03-15 12:00:00 BC");
  CHECK(field_value(date, "2024-05-01") == "2024-05-01");
  CHECK(field_value(pg::type_oid::time, "12:00:00.5") == "12:00:00.5");
  CHECK(field_value(timetz, "12:00:00+00") == "12:00:00Z");
  CHECK(field_value(uuid, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11") ==
        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  CHECK(field_value(600 /* point */, "(1,2)") == "(1,2)");
  CHECK(pg::type_name(int4) == "int4");
  CHECK(pg::type_name(600) == "600");
}

TEST_CASE("postgres: SQLSTATEs classify statements and connects") {
  CHECK(pg::statement_class("42601", false) == driver_errc::rejected);
  CHECK(pg::statement_class("23505", false) == driver_errc::rejected);
  CHECK(pg::statement_class("57014", false) == driver_errc::rejected); // statement_timeout
  CHECK(pg::statement_class("25006", false) == driver_errc::rejected);
  CHECK(pg::statement_class("25006", true) == driver_errc::read_only);
  CHECK(pg::statement_class("08006", false) == driver_errc::broken);
  CHECK(pg::statement_class("57P01", false) == driver_errc::unavailable);
  CHECK(pg::connect_class("28P01") == driver_errc::auth);
  CHECK(pg::connect_class("28000") == driver_errc::auth);
  CHECK(pg::connect_class("3D000") == driver_errc::auth);
  CHECK(pg::connect_class("57P03") == driver_errc::unavailable);
  CHECK(pg::connect_class("53300") == driver_errc::unavailable);
  CHECK(pg::connect_class("08004") == driver_errc::refused);
}

TEST_CASE("postgres: a failed connect's message is the server's, from libpq's verbose text") {
  auto auth = pg::connect_error(
    "connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  28P01: password "
    "authentication failed for user \"app\"\nLOCATION:  auth_failed, auth.c:326\n",
    true, "127.0.0.1:5432/x as app");
  CHECK(auth.code == driver_errc::auth);
  CHECK(auth.message == "FATAL 28P01: password authentication failed for user \"app\" "
                        "(connecting to 127.0.0.1:5432/x as app)");
  auto refused = pg::connect_error(
    "connection to server at \"127.0.0.1\", port 1 failed: Connection refused\n\tIs the server "
    "running on that host and accepting TCP/IP connections?\n",
    false, "127.0.0.1:1");
  CHECK(refused.code == driver_errc::refused);
  CHECK(refused.message == "connection to server at \"127.0.0.1\", port 1 failed: Connection "
                           "refused; Is the server running on that host and accepting TCP/IP "
                           "connections? (connecting to 127.0.0.1:1)");
  CHECK(pg::connect_error("server closed the connection unexpectedly\n", true, "x").code ==
        driver_errc::broken);
}

TEST_CASE("postgres: a connection the server ends is classified by its last words") {
  auto terminated = pg::connection_lost(
    "FATAL:  57P01: terminating connection due to administrator command\nLOCATION:  "
    "ProcessInterrupts, postgres.c:3197\nserver closed the connection unexpectedly\n");
  CHECK(terminated.code == driver_errc::unavailable);
  CHECK(terminated.message == "FATAL 57P01: terminating connection due to administrator "
                              "command; the server closed the connection");
  auto silent = pg::connection_lost("server closed the connection unexpectedly\n\tThis "
                                    "probably means the server terminated abnormally\n");
  CHECK(silent.code == driver_errc::broken);
  CHECK(silent.message == "server closed the connection unexpectedly; This probably means the "
                          "server terminated abnormally");
}
