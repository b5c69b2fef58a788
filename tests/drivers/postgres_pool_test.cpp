// Pools of postgres connections through custodian::runtime against a real
// server: pooled queries within min_idle..max_size server connections, request
// errors that keep the resource, transactions over one lease and rolled back
// when their holder leaves them open, deadlines that replace the connection, the
// server's own authentication message at the acquirer, and every connection
// closed at shutdown.

#include <atomic>
#include <numeric>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "drivers/postgres/pg_round_trip.hpp"
#include "runtime/config/config.hpp"
#include "runtime/config/pool_from_json.hpp"
#include "tests/drivers/postgres_test_support.hpp"

using namespace custodian;
using namespace custodian::drivers;
using namespace custodian::test;
using namespace std::chrono_literals;

TEST_CASE("postgres: pooled queries work and the server sees between min_idle and max_size "
          "connections") {
  pg_server server;
  runtime rt;
  rt.add_pool(pg_pool("orders", server, 2, 4));
  CHECK(pool_settles_at(rt, "orders", 2));
  CHECK(backends_become(server, "orders", 2));
  server.admin_query("CREATE TABLE hits (n int)", {}, pg_server::database);
  server.admin_query("GRANT INSERT, SELECT ON hits TO custodian", {}, pg_server::database);

  constexpr int threads = 8;
  constexpr int rounds = 25;
  std::atomic<int> failures{0};
  backend_sampler sampler{server, "orders"};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&, t] {
      for (int i = 0; i < rounds; ++i) {
        try {
          auto lease = rt.acquire("orders", 5s);
          lease.exec(json{{"sql", "INSERT INTO hits VALUES ($1)"}, {"params", {t}}}, 2s);
        } catch (const lease_error& e) {
          MESSAGE(std::string{e.what()});
          ++failures;
        }
      }
    });
  for (auto& w : workers)
    w.join();
  auto most = sampler.stop();
  CHECK(failures == 0);
  CHECK(server.admin_query("SELECT count(*) FROM hits", {}, pg_server::database).at(0).at(0) ==
        std::to_string(threads * rounds));
  CHECK(most >= 2);
  CHECK(most <= 4);
  auto s = stats_of(rt, "orders");
  CHECK(s.in_use == 0);
  CHECK(s.acquired == uint64_t(threads * rounds));
  CHECK(std::accumulate(s.execs.outcomes.begin(), s.execs.outcomes.end(), uint64_t{0}) >=
        uint64_t(threads * rounds));

  rt.shutdown();
  CHECK(backends_become(server, "orders", 0));
}

TEST_CASE("postgres: a SQL error leaves the resource healthy and the lease usable") {
  pg_server server;
  runtime rt;
  rt.add_pool(pg_pool("orders", server, 1, 1));
  REQUIRE(pool_settles_at(rt, "orders", 1));
  {
    auto lease = rt.acquire("orders", 2s);
    std::string message;
    CHECK(lease_error_of(
            [&] {
              lease.exec(json{{"sql", "SELECT * FROM nosuch"}}, 2s);
            },
            &message) == errc::driver_error);
    CHECK(message.find("rejected: ERROR 42P01: relation \"nosuch\" does not exist") !=
          std::string::npos);
    CHECK(lease); // still held: the same connection answers next
    CHECK(lease.exec(json{{"sql", "SELECT 1 AS one"}}, 2s)["rows"][0][0] == 1);
  }
  auto s = stats_of(rt, "orders");
  CHECK(s.created == 1);
  CHECK(s.failed == 0);
  rt.shutdown();
  CHECK(backends_become(server, "orders", 0));
}

TEST_CASE("postgres: BEGIN ... COMMIT over several execs on one lease, a lease returned inside a "
          "transaction is rolled back before the next holder") {
  pg_server server;
  server.admin_query("CREATE TABLE items (id int)", {}, pg_server::database);
  server.admin_query("GRANT INSERT, SELECT ON items TO custodian", {}, pg_server::database);
  runtime rt;
  rt.add_pool(pg_pool("orders", server, 1, 1));
  REQUIRE(pool_settles_at(rt, "orders", 1));
  {
    auto lease = rt.acquire("orders", 2s);
    lease.exec(json{{"sql", "BEGIN"}}, 2s);
    lease.exec(json{{"sql", "INSERT INTO items VALUES ($1)"}, {"params", {1}}}, 2s);
    lease.exec(json{{"sql", "INSERT INTO items VALUES ($1)"}, {"params", {2}}}, 2s);
    lease.exec(json{{"sql", "COMMIT"}}, 2s);
  }
  {
    auto lease = rt.acquire("orders", 2s);
    lease.exec(json{{"sql", "BEGIN"}}, 2s);
    lease.exec(json{{"sql", "INSERT INTO items VALUES (3)"}}, 2s);
  } // given back with the transaction open
  {
    auto lease = rt.acquire("orders", 2s);
    auto& pg = lease.connection_as<postgres_connection>();
    CHECK(PQtransactionStatus(pg.native()) == PQTRANS_IDLE);
    CHECK(lease.exec(json{{"sql", "SELECT count(*) FROM items"}}, 2s)["rows"][0][0] == 2);
  }
  CHECK(server.admin_query("SELECT count(*) FROM items", {}, pg_server::database).at(0).at(0) ==
        "2");
  auto s = stats_of(rt, "orders");
  CHECK(s.reset_on_return >= 1);
  CHECK(s.created == 1); // reset, not replaced
  rt.shutdown();
  CHECK(backends_become(server, "orders", 0));
}

