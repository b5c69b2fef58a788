// The redis driver's connections against a real redis-server: the handshake,
// typed replies, bounded calls, classified errors, reset, the native handle, and
// secrets read at each connect.

#include <doctest/doctest.h>

#include "tests/drivers/redis_test_support.hpp"

using namespace custodian;
using namespace custodian::drivers;
using namespace custodian::test;
using namespace std::literals;

namespace {

/// A field of CLIENT INFO ("db", "multi", "sub", "flags") for this connection.
std::string client_info(connection& conn, const std::string& field) {
  auto info = reply_of(conn, {"CLIENT", "INFO"}).get<std::string>();
  auto at = info.find(" " + field + "=");
  REQUIRE(at != std::string::npos);
  auto start = at + field.size() + 2;
  return info.substr(start, info.find(' ', start) - start);
}

} // namespace

TEST_CASE("redis: a connection authenticates from an environment variable and closes cleanly") {
  redis_server srv;
  auto conn = connect_to(srv);
  CHECK(srv.connected_clients() == 1);
  CHECK(conn->alive());
  CHECK_FALSE(conn->needs_reset());
  auto pinged = conn->ping(1s);
  REQUIRE_MESSAGE(pinged, pinged.error().message);
  CHECK(reply_of(*conn, {"SET", "greeting", "hello"}) == json{{"status", "OK"}});
  CHECK(reply_of(*conn, {"GET", "greeting"}) == "hello");
  REQUIRE(conn->close(1s));
  CHECK_FALSE(conn->is_open());
  CHECK(clients_become(srv, 0));
}

TEST_CASE("redis: a real server's replies are typed and an error reply leaves the connection "
          "usable") {
  redis_server srv;
  auto conn = connect_to(srv);
  CHECK(reply_of(*conn, {"SET", "n", 41}) == json{{"status", "OK"}});
  CHECK(reply_of(*conn, {"INCR", "n"}) == 42);
  CHECK(reply_of(*conn, {"GET", "missing"}).is_null());
  CHECK(reply_of(*conn, {"RPUSH", "list", "a", "b", 3}) == 3);
  CHECK(reply_of(*conn, {"LRANGE", "list", 0, -1}) == json::array({"a", "b", "3"}));
  CHECK(reply_of(*conn, {"SET", "bin", "\xff\x00\x01"s}) == json{{"status", "OK"}});
  CHECK(reply_of(*conn, {"STRLEN", "bin"}) == 3);
  CHECK(reply_of(*conn, {"GET", "bin"}) == json{{"base64", "/wAB"}});
  CHECK(reply_of(*conn, {"PING"}) == json{{"status", "PONG"}});

  auto wrong_type = conn->exec(json{{"command", {"LPUSH", "n", "x"}}}, 1s);
  REQUIRE_FALSE(wrong_type);
  CHECK(wrong_type.error().code == driver_errc::rejected);
  CHECK(wrong_type.error().message.find("LPUSH: WRONGTYPE") != std::string::npos);
  auto unknown = conn->exec(json{{"command", {"NOSUCHCOMMAND"}}}, 1s);
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().code == driver_errc::rejected);
  CHECK(unknown.error().message.find("ERR unknown command") != std::string::npos);
  auto refused = conn->exec(json{{"command", {"SUBSCRIBE", "news"}}}, 1s);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == driver_errc::rejected);

  CHECK(conn->alive());
  CHECK(reply_of(*conn, {"GET", "n"}) == "42");
  // A transaction's replies, errors inside them included.
  CHECK(reply_of(*conn, {"MULTI"}) == json{{"status", "OK"}});
  CHECK(reply_of(*conn, {"INCR", "n"}) == json{{"status", "QUEUED"}});
  CHECK(reply_of(*conn, {"LPUSH", "n", "x"}) == json{{"status", "QUEUED"}});
  auto results = reply_of(*conn, {"EXEC"});
  REQUIRE(results.size() == 2);
  CHECK(results[0] == 43);
  CHECK(results[1].at("error").get<std::string>().starts_with("WRONGTYPE"));
  CHECK_FALSE(conn->needs_reset());
}

TEST_CASE("redis: a command past its deadline is a timeout and the connection is not used again") {
  redis_server srv;
  auto conn = connect_to(srv);
  driver_result<json> res{json{}};
  auto took = time_of([&] { res = conn->exec(json{{"command", {"BLPOP", "nothing", 5}}}, 300ms); });
  REQUIRE_FALSE(res);
  CHECK(res.error().code == driver_errc::timeout);
  CHECK(res.error().message.find("BLPOP") != std::string::npos);
  CHECK(took < 3s); // the 300 ms deadline, not BLPOP's 5 s
  CHECK(breaks_connection(res.error()));
  CHECK_FALSE(conn->alive());
  auto again = conn->exec(json{{"command", {"PING"}}}, 1s);
  REQUIRE_FALSE(again);
  CHECK(again.error().code == driver_errc::broken);
  conn->close(1s);
  CHECK(clients_become(srv, 0));
}

