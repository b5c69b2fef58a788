// An application embedding Custodian with two pools: worker threads lease from
// "orders-db" through the blocking facade, an actor leases from "cache" with
// messages. One orders connection breaks in use and is replaced; the pools'
// events go to stdout as JSON lines, narration and final stats to stderr.
//
// usage: embedded_pools

#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <caf/all.hpp>

#include "drivers/sim/sim_driver.hpp"
#include "messages/errors.hpp"
#include "messages/event_json.hpp"
#include "runtime/runtime.hpp"

using namespace custodian;
using namespace std::chrono_literals;

namespace {

constexpr auto bound = std::chrono::seconds{10};

void say(const std::string& text) {
  std::cerr << "# " << text << std::endl;
}

pool_config pool_named(std::string name, std::shared_ptr<drivers::driver> driver, uint32_t min_idle,
                       uint32_t max_size) {
  pool_config c;
  c.name = std::move(name);
  c.driver = std::move(driver);
  c.min_idle = min_idle;
  c.max_size = max_size;
  c.acquire_timeout = 2s;
  c.lease_ttl = 5s;
  return c;
}

/// Four threads each run a few queries on a leased orders connection; the lease
/// goes back when it leaves scope.
void run_order_workers(runtime& rt) {
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w)
    workers.emplace_back([&rt, w] {
      for (int i = 0; i < 3; ++i) {
        try {
          auto lease = rt.acquire("orders-db", 2s);
          auto reply = lease.exec({{"sql", "select * from orders where id = $1"}, {"id", i}}, 1s);
          say("worker " + std::to_string(w) + " ran query " + std::to_string(i) + " on " +
              reply["resource"].get<std::string>());
        } catch (const lease_error& e) {
          say("worker " + std::to_string(w) + ": " + e.what());
        }
      }
    });
  for (auto& t : workers)
    t.join();
}

/// An actor that leases a cache resource, runs a command through the pool and
/// returns the lease; it answers its caller with the command's reply.
void run_cache_client(runtime& rt, const pool_actor& cache) {
  caf::scoped_actor self{rt.system()};
  self->request(cache, bound, acquire_atom::value)
    .receive(
      [&](const lease& l) {
        self->request(cache, bound, exec_atom::value, l.id, std::string{R"({"cmd":"GET k"})"})
          .receive([&](const std::string& reply) { say("cache replied " + reply); },
                   [&](const caf::error& err) { say("cache exec: " + describe(err)); });
        self->send(cache, return_atom::value, l.id);
      },
      [&](const caf::error& err) { say("cache acquire: " + describe(err)); });
}

void print_stats(runtime& rt, const pool_actor& pool) {
  caf::scoped_actor self{rt.system()};
  self->request(pool, bound, stats_atom::value)
    .receive(
      [&](const pool_stats& s) {
        say(s.name + ": size " + std::to_string(s.size) + ", idle " + std::to_string(s.idle) +
            ", in use " + std::to_string(s.in_use) + ", leases " + std::to_string(s.acquired) +
            ", failed " + std::to_string(s.failed) + ", created " + std::to_string(s.created));
      },
      [&](const caf::error& err) { say("stats: " + describe(err)); });
}

} // namespace

int main() {
  auto orders_driver = std::make_shared<drivers::sim_driver>();
  // The second orders connection breaks on its second query.
  drivers::sim_script flaky;
  flaky.exec_pattern = "+-";
  flaky.exec_error = drivers::driver_errc::broken;
  orders_driver->set_script("orders-db-2", flaky);
  auto cache_driver = std::make_shared<drivers::sim_driver>();

  runtime rt;
  rt.on_events({}, [](const event_batch& batch) {
    for (const auto& ev : batch.events)
      std::cout << to_json_line(ev) << '\n';
    std::cout.flush();
  });
  auto orders = rt.add_pool(pool_named("orders-db", orders_driver, 2, 4));
  auto cache = rt.add_pool(pool_named("cache", cache_driver, 1, 2));

  say("four threads share orders-db (max 4) through the blocking facade");
  run_order_workers(rt);
  say("an actor uses the cache pool with messages");
  run_cache_client(rt, cache);
  print_stats(rt, orders);
  print_stats(rt, cache);

  auto report = rt.shutdown();
  say("shutdown: " + std::to_string(report.drained) + " drained, " + std::to_string(report.forced) +
      " forced; orders opens " + std::to_string(orders_driver->counters().opens) + ", closes " +
      std::to_string(orders_driver->counters().closes) + "; cache opens " +
      std::to_string(cache_driver->counters().opens) + ", closes " +
      std::to_string(cache_driver->counters().closes));
  return orders_driver->open_connections() == 0 && cache_driver->open_connections() == 0 ? 0 : 1;
}