TEST_CASE("postgres: a pooled statement past its deadline times out, is cancelled, and its "
          "connection is replaced") {
  pg_server server;
  runtime rt;
  rt.add_pool(pg_pool("orders", server, 1, 1));
  REQUIRE(pool_settles_at(rt, "orders", 1));
  std::string first_pid;
  {
    auto lease = rt.acquire("orders", 2s);
    first_pid = lease.exec(json{{"sql", "SELECT pg_backend_pid()::text"}}, 2s)["rows"][0][0];
    std::string message;
    auto took = time_of([&] {
      CHECK(lease_error_of(
              [&] {
                lease.exec(json{{"sql", "SELECT pg_sleep(10)"}}, 300ms);
              },
              &message) == errc::timeout);
    });
    CHECK(took < 2300ms);
    CHECK(message.find("asked to cancel") != std::string::npos);
    CHECK_FALSE(lease); // the lease ended: the pool replaces the resource
  }
  CHECK(eventually(
    [&] {
      return server
               .admin_query("SELECT count(*) FROM pg_stat_activity WHERE query LIKE "
                            "'%pg_sleep(10)%' AND state = 'active' AND application_name = $1",
                            {"orders"})
               .at(0)
               .at(0) == "0";
    },
    5s));
  auto lease = rt.acquire("orders", 5s);
  CHECK(lease.exec(json{{"sql", "SELECT pg_backend_pid()::text"}}, 2s)["rows"][0][0] != first_pid);
  lease.release();
  CHECK(backends_become(server, "orders", 1));
  CHECK(stats_of(rt, "orders").failed >= 1);
  rt.shutdown();
  CHECK(backends_become(server, "orders", 0));
}

TEST_CASE("postgres: a wrong password reaches the acquirer as the server's authentication error "
          "within the connect timeout") {
  pg_server server;
  test::write_file(server.password_file() + ".wrong", "not-" + server.password() + "\n");
  runtime rt;
  rt.add_pool(
    pg_pool("orders", server, 1, 2, {{"password_file", server.password_file() + ".wrong"}}));
  std::string message;
  errc code{};
  auto took = time_of([&] { code = lease_error_of([&] { rt.acquire("orders", 10s); }, &message); });
  CHECK(code == errc::unavailable); // the backend is known down: not an acquire timeout
  MESSAGE(message);
  CHECK(took < 2s + 2s); // the connect timeout and a margin, far from the acquire's 10 s
  CHECK(message.find("password authentication failed for user \"custodian\"") != std::string::npos);
  CHECK(message.find(server.password()) == std::string::npos);
  // Retried on the creation backoff, not in a tight loop.
  auto attempts = [&] {
    auto log = server.log();
    int n = 0;
    for (auto at = log.find("password authentication failed"); at != std::string::npos;
         at = log.find("password authentication failed", at + 1))
      ++n;
    return n;
  };
  CHECK(attempts() >= 1);
  auto before = attempts();
  for (int i = 0; i < 3; ++i)
    lease_error_of([&] { rt.acquire("orders", 200ms); });
  MESSAGE("login attempts: " << attempts() - before << " for 3 acquires");
  CHECK(attempts() - before <= 6);
  CHECK(server.log().find(server.password()) == std::string::npos);
  rt.shutdown();
  CHECK(backends_become(server, pg_server::role, 0));
}

