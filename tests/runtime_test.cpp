// The runtime on CAF's real scheduler and real blocking workers: a hanging driver
// blocks nobody, and shutdown stops everything it started.

#include <algorithm>
#include <condition_variable>
#include <future>
#include <mutex>
#include <vector>

#include <caf/all.hpp>
#include <doctest/doctest.h>

#include "drivers/sim/sim_driver.hpp"
#include "messages/errors.hpp"
#include "runtime/runtime.hpp"

using namespace custodian;
using namespace std::chrono_literals;
using s = lifecycle_state;

namespace {

/// Bound of every wait in these tests: a bug fails the test instead of hanging
/// it. No test asserts how long anything took.
constexpr auto bound = std::chrono::seconds{30};

resource_config config(std::shared_ptr<drivers::sim_driver> sim, std::string id) {
  resource_config c;
  c.id = std::move(id);
  c.pool = "rt";
  c.driver = std::move(sim);
  c.init.backoff.base = 1ms;
  return c;
}

template <class T, class Handle, class... Ts>
T ask(caf::scoped_actor& self, const Handle& dest, Ts&&... xs) {
  T result{};
  self->request(dest, bound, std::forward<Ts>(xs)...)
    .receive([&](T& x) { result = std::move(x); },
             [&](caf::error& err) { FAIL("unexpected error: " << describe(err)); });
  return result;
}

template <class T, class Handle, class... Ts>
caf::error ask_error(caf::scoped_actor& self, const Handle& dest, Ts&&... xs) {
  caf::error result;
  self->request(dest, bound, std::forward<Ts>(xs)...)
    .receive([&](T&) { FAIL("expected an error"); },
             [&](caf::error& err) { result = std::move(err); });
  return result;
}

} // namespace

TEST_CASE("a driver that hangs delays neither its resource's answers nor other resources") {
  auto sim = std::make_shared<drivers::sim_driver>();
  drivers::sim_script hang;
  hang.hang[static_cast<std::size_t>(drivers::sim_op::connect)] = 1h;
  sim->set_script("slow", hang);
  runtime rt;
  auto slow_cfg = config(sim, "slow");
  slow_cfg.init.timeout = 1h; // only the release below ends this connect
  auto slow = rt.add_resource(slow_cfg);
  auto fast = rt.add_resource(config(sim, "fast"));
  {
    caf::scoped_actor waiter{rt.system()};
    auto pending = waiter->request(slow, bound, initialize_atom::value);
    caf::scoped_actor self{rt.system()};
    // While the connect hangs, the resource answers and the other resource works.
    auto st = ask<resource_status>(self, slow, status_atom::value);
    CHECK(st.state == s::initializing);
    CHECK(ask<lifecycle_state>(self, fast, initialize_atom::value) == s::ready);
    CHECK(ask<lifecycle_state>(self, fast, acquire_atom::value) == s::in_use);
    st = ask<resource_status>(self, slow, status_atom::value);
    CHECK(st.state == s::initializing);
    CHECK(st.operation_active);
    sim->release_hangs();
    lifecycle_state reached = s::created;
    pending.receive([&](lifecycle_state x) { reached = x; },
                    [&](caf::error& err) { FAIL(describe(err)); });
    CHECK(reached == s::ready);
  }
  rt.shutdown();
  CHECK(sim->open_connections() == 0);
}

TEST_CASE("the resource enforces the connect timeout while the driver still hangs") {
  auto sim = std::make_shared<drivers::sim_driver>();
  drivers::sim_script hang;
  hang.hang[static_cast<std::size_t>(drivers::sim_op::connect)] = 1h;
  sim->set_default_script(hang);
  runtime rt;
  auto c = config(sim, "r");
  c.init.timeout = 20ms;
  auto res = rt.add_resource(c);
  {
    caf::scoped_actor self{rt.system()};
    auto err = ask_error<lifecycle_state>(self, res, initialize_atom::value);
    CHECK(is(err, errc::timeout));
    // The driver is still inside connect (it hangs until released): the actor
    // did not wait for it.
    CHECK(sim->counters().opens == 0);
    auto st = ask<resource_status>(self, res, status_atom::value);
    CHECK(st.state == s::failed);
    CHECK(st.recoverable);
  }
  sim->release_hangs();
  rt.shutdown();
  // The late connection was closed by its worker.
  CHECK(sim->counters().opens == 1);
  CHECK(sim->open_connections() == 0);
}