TEST_CASE("redis: command_timeout_ms caps the timeout of every call") {
  redis_server srv;
  auto conn = connect_to(srv, {{"command_timeout_ms", 200}});
  driver_result<json> res{json{}};
  auto took = time_of([&] { res = conn->exec(json{{"command", {"BLPOP", "nothing", 5}}}, 20s); });
  REQUIRE_FALSE(res);
  CHECK(res.error().code == driver_errc::timeout);
  CHECK(took < 3s);
}

TEST_CASE("redis: a wrong password is the server's own WRONGPASS, and no message holds a "
          "password") {
  redis_server srv;
  const std::string wrong = "not-the-password-" + srv.password().substr(0, 4);
  ::setenv("CUSTODIAN_REDIS_TEST_WRONG", wrong.c_str(), 1);
  auto d =
    redis_driver::from_config(redis_config(srv, {{"password_env", "CUSTODIAN_REDIS_TEST_WRONG"}}));
  driver_result<std::shared_ptr<connection>> res{driver_error{}};
  auto took = time_of([&] { res = d->connect("r-1", 2s); });
  REQUIRE_FALSE(res);
  CHECK(res.error().code == driver_errc::auth);
  CHECK(res.error().message.find("WRONGPASS") != std::string::npos);
  CHECK(res.error().message.find("environment variable CUSTODIAN_REDIS_TEST_WRONG") !=
        std::string::npos);
  CHECK(res.error().message.find(wrong) == std::string::npos);
  CHECK(res.error().message.find(srv.password()) == std::string::npos);
  CHECK(took < 2s);

  // No password where the server wants one: its NOAUTH, with what to set.
  auto none = redis_driver::from_config(json{{"port", srv.port()}})->connect("r-2", 2s);
  REQUIRE_FALSE(none);
  CHECK(none.error().code == driver_errc::auth);
  CHECK(none.error().message.find("NOAUTH") != std::string::npos);

  // A username the server does not know.
  auto user =
    redis_driver::from_config(redis_config(srv, {{"username", "nobody"}}))->connect("r-3", 2s);
  REQUIRE_FALSE(user);
  CHECK(user.error().code == driver_errc::auth);
  CHECK(user.error().message.find("user nobody") != std::string::npos);
  CHECK(user.error().message.find(srv.password()) == std::string::npos);
  CHECK(clients_become(srv, 0));
}

TEST_CASE("redis: an ACL user authenticates with AUTH username password") {
  redis_server srv;
  srv.admin({"ACL", "SETUSER", "app", "on", ">app-secret", "~app:*", "+@all"});
  ::setenv("CUSTODIAN_REDIS_TEST_APP", "app-secret", 1);
  auto conn = connect_to(srv, {{"username", "app"}, {"password_env", "CUSTODIAN_REDIS_TEST_APP"}});
  CHECK(reply_of(*conn, {"ACL", "WHOAMI"}) == "app");
  CHECK(reply_of(*conn, {"SET", "app:k", "v"}) == json{{"status", "OK"}});
  auto denied = conn->exec(json{{"command", {"SET", "other", "v"}}}, 1s);
  REQUIRE_FALSE(denied);
  CHECK(denied.error().code == driver_errc::rejected); // NOPERM: the request, not the connection
  REQUIRE(conn->reset(1s));
  CHECK(reply_of(*conn, {"ACL", "WHOAMI"}) == "app");
}

TEST_CASE("redis: the password is read at every connect, so a rotated one is used by the next") {
  redis_server srv;
  auto env = password_env_of(srv);
  auto d = redis_driver::from_config(redis_config(srv));
  auto first = d->connect("r-1", 2s);
  REQUIRE(first);
  srv.admin({"CONFIG", "SET", "requirepass", "rotated-password"});
  ::setenv(env.c_str(), "rotated-password", 1);
  auto second = d->connect("r-2", 2s);
  REQUIRE_MESSAGE(second, second.error().message);
  CHECK(reply_of(*second.value(), {"PING"}) == json{{"status", "PONG"}});
  CHECK(reply_of(*first.value(), {"PING"}) == json{{"status", "PONG"}}); // already authenticated
  REQUIRE(first.value()->reset(1s));                                     // AUTHs with the new one
  CHECK(reply_of(*first.value(), {"PING"}) == json{{"status", "PONG"}});
}

