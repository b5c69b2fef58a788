// The redis driver without a server: its driver_config, exec requests, typed
// replies, the state a holder leaves behind, error classes, and connects that
// fail within their bound.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include "drivers/driver_catalog.hpp"
#include "drivers/redis/redis_command.hpp"
#include "drivers/redis/redis_driver.hpp"
#include "drivers/redis/redis_errors.hpp"
#include "drivers/redis/redis_reply.hpp"
#include "drivers/redis/redis_session.hpp"
#include "tests/drivers/redis_test_support.hpp"
#include "tests/support/node_process.hpp"

using namespace custodian;
using namespace custodian::drivers;
using namespace std::literals;
using json = nlohmann::json;
using test::time_of;

namespace {

std::vector<config_problem> problems(const json& cfg) {
  return redis_settings::problems_of(cfg);
}

/// The reply hiredis reads from raw RESP bytes.
json reply_of(const std::string& resp) {
  redisReader* reader = redisReaderCreate();
  REQUIRE(redisReaderFeed(reader, resp.data(), resp.size()) == REDIS_OK);
  void* raw = nullptr;
  REQUIRE(redisReaderGetReply(reader, &raw) == REDIS_OK);
  REQUIRE(raw);
  reply_ptr reply{static_cast<redisReply*>(raw)};
  redisReaderFree(reader);
  return reply_to_json(*reply);
}

/// A loopback listener that completes TCP handshakes (the kernel does) but never
/// reads or answers: a server that hangs.
struct silent_listener {
  int fd = -1;
  int port = 0;
  silent_listener() {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(fd, 16) == 0);
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    port = ntohs(addr.sin_port);
  }
  ~silent_listener() { ::close(fd); }
};

} // namespace

TEST_CASE("redis: driver_config defaults, ranges and unknown keys with did-you-mean") {
  CHECK(problems(json::object()).empty());
  auto s = redis_settings::from_config(json::object());
  CHECK(s.host == "127.0.0.1");
  CHECK(s.port == 6379);
  CHECK(s.db == 0);
  CHECK(s.username.empty());
  CHECK(s.password.empty());
  CHECK(s.connect_timeout == 0ms);
  CHECK(s.command_timeout == 0ms);

  auto p = problems(json{{"host", ""}, {"port", 0}, {"db", -1}, {"passwrd_env", "X"}});
  REQUIRE(p.size() == 4);
  CHECK(p[0] == config_problem{"db", "must be ≥ 0"});
  CHECK(p[1] == config_problem{"host", "must not be empty"});
  CHECK(p[2] == config_problem{"passwrd_env", "unknown key (did you mean \"password_env\"?)"});
  CHECK(p[3] == config_problem{"port", "must be ≥ 1"});
  CHECK(problems(json{{"port", 65536}}) ==
        std::vector<config_problem>{{"port", "must be ≤ 65535"}});
  CHECK(problems(json{{"password_env", "not a name"}}).at(0).path == "password_env");
  CHECK(problems(json{{"command_timeout_ms", "1s"}}) ==
        std::vector<config_problem>{{"command_timeout_ms", "must be an integer"}});
  CHECK(problems(json::array()).at(0) == config_problem{"", "must be an object"});
}

TEST_CASE("redis: password sources are exclusive and a username needs one") {
  auto p = problems(json{{"password", "a"}, {"password_env", "B"}});
  REQUIRE(p.size() == 1);
  CHECK(p[0].path == "password_env");
  CHECK(p[0].message.find("only one of") != std::string::npos);
  CHECK(problems(json{{"username", "app"}}) ==
        std::vector<config_problem>{{"username", "needs password, password_env or password_file"}});
  CHECK(problems(json{{"username", "app"}, {"password_file", "/run/secrets/redis"}}).empty());
  auto s = redis_settings::from_config(json{{"username", "app"}, {"password_env", "REDIS_PW"}});
  CHECK(s.username == "app");
  CHECK(s.password.describe() == "environment variable REDIS_PW");
}

TEST_CASE("redis: the catalog knows the driver and refuses an invalid driver_config") {
  auto catalog = builtin_drivers();
  auto entry = catalog.find("redis");
  REQUIRE(entry);
  CHECK(entry->validate(json{{"prot", 1}}).at(0).path == "prot");
  auto d = entry->make(json{{"port", 7000}});
  REQUIRE(d);
  CHECK(d->name() == "redis");
  CHECK_THROWS_AS(redis_driver::from_config(json{{"port", "x"}}), std::invalid_argument);
}