TEST_CASE("postgres: the native handle serves the holder, and the session is reset after it") {
  pg_server server;
  runtime rt;
  rt.add_pool(pg_pool("orders", server, 1, 1));
  REQUIRE(pool_settles_at(rt, "orders", 1));
  {
    auto lease = rt.acquire("orders", 2s);
    PGconn* pg = lease.connection_as<postgres_connection>().native();
    const char* values[] = {"41"};
    std::unique_ptr<PGresult, test::pg_detail::pgresult_clearer> r{
      PQexecParams(pg, "SELECT $1::int + 1", 1, nullptr, values, nullptr, nullptr, 0)};
    REQUIRE(PQresultStatus(r.get()) == PGRES_TUPLES_OK);
    CHECK(std::string{PQgetvalue(r.get(), 0, 0)} == "42");
    r.reset(PQexec(pg, "SET application_name = 'changed'"));
  }
  {
    auto lease = rt.acquire("orders", 2s);
    CHECK(lease.exec(json{{"sql", "SHOW application_name"}}, 2s)["rows"][0][0] == "orders");
  }
  CHECK(stats_of(rt, "orders").reset_on_return >= 1);
  rt.shutdown();
  CHECK(backends_become(server, "orders", 0));
}

TEST_CASE("postgres: health probes every few milliseconds never touch a native handle in use") {
  pg_server server;
  runtime rt;
  auto cfg = pg_pool("orders", server, 1, 1);
  cfg.health->policy.interval = 2ms;
  rt.add_pool(cfg);
  REQUIRE(pool_settles_at(rt, "orders", 1));
  // Each round trip leaves the connection idle between the holder's calls, when a
  // probe that ignored the lease would send its own query on the same handle.
  int failed = 0;
  std::string first_error;
  for (int i = 0; i < 2'000; ++i) {
    auto lease = rt.acquire("orders", 2s);
    PGconn* pg = lease.connection_as<postgres_connection>().native();
    auto r = pg::round_trip(pg, "SELECT 1", nullptr, deadline{2s});
    if (!r || r.value().empty() || PQresultStatus(r.value().back().get()) != PGRES_TUPLES_OK) {
      if (++failed == 1)
        first_error = r ? PQerrorMessage(pg) : r.error().message;
      lease.fail("native SELECT 1 failed");
    }
  }
  CHECK_MESSAGE(failed == 0, first_error);
  rt.shutdown();
  CHECK(backends_become(server, "orders", 0));
}

TEST_CASE("postgres: conf/postgres.json is a valid node config whose pool runs on a real server") {
  auto loaded =
    load_node_config(CUSTODIAN_SOURCE_DIR "/conf/postgres.json", drivers::builtin_drivers());
  REQUIRE_MESSAGE(loaded.problems.empty(),
                  (loaded.problems.empty() ? "" : to_string(loaded.problems.front())));
  auto pool = loaded.config->pools.at(0);
  CHECK(pool["driver"] == "postgres");
  CHECK(pool["driver_config"]["password_env"] == "PGPASSWORD");
  // The same pool on a test server, built from its JSON as the node builds it.
  pg_server server;
  ::setenv("CUSTODIAN_TEST_PG_PASSWORD", server.password().c_str(), 1);
  pool["driver_config"].update({{"port", server.port()},
                                {"dbname", pg_server::database},
                                {"user", pg_server::role},
                                {"password_env", "CUSTODIAN_TEST_PG_PASSWORD"}});
  runtime rt;
  rt.add_pool(make_pool_config(pool, drivers::builtin_drivers()));
  CHECK(backends_become(server, "custodian-app-db", 2));
  {
    auto lease = rt.acquire("app-db", 5s);
    CHECK(lease.exec(json{{"sql", "SHOW statement_timeout"}}, 2s)["rows"][0][0] == "30s");
  }
  rt.shutdown();
  ::unsetenv("CUSTODIAN_TEST_PG_PASSWORD");
  CHECK(backends_become(server, "custodian-app-db", 0));
}

#ifdef CUSTODIAN_PG_APP
TEST_CASE("postgres: the example application pools PostgreSQL and uses libpq through its leases") {
  pg_server server;
  auto output = server.file("pg_app.out");
  // Its password comes from PGPASSWORD, as an operator would give it.
  ::setenv("PGPASSWORD", server.password().c_str(), 1);
  std::string failure;
  try {
    test::pg_detail::run({CUSTODIAN_PG_APP, server.conninfo()}, output, 60s);
  } catch (const std::runtime_error& e) {
    failure = e.what();
  }
  ::unsetenv("PGPASSWORD");
  CHECK_MESSAGE(failure.empty(), failure);
  auto text = test::read_file(output);
  MESSAGE(text);
  CHECK(text.find("visits: 10") != std::string::npos);
  CHECK(text.find("pg_app: done") != std::string::npos);
  CHECK(text.find(server.password()) == std::string::npos);
  CHECK(backends_become(server, pg_server::role, 0));
}
#endif
