// An application that pools PostgreSQL through custodian::runtime and talks to
// the server with libpq itself: each lease's native PGconn* runs parameterised
// queries (PQexecParams) on the holder's thread, and a connection found broken is
// reported with lease.fail() so that the pool replaces it. Whatever a holder
// leaves behind (an open transaction, a SET) is reset by the pool before the next
// holder gets the connection.
//
// usage: pg_app [conninfo]
//   conninfo: libpq's "host=... dbname=... user=..." or a postgresql:// URI, else
//   $CUSTODIAN_PG_CONNINFO; the password is read from $PGPASSWORD at each connect.
// Prints what it does on stdout; exits 0 when every query worked.

#include <atomic>
#include <cstdlib>
#include <iostream>
#include <libpq-fe.h>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "drivers/postgres/postgres_driver.hpp"
#include "runtime/runtime.hpp"

using namespace custodian;
using namespace std::chrono_literals;

namespace {

constexpr const char* pool_name = "app-db";

struct result_clearer {
  void operator()(PGresult* r) const { PQclear(r); }
};

/// Runs one statement on the lease's connection; its first value (if any) into
/// `value`. A connection that broke is reported to the pool, which replaces it.
bool query(scoped_lease& lease, const char* sql, const std::vector<std::string>& params,
           std::string* value = nullptr) {
  PGconn* pg = lease.connection_as<drivers::postgres_connection>().native();
  std::vector<const char*> values;
  for (const auto& p : params)
    values.push_back(p.c_str());
  std::unique_ptr<PGresult, result_clearer> r{PQexecParams(
    pg, sql, static_cast<int>(values.size()), nullptr, values.data(), nullptr, nullptr, 0)};
  auto status = PQresultStatus(r.get());
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
    if (value && PQntuples(r.get()) > 0)
      *value = PQgetvalue(r.get(), 0, 0);
    return true;
  }
  std::string why = PQresultErrorMessage(r.get());
  std::cout << "query failed: " << why;
  if (PQstatus(pg) == CONNECTION_BAD)
    lease.fail("the application found its connection broken: " + why);
  return false;
}

pool_config app_pool(const std::string& conninfo) {
  nlohmann::json cfg{{"conninfo", conninfo}};
  if (std::getenv("PGPASSWORD"))
    cfg["password_env"] = "PGPASSWORD";
  auto problems = drivers::postgres_driver::problems_of(cfg);
  if (!problems.empty())
    throw std::invalid_argument("driver_config." + problems[0].path + ": " + problems[0].message);
  pool_config c;
  c.name = pool_name;
  c.driver = drivers::postgres_driver::from_config(cfg);
  c.min_idle = 1;
  c.max_size = 2;
  c.acquire_timeout = 3s;
  c.resource.init.timeout = 3s;
  c.resource.operation_timeout = 3s;
  return c;
}

} // namespace

int main(int argc, char** argv) {
  const char* env = std::getenv("CUSTODIAN_PG_CONNINFO");
  std::string conninfo = argc > 1 ? argv[1] : env ? env : "";
  if (conninfo.empty()) {
    std::cerr << "usage: pg_app CONNINFO (or set CUSTODIAN_PG_CONNINFO)\n";
    return 2;
  }
  runtime rt;
  std::atomic<int> failures{0};
  try {
    rt.add_pool(app_pool(conninfo));
    {
      auto lease = rt.acquire(pool_name, 3s);
      if (!query(lease, "CREATE TABLE IF NOT EXISTS pg_app_visits (worker int, n int)", {}) ||
          !query(lease, "TRUNCATE pg_app_visits", {}))
        ++failures;
    }
    // Two workers, each its own lease per step; one leaves a transaction open on
    // purpose: the pool rolls it back before anyone else gets the connection.
    std::vector<std::thread> workers;
    for (int w = 0; w < 2; ++w)
      workers.emplace_back([&, w] {
        for (int n = 1; n <= 5; ++n) {
          try {
            auto lease = rt.acquire(pool_name, 3s);
            if (!query(lease, "INSERT INTO pg_app_visits VALUES ($1, $2)",
                       {std::to_string(w), std::to_string(n)}))
              ++failures;
          } catch (const lease_error& e) {
            std::cout << "worker " << w << ": " << e.what() << "\n";
            ++failures;
          }
        }
        auto lease = rt.acquire(pool_name, 3s);
        if (!query(lease, "BEGIN", {}) ||
            !query(lease, "INSERT INTO pg_app_visits VALUES ($1, 0)", {std::to_string(w)}))
          ++failures;
      });
    for (auto& t : workers)
      t.join();
    auto lease = rt.acquire(pool_name, 3s);
    std::string visits;
    if (!query(lease, "SELECT count(*) FROM pg_app_visits", {}, &visits))
      ++failures;
    std::cout << "visits: " << visits << "\n";
  } catch (const std::exception& e) {
    std::cout << "pg_app: " << e.what() << "\n";
    ++failures;
  }
  rt.shutdown();
  std::cout << (failures == 0 ? "pg_app: done\n" : "pg_app: failed\n");
  return failures == 0 ? 0 : 1;
}