TEST_CASE("redis: connect_timeout_ms and command_timeout_ms cap the timeouts the pool gives") {
  auto s =
    redis_settings::from_config(json{{"connect_timeout_ms", 300}, {"command_timeout_ms", 50}});
  CHECK(s.connect_budget(5s) == 300ms);
  CHECK(s.connect_budget(100ms) == 100ms);
  CHECK(s.command_budget(5s) == 50ms);
  auto uncapped = redis_settings::from_config(json::object());
  CHECK(uncapped.connect_budget(5s) == 5s);
  CHECK(uncapped.command_budget(1234ms) == 1234ms);
  CHECK(redis_settings::from_config(json{{"host", "::1"}, {"port", 1}}).address() == "[::1]:1");
}

TEST_CASE("redis: replies convert to typed JSON") {
  CHECK(reply_of("+OK\r\n") == json{{"status", "OK"}});
  CHECK(reply_of("$5\r\nhello\r\n") == "hello");
  CHECK(reply_of("$0\r\n\r\n") == "");
  CHECK(reply_of("$4\r\n\xc3\xa9t\xc3\r\n") == json{{"base64", "w6l0ww=="}});
  CHECK(reply_of("$3\r\n\x00\x01\x02\r\n"s) == "\x00\x01\x02"s); // valid UTF-8, NULs kept
  CHECK(reply_of("$2\r\n\xff\xfe\r\n") == json{{"base64", "//4="}});
  CHECK(reply_of(":-42\r\n") == -42);
  CHECK(reply_of(":9223372036854775807\r\n") == INT64_MAX);
  CHECK(reply_of("$-1\r\n").is_null());
  CHECK(reply_of("*-1\r\n").is_null());
  CHECK(reply_of("*0\r\n") == json::array());
  CHECK(reply_of("*4\r\n:1\r\n$1\r\na\r\n*1\r\n+QUEUED\r\n-WRONGTYPE no\r\n") ==
        json::parse(R"([1, "a", [{"status": "QUEUED"}], {"error": "WRONGTYPE no"}])"));
  CHECK(reply_of("-ERR bad \xff\r\n") == json{{"error", "ERR bad ?"}});
}

TEST_CASE("redis: exec requests are command arrays of strings and numbers") {
  auto argv = command_of(json{{"command", {"SET", "k", 42, 1.5, "v w"}}});
  REQUIRE(argv);
  CHECK(argv.value() == std::vector<std::string>{"SET", "k", "42", "1.5", "v w"});
  auto binary = command_of(json{{"command", {"SET", "k", "a\0b"s}}});
  REQUIRE(binary);
  CHECK(binary.value()[2].size() == 3);

  auto bad = [](const json& request) {
    auto r = command_of(request);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == driver_errc::rejected);
    return r.error().message;
  };
  CHECK(bad(json{{"command", json::array()}}) == "bad request: command: must name a command");
  CHECK(bad(json{{"command", {"GET", true}}}) ==
        "bad request: command[1]: must be a string or a number");
  CHECK(bad(json{{"comand", {"GET"}}}).find("did you mean \"command\"") != std::string::npos);
  CHECK(bad(json{{"command", "GET k"}}) == "bad request: command: must be an array");
  CHECK(bad(json::array()) == "bad request: request: must be an object");
}

TEST_CASE("redis: exec refuses commands that break one reply per command") {
  for (auto name : {"subscribe", "PSUBSCRIBE", "SSUBSCRIBE", "MONITOR", "SYNC", "PSYNC", "HELLO",
                    "QUIT", "RESET"})
    CHECK_MESSAGE(!refusal_of({name, "x"}).empty(), name);
  CHECK(refusal_of({"client", "reply", "off"}).starts_with("CLIENT REPLY is not sent"));
  CHECK(refusal_of({"CLIENT", "INFO"}).empty());
  CHECK(refusal_of({"GET", "k"}).empty());
  CHECK(command_name({"client", "tracking", "on"}) == "CLIENT TRACKING");
  CHECK(command_name({"auth", "secret-value"}) == "AUTH");
}