TEST_CASE("redis: a connection the server kills is not alive and its next exec is broken") {
  redis_server srv;
  auto idle = connect_to(srv);
  auto busy = connect_to(srv);
  REQUIRE(srv.client_kill_all() == 2);
  CHECK(eventually([&] { return !idle->alive(); }, 10s));
  auto res = busy->exec(json{{"command", {"GET", "k"}}}, 1s);
  REQUIRE_FALSE(res);
  CHECK(res.error().code == driver_errc::broken);
  CHECK(res.error().message.find("127.0.0.1:" + std::to_string(srv.port())) != std::string::npos);
  CHECK_FALSE(busy->alive());
}

TEST_CASE("redis: reset ends a MULTI, unwatches, and gets back to the configured db") {
  redis_server srv;
  auto conn = connect_to(srv, {{"db", 2}});
  CHECK(client_info(*conn, "db") == "2");
  reply_of(*conn, {"SET", "k", "on-2"});
  CHECK(srv.admin({"GET", "k"}).is_null()); // the admin is on db 0

  reply_of(*conn, {"SELECT", 5});
  CHECK(conn->needs_reset());
  REQUIRE(conn->reset(1s));
  CHECK_FALSE(conn->needs_reset());
  CHECK(client_info(*conn, "db") == "2");

  reply_of(*conn, {"WATCH", "k"});
  CHECK(conn->needs_reset());
  reply_of(*conn, {"MULTI"});
  reply_of(*conn, {"SET", "k", "queued"});
  REQUIRE(conn->reset(1s));
  CHECK_FALSE(conn->needs_reset());
  CHECK(client_info(*conn, "multi") == "-1");
  CHECK(reply_of(*conn, {"GET", "k"}) == "on-2"); // the queued SET never ran
}

TEST_CASE("redis: the native handle serves hiredis calls and its use has the connection reset") {
  redis_server srv;
  auto conn = connect_to(srv);
  redisContext* ctx = conn->native();
  REQUIRE(ctx);
  CHECK(conn->needs_reset());
  reply_ptr set{static_cast<redisReply*>(redisCommand(ctx, "SET %s %s", "native", "yes"))};
  REQUIRE(set);
  CHECK(set->type == REDIS_REPLY_STATUS);

  // RESET deauthenticates on a server with a password (checked here against the
  // real server): the driver's reset has to AUTH again.
  reply_ptr reset{static_cast<redisReply*>(redisCommand(ctx, "RESET"))};
  REQUIRE(reset);
  reply_ptr ping{static_cast<redisReply*>(redisCommand(ctx, "PING"))};
  REQUIRE(ping);
  CHECK(ping->type == REDIS_REPLY_ERROR);
  CHECK(std::string{ping->str}.starts_with("NOAUTH"));
  reply_ptr auth{static_cast<redisReply*>(redisCommand(ctx, "AUTH %s", srv.password().c_str()))};
  REQUIRE(auth);

  // Subscribed, with a message pushed and not read: reset drops it.
  reply_ptr sub{static_cast<redisReply*>(redisCommand(ctx, "SUBSCRIBE %s", "news"))};
  REQUIRE(sub);
  CHECK(srv.admin({"PUBLISH", "news", "unread"}) == 1);
  CHECK(eventually([&] { return !conn->alive(); }, 10s)); // the push waits on the socket
  REQUIRE(conn->reset(1s));
  CHECK_FALSE(conn->needs_reset());
  CHECK(conn->alive());
  CHECK(client_info(*conn, "sub") == "0");
  CHECK(reply_of(*conn, {"GET", "native"}) == "yes");
}

TEST_CASE("redis: replies a holder left unread (errors among them) are dropped by reset") {
  redis_server srv;
  auto conn = connect_to(srv);
  redisContext* ctx = conn->native();
  REQUIRE(redisAppendCommand(ctx, "SET %s %s", "a", "1") == REDIS_OK);
  REQUIRE(redisAppendCommand(ctx, "LPUSH %s %s", "a", "x") == REDIS_OK); // WRONGTYPE
  REQUIRE(redisAppendCommand(ctx, "GET %s", "a") == REDIS_OK);
  int done = 0;
  while (!done)
    REQUIRE(redisBufferWrite(ctx, &done) == REDIS_OK);
  CHECK(conn->needs_reset());
  REQUIRE(conn->reset(1s));
  CHECK(reply_of(*conn, {"ECHO", "mine"}) == "mine"); // not the GET's "1"
}
