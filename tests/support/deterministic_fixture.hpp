#pragma once
// A fixture on CAF's deterministic test coordinator: actors run only when the test
// runs them, time moves only when the test advances it, and blocking driver calls
// run only when the test runs the manual executor. Every test ends by stopping its
// actors and checking that every simulated connection was closed.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/all.hpp>
#include <doctest/doctest.h>

#include "actors/event_bus.hpp"
#include "actors/resource.hpp"
#include "drivers/sim/sim_driver.hpp"
#include "messages/errors.hpp"
#include "messages/type_registry.hpp"
#include "tests/support/manual_executor.hpp"

namespace custodian::test {

struct deterministic_config : caf::actor_system_config {
  deterministic_config() {
    register_message_types(*this);
    set("scheduler.policy", caf::atom("testing"));
  }
};

/// The reply to one request: a value, an error, or nothing yet.
template <class T>
struct reply {
  std::optional<T> value;
  caf::error error;

  bool answered() const { return value.has_value() || static_cast<bool>(error); }
  bool failed_with(errc code) const { return is(error, code); }
};

template <class ResponseHandle>
struct pending_request {
  std::shared_ptr<caf::scoped_actor> sender;
  ResponseHandle handle;
};

class deterministic_fixture {
public:
  deterministic_config cfg;
  caf::actor_system sys{cfg};
  caf::scheduler::test_coordinator& sched;
  std::shared_ptr<manual_executor> executor = std::make_shared<manual_executor>();
  std::shared_ptr<drivers::sim_driver> sim = std::make_shared<drivers::sim_driver>();
  event_bus_actor bus;

  deterministic_fixture()
      : sched(dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler())) {
    bus = spawn_event_bus(sys);
    track(bus);
    run();
  }

  ~deterministic_fixture() {
    stop_tracked();
    CHECK_MESSAGE(sim->open_connections() == 0, "a simulated connection was never closed");
  }

  /// Stops every tracked actor and settles; a derived fixture calls it before it
  /// checks drivers of its own.
  void stop_tracked() {
    for (auto& a : actors_)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    settle();
  }

  /// Runs every actor until all mailboxes are empty.
  void run() { sched.run(); }

  /// Runs actors and blocking jobs until neither has anything left to do.
  void settle() {
    do
      run();
    while (executor->run_all() > 0);
  }

  /// Moves the clock forward and runs what became due.
  void advance(caf::timespan d) {
    sched.advance_time(d);
    run();
  }

  /// Small timeouts and a deterministic backoff (no jitter).
  resource_config config(std::string id) const {
    resource_config c;
    c.id = std::move(id);
    c.pool = "test";
    c.driver = sim;
    c.init.timeout = std::chrono::milliseconds{1'000};
    c.init.max_retries = 3;
    c.init.backoff =
      backoff_policy{std::chrono::milliseconds{100}, std::chrono::milliseconds{1'000}, 0.0};
    c.operation_timeout = std::chrono::milliseconds{500};
    c.drain_timeout = std::chrono::milliseconds{2'000};
    c.cleanup_timeout = std::chrono::milliseconds{300};
    return c;
  }

  resource_actor make_resource(resource_config c) {
    auto res = spawn_resource(sys, std::move(c), resource_context{executor, bus});
    track(res);
    run();
    return res;
  }

  resource_actor make_resource(const std::string& id) { return make_resource(config(id)); }

  template <class Handle>
  void track(const Handle& hdl) {
    actors_.push_back(caf::actor_cast<caf::actor>(hdl));
  }

  /// A sender that lives as long as the test keeps it: the holder of leases.
  std::shared_ptr<caf::scoped_actor> make_sender() {
    return std::make_shared<caf::scoped_actor>(sys);
  }

  /// Sends a request from `sender`; `take` collects the reply once the test has run
  /// what it needs to. The sender's mailbox must hold nothing but this reply.
  template <class Handle, class... Ts>
  auto ask_from(std::shared_ptr<caf::scoped_actor> sender, const Handle& dest, Ts&&... xs) {
    auto rh = (*sender)->request(dest, caf::infinite, std::forward<Ts>(xs)...);
    return pending_request<decltype(rh)>{std::move(sender), std::move(rh)};
  }

  /// Sends a request from a fresh sender, whose mailbox will hold nothing but the
  /// reply.
  template <class Handle, class... Ts>
  auto ask(const Handle& dest, Ts&&... xs) {
    return ask_from(make_sender(), dest, std::forward<Ts>(xs)...);
  }

  /// Collects the reply of `ask` if it has arrived; never blocks.
  template <class T, class Pending>
  reply<T> take(Pending& p) {
    reply<T> out;
    if ((*p.sender)->mailbox().empty())
      return out;
    p.handle.receive([&](T& x) { out.value = std::move(x); },
                     [&](caf::error& err) { out.error = std::move(err); });
    return out;
  }

  /// Request, settle, collect.
  template <class T, class Handle, class... Ts>
  reply<T> call(const Handle& dest, Ts&&... xs) {
    auto p = ask(dest, std::forward<Ts>(xs)...);
    settle();
    return take<T>(p);
  }

  /// Request, run the actors only (blocking jobs stay queued: they may be hanging
  /// on purpose), and require the reply.
  template <class T, class Handle, class... Ts>
  T peek(const Handle& dest, Ts&&... xs) {
    auto p = ask(dest, std::forward<Ts>(xs)...);
    run();
    auto r = take<T>(p);
    REQUIRE_MESSAGE(r.value, describe(r.error));
    return std::move(*r.value);
  }

  resource_status status(const resource_actor& res) {
    return peek<resource_status>(res, status_atom::value);
  }

  lifecycle_state state_of(const resource_actor& res) { return status(res).state; }

  std::vector<transition_record> history(const resource_actor& res) {
    return peek<std::vector<transition_record>>(res, history_atom::value);
  }

private:
  std::vector<caf::actor> actors_;
};

} // namespace custodian::test