TEST_CASE("redis: the session remembers what the next holder would inherit") {
  session_state s{0};
  CHECK_FALSE(s.dirty());
  s.observe({"GET", "k"}, true);
  CHECK_FALSE(s.dirty());
  s.observe({"multi"}, true);
  CHECK(s.dirty());
  s.observe({"SET", "k", "v"}, true);
  s.observe({"EXEC"}, true);
  CHECK_FALSE(s.dirty());
  s.observe({"MULTI"}, true);
  s.observe({"DISCARD"}, true);
  CHECK_FALSE(s.dirty());

  s.observe({"WATCH", "k"}, true);
  CHECK(s.dirty());
  s.observe({"UNWATCH"}, true);
  CHECK_FALSE(s.dirty());

  s.observe({"SELECT", "3"}, true);
  CHECK(s.db() == 3);
  CHECK(s.dirty());
  s.observe({"SELECT", "99"}, false); // out of range: still on 3
  CHECK(s.db() == 3);
  s.observe({"SELECT", "0"}, true);
  CHECK_FALSE(s.dirty());

  s.observe({"CLIENT", "TRACKING", "on", "REDIRECT", "7"}, true);
  CHECK(s.dirty());
  s.clear();
  CHECK_FALSE(s.dirty());
  s.observe({"AUTH", "other", "pw"}, false);
  CHECK_FALSE(s.dirty());
  s.observe({"AUTH", "other", "pw"}, true);
  CHECK(s.dirty());

  session_state on_db2{2};
  CHECK_FALSE(on_db2.dirty());
  on_db2.observe({"SELECT", "0"}, true);
  CHECK(on_db2.dirty());
}

TEST_CASE("redis: error replies are classified") {
  CHECK(class_of_error_reply("WRONGPASS invalid username-password pair or user is disabled.") ==
        driver_errc::auth);
  CHECK(class_of_error_reply("NOAUTH Authentication required.") == driver_errc::auth);
  CHECK(class_of_error_reply("ERR invalid password") == driver_errc::auth);
  CHECK(class_of_error_reply("LOADING Redis is loading the dataset in memory") ==
        driver_errc::unavailable);
  CHECK(class_of_error_reply("MASTERDOWN Link with MASTER is down") == driver_errc::unavailable);
  CHECK(class_of_error_reply("BUSY Redis is busy running a script.") == driver_errc::unavailable);
  CHECK(class_of_error_reply("ERR max number of clients reached") == driver_errc::unavailable);
  CHECK(class_of_error_reply("READONLY You can't write against a read only replica.") ==
        driver_errc::read_only);
  CHECK(class_of_error_reply("ERR unknown command 'NOPE'") == driver_errc::rejected);
  CHECK(class_of_error_reply("WRONGTYPE Operation against a key holding the wrong kind") ==
        driver_errc::rejected);
  CHECK(class_of_error_reply("BUSYKEY Target key name already exists.") == driver_errc::rejected);
  CHECK(class_of_error_reply("NOPERM this user has no permissions") == driver_errc::rejected);
}

TEST_CASE("redis: nothing listening is refused at once") {
  auto port = test::free_port();
  auto d = redis_driver::from_config(json{{"port", port}});
  driver_result<std::shared_ptr<connection>> res{driver_error{}};
  auto took = time_of([&] { res = d->connect("r-1", 2s); });
  REQUIRE_FALSE(res);
  CHECK(res.error().code == driver_errc::refused);
  CHECK(res.error().message.find("127.0.0.1:" + std::to_string(port)) != std::string::npos);
  CHECK(took < 2s);
}

TEST_CASE("redis: a server that accepts and never answers times out within the connect bound") {
  silent_listener silent;
  auto d = redis_driver::from_config(json{{"port", silent.port}, {"connect_timeout_ms", 300}});
  driver_result<std::shared_ptr<connection>> res{driver_error{}};
  auto took = time_of([&] { res = d->connect("r-1", 10s); });
  REQUIRE_FALSE(res);
  CHECK(res.error().code == driver_errc::timeout);
  CHECK(res.error().message.find("PING") != std::string::npos);
  CHECK(took < 3s); // the 300 ms cap, not the 10 s the pool gave
}

TEST_CASE("redis: an unreadable password source fails the connect naming the source only") {
  ::unsetenv("CUSTODIAN_REDIS_TEST_UNSET");
  auto d = redis_driver::from_config(json{{"password_env", "CUSTODIAN_REDIS_TEST_UNSET"}});
  auto res = d->connect("r-1", 1s);
  REQUIRE_FALSE(res);
  CHECK(res.error().code == driver_errc::auth);
  CHECK(res.error().message.find("environment variable CUSTODIAN_REDIS_TEST_UNSET") !=
        std::string::npos);
}