TEST_CASE("shutdown drains what it can, stops every actor and closes every handle") {
  auto sim = std::make_shared<drivers::sim_driver>();
  drivers::sim_script broken;
  broken.fail_connects = 1'000;
  sim->set_script("broken", broken);
  std::mutex mtx;
  std::condition_variable cv;
  std::vector<event> seen;
  runtime rt;
  rt.on_events(event_filter{}, [&](const event_batch& batch) {
    {
      std::lock_guard<std::mutex> guard{mtx};
      seen.insert(seen.end(), batch.events.begin(), batch.events.end());
    }
    cv.notify_all();
  });
  auto count_ready = [&] {
    return std::count_if(seen.begin(), seen.end(), [](const event& ev) {
      return ev.kind == "transition" && ev.to == "ready";
    });
  };
  std::vector<resource_actor> all;
  {
    caf::scoped_actor self{rt.system()};
    for (int i = 0; i < 5; ++i) {
      auto res = rt.add_resource(config(sim, "ready-" + std::to_string(i)));
      CHECK(ask<lifecycle_state>(self, res, initialize_atom::value) == s::ready);
      all.push_back(res);
    }
    auto held = rt.add_resource(config(sim, "held"));
    ask<lifecycle_state>(self, held, initialize_atom::value);
    ask<lifecycle_state>(self, held, acquire_atom::value);
    all.push_back(held);
    all.push_back(rt.add_resource(config(sim, "never-initialized")));
    auto c = config(sim, "broken");
    c.init.max_retries = 1;
    auto failed = rt.add_resource(c);
    CHECK(is(ask_error<lifecycle_state>(self, failed, initialize_atom::value), errc::driver_error));
    all.push_back(failed);
  }
  {
    // Six resources became ready; the subscriber hears of each, in seq order.
    std::unique_lock<std::mutex> lock{mtx};
    CHECK(cv.wait_for(lock, bound, [&] { return count_ready() == 6; }));
    for (std::size_t i = 1; i < seen.size(); ++i)
      CHECK(seen[i].seq > seen[i - 1].seq);
  }
  auto report = rt.shutdown();
  // ready x5 and failed drain; in_use and created cannot and are stopped.
  CHECK(report.drained == 6);
  CHECK(report.forced == 2);
  CHECK(sim->counters().opens == 6);
  CHECK(sim->open_connections() == 0);
  // Every actor has ended: requests to them fail.
  {
    caf::scoped_actor self{rt.system()};
    for (auto& res : all) {
      auto err = ask_error<resource_status>(self, res, status_atom::value);
      CHECK(err);
    }
  }
  CHECK(rt.system().registry().running() == 0);
  // The report of the first shutdown is returned again.
  CHECK(rt.shutdown() == report);
}

TEST_CASE("an empty runtime shuts down at once, and again") {
  runtime rt;
  auto first = rt.shutdown();
  CHECK(first == shutdown_report{0, 0});
  CHECK(rt.shutdown() == first);
}

TEST_CASE("shutdown drains pools too, taking back leases still held at their drain timeout") {
  auto sim = std::make_shared<drivers::sim_driver>();
  runtime rt;
  pool_config cfg;
  cfg.name = "orders";
  cfg.driver = sim;
  cfg.min_idle = 3;
  cfg.max_size = 4;
  cfg.drain_timeout = 50ms;
  auto pool = rt.add_pool(cfg);
  // The holder never releases and lives until the tree stops (it is linked to the
  // pool); a scoped_actor would block the runtime's final wait for all actors.
  std::promise<lease> granted;
  rt.system().spawn([pool, &granted](caf::event_based_actor* self) -> caf::behavior {
    self->link_to(pool);
    self->request(pool, bound, acquire_atom::value).then([&granted](lease l) {
      granted.set_value(std::move(l));
    });
    return {[](int) {}}; // stays alive, holding its lease
  });
  auto leased = granted.get_future();
  REQUIRE(leased.wait_for(bound) == std::future_status::ready);
  CHECK(leased.get().pool == "orders");
  {
    caf::scoped_actor self{rt.system()};
    auto stats = ask<pool_stats>(self, pool, stats_atom::value);
    CHECK(stats.in_use == 1);
    CHECK(stats.size <= 4);
  }
  // The holder is still alive and never releases: the pool's drain timeout decides.
  auto report = rt.shutdown();
  CHECK(report.drained == 1);
  CHECK(report.forced == 0);
  CHECK(sim->counters().opens >= 3);
  CHECK(sim->open_connections() == 0);
}

TEST_CASE("a runtime joins an application's actor system and stops only what it started") {
  caf::actor_system_config cfg;
  register_message_types(cfg);
  apply_scheduler_profile(cfg, scheduler_profile::wake_on_work);
  cfg.set("scheduler.max-threads", 2);
  caf::actor_system sys{cfg};
  // The application's own actor, alive across the runtime's whole life.
  auto app = sys.spawn([]() -> caf::behavior { return {[](int x) { return x; }}; });
  auto sim = std::make_shared<drivers::sim_driver>();
  {
    runtime rt{sys};
    pool_config pc;
    pc.name = "orders";
    pc.driver = sim;
    pc.min_idle = 2;
    pc.max_size = 2;
    rt.add_pool(pc);
    auto lease = rt.acquire("orders", 5s);
    CHECK(lease.exec({{"op", "get"}}, 1s)["resource"] == lease.resource());
    lease.release();
    auto report = rt.shutdown(); // returns though the application's actor lives on
    CHECK(report.drained == 1);
    CHECK(sim->open_connections() == 0);
  }
  caf::scoped_actor self{sys};
  self->request(app, bound, 41)
    .receive([](int x) { CHECK(x == 41); }, [](caf::error& err) { FAIL(describe(err)); });
  self->send_exit(app, caf::exit_reason::user_shutdown);
}

TEST_CASE("a pool killed outright ends alone: the runtime and its other pools go on") {
  auto sim = std::make_shared<drivers::sim_driver>();
  runtime rt;
  pool_config pc;
  pc.driver = sim;
  pc.min_idle = 1;
  pc.max_size = 1;
  pc.name = "doomed";
  auto doomed = rt.add_pool(pc);
  pc.name = "orders";
  rt.add_pool(pc);
  caf::anon_send_exit(doomed, caf::exit_reason::kill);
  {
    caf::scoped_actor self{rt.system()};
    self->wait_for(doomed);
  }
  auto lease = rt.acquire("orders", 5s);
  CHECK(lease.resource() == "orders-1");
  lease.release();
  auto report = rt.shutdown();
  CHECK(report.drained == 1); // the surviving pool
  CHECK(sim->open_connections() == 0);
}
