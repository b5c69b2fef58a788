// The resource actor's state machine, driven by messages on the deterministic
// scheduler: every (state, operation) pair, initialisation with retries, backoff and
// timeouts, recovery, drain and cleanup bounds, driver exceptions, history.

#include <map>
#include <utility>

#include "tests/support/deterministic_fixture.hpp"

using namespace custodian;
using namespace custodian::test;
using namespace std::chrono_literals;
using s = lifecycle_state;

namespace {

/// Where a resource can be when an operation arrives; `failed` comes in two kinds.
enum class situation {
  created,
  initializing,
  ready,
  in_use,
  idle,
  maintenance,
  draining,
  cleanup,
  terminated,
  failed_recoverable,
  failed_final,
};

const char* name_of(situation x) {
  static const char* names[] = {"created",
                                "initializing",
                                "ready",
                                "in_use",
                                "idle",
                                "maintenance",
                                "draining",
                                "cleanup",
                                "terminated",
                                "failed (recoverable)",
                                "failed (not recoverable)"};
  return names[static_cast<int>(x)];
}

enum class operation { initialize, acquire, release, maintain, drain, fail, exec, ping };

const char* name_of(operation x) {
  static const char* names[] = {"initialize", "acquire", "release", "maintain",
                                "drain",      "fail",    "exec",    "ping"};
  return names[static_cast<int>(x)];
}

/// The state each situation reports.
lifecycle_state state_of(situation x) {
  switch (x) {
  case situation::failed_recoverable:
  case situation::failed_final:
    return s::failed;
  default:
    return static_cast<lifecycle_state>(static_cast<int>(x));
  }
}

/// The valid pairs and the state each one ends in; every other pair is invalid.
/// Written out independently of actors/transition_table.cpp on purpose.
const std::map<std::pair<situation, operation>, lifecycle_state> valid_pairs = {
  {{situation::created, operation::initialize}, s::ready},
  {{situation::ready, operation::acquire}, s::in_use},
  {{situation::ready, operation::maintain}, s::ready},
  {{situation::ready, operation::drain}, s::terminated},
  {{situation::ready, operation::ping}, s::ready},
  {{situation::idle, operation::acquire}, s::in_use},
  {{situation::idle, operation::maintain}, s::ready},
  {{situation::idle, operation::drain}, s::terminated},
  {{situation::idle, operation::ping}, s::idle},
  {{situation::in_use, operation::release}, s::idle},
  {{situation::in_use, operation::fail}, s::failed},
  {{situation::in_use, operation::exec}, s::in_use},
  {{situation::failed_recoverable, operation::initialize}, s::ready},
  {{situation::failed_recoverable, operation::drain}, s::terminated},
  {{situation::failed_final, operation::drain}, s::terminated},
};

struct lifecycle_fixture : deterministic_fixture {
  /// Requests that must stay open while a situation holds (their replies come later).
  std::vector<std::shared_ptr<void>> keep_alive;

  /// A resource in `x`. Returns true if a driver call is held in flight there, in
  /// which case the test must not run the blocking jobs.
  std::pair<resource_actor, bool> bring_to(situation x) {
    auto c = config(name_of(x));
    if (x == situation::failed_final) {
      drivers::sim_script script;
      script.fail_connects = 1'000;
      sim->set_script(c.id, script);
      c.init.max_retries = 0;
    }
    auto res = make_resource(c);
    auto hold = [&](auto p) { keep_alive.push_back(std::make_shared<decltype(p)>(std::move(p))); };
    auto ready = [&] {
      REQUIRE(call<lifecycle_state>(res, initialize_atom::value).value == s::ready);
    };
    auto acquired = [&] {
      ready();
      REQUIRE(call<lifecycle_state>(res, acquire_atom::value).value == s::in_use);
    };
    switch (x) {
    case situation::created:
      return {res, false};
    case situation::initializing:
      hold(ask(res, initialize_atom::value));
      run();
      return {res, true};
    case situation::ready:
      ready();
      return {res, false};
    case situation::in_use:
      acquired();
      return {res, false};
    case situation::idle:
      acquired();
      REQUIRE(call<lifecycle_state>(res, release_atom::value).value == s::idle);
      return {res, false};
    case situation::maintenance:
      ready();
      hold(ask(res, maintain_atom::value));
      run();
      return {res, true};
    case situation::draining:
      // Released while its exec is still running: drain must wait for the exec.
      acquired();
      hold(ask(res, exec_atom::value, std::string{"{}"}));
      hold(ask(res, release_atom::value));
      hold(ask(res, drain_atom::value));
      run();
      return {res, true};
    case situation::cleanup:
      ready();
      hold(ask(res, drain_atom::value));
      run();
      return {res, true};
    case situation::terminated:
      ready();
      REQUIRE(call<lifecycle_state>(res, drain_atom::value).value == s::terminated);
      return {res, false};
    case situation::failed_recoverable:
      acquired();
      REQUIRE(call<lifecycle_state>(res, fail_atom::value, std::string{"test"}).value == s::failed);
      return {res, false};
    case situation::failed_final: {
      auto r = call<lifecycle_state>(res, initialize_atom::value);
      REQUIRE(r.failed_with(errc::driver_error));
      return {res, false};
    }
    }
    FAIL("unreachable");
    return {res, false};
  }

  /// Sends `op`, runs actors (and blocking jobs unless `held`), and returns the
  /// error of the reply (none on success). Fails the test if nothing replied.
  caf::error perform(const resource_actor& res, operation op, bool held) {
    auto finish = [&](auto p, auto type_tag) {
      if (held)
        run();
      else
        settle();
      auto r = take<typename decltype(type_tag)::type>(p);
      REQUIRE_MESSAGE(r.answered(), "no reply to " << name_of(op));
      return r.error;
    };
    using state_t = std::type_identity<lifecycle_state>;
    switch (op) {
    case operation::initialize:
      return finish(ask(res, initialize_atom::value), state_t{});
    case operation::acquire:
      return finish(ask(res, acquire_atom::value), state_t{});
    case operation::release:
      return finish(ask(res, release_atom::value), state_t{});
    case operation::maintain:
      return finish(ask(res, maintain_atom::value), state_t{});
    case operation::drain:
      return finish(ask(res, drain_atom::value), state_t{});
    case operation::fail:
      return finish(ask(res, fail_atom::value, std::string{"reported"}), state_t{});
    case operation::exec:
      return finish(ask(res, exec_atom::value, std::string{R"({"q":1})"}),
                    std::type_identity<std::string>{});
    case operation::ping:
      return finish(ask(res, ping_atom::value), std::type_identity<ping_result>{});
    }
    return {};
  }
};

} // namespace

TEST_CASE("every (state, operation) pair lands in its state or is refused without effect") {
  const situation situations[] = {situation::created,     situation::initializing,
                                  situation::ready,       situation::in_use,
                                  situation::idle,        situation::maintenance,
                                  situation::draining,    situation::cleanup,
                                  situation::terminated,  situation::failed_recoverable,
                                  situation::failed_final};
  const operation operations[] = {operation::initialize, operation::acquire, operation::release,
                                  operation::maintain,   operation::drain,   operation::fail,
                                  operation::exec,       operation::ping};
  int valid = 0;
  int refused = 0;
  for (auto x : situations) {
    for (auto op : operations) {
      CAPTURE(name_of(x));
      CAPTURE(name_of(op));
      lifecycle_fixture fx;
      auto [res, held] = fx.bring_to(x);
      auto before = fx.status(res);
      REQUIRE(before.state == state_of(x));
      auto history_before = fx.history(res).size();
      auto err = fx.perform(res, op, held);
      auto i = valid_pairs.find({x, op});
      if (i != valid_pairs.end()) {
        ++valid;
        CHECK_MESSAGE(!err, describe(err));
        CHECK(fx.state_of(res) == i->second);
      } else {
        ++refused;
        // A probe of a leased resource is refused as such: nothing to judge.
        auto code =
          x == situation::in_use && op == operation::ping ? errc::leased : errc::invalid_transition;
        CHECK_MESSAGE(is(err, code), describe(err));
        // The message names the state the resource is in.
        CHECK(describe(err).find(to_string(before.state)) != std::string::npos);
        auto after = fx.status(res);
        CHECK(after.state == before.state);
        CHECK(after.recoverable == before.recoverable);
        CHECK(fx.history(res).size() == history_before);
      }
    }
  }
  CHECK(valid == static_cast<int>(valid_pairs.size()));
  CHECK(refused == 11 * 8 - static_cast<int>(valid_pairs.size()));
}

TEST_CASE_FIXTURE(deterministic_fixture, "retries failed connects with exponential backoff") {
  drivers::sim_script script;
  script.fail_connects = 2;
  script.connect_error = drivers::driver_errc::exception; // this attempt's bad luck
  sim->set_script("db-1", script);
  auto res = make_resource("db-1");
  auto p = ask(res, initialize_atom::value);
  settle();
  // First attempt failed; the retry waits base = 100 ms.
  CHECK(sim->counters().connect_attempts == 1);
  CHECK(state_of(res) == s::initializing);
  advance(99ms);
  settle();
  CHECK(sim->counters().connect_attempts == 1);
  advance(1ms);
  settle();
  // Second attempt failed; the retry waits 2 * base = 200 ms.
  CHECK(sim->counters().connect_attempts == 2);
  advance(199ms);
  settle();
  CHECK(sim->counters().connect_attempts == 2);
  advance(1ms);
  settle();
  CHECK(sim->counters().connect_attempts == 3);
  auto r = take<lifecycle_state>(p);
  CHECK(r.value == s::ready);
  auto st = status(res);
  CHECK(st.state == s::ready);
  CHECK(st.init_attempts == 3);
  CHECK(st.last_error.empty());
}

TEST_CASE_FIXTURE(deterministic_fixture,
                  "a connect failure about the backend is reported at once, not retried") {
  for (auto why : {drivers::driver_errc::refused, drivers::driver_errc::unavailable,
                   drivers::driver_errc::auth, drivers::driver_errc::broken,
                   drivers::driver_errc::read_only}) {
    drivers::sim_script script;
    script.fail_connects = 100;
    script.connect_error = why;
    auto id = "db-" + drivers::to_string(why);
    sim->set_script(id, script);
    auto before = sim->counters().connect_attempts;
    auto res = make_resource(id);
    auto p = ask(res, initialize_atom::value);
    settle();
    auto r = take<lifecycle_state>(p);
    REQUIRE(r.failed_with(errc::driver_error));
    CHECK(driver_reason_of(r.error) == static_cast<uint8_t>(why));
    CHECK(describe(r.error).find("connect failed: " + drivers::to_string(why)) !=
          std::string::npos);
    CHECK(sim->counters().connect_attempts == before + 1);
  }
}

TEST_CASE_FIXTURE(deterministic_fixture,
                  "exhausted retries fail the resource for good with the driver's message") {
  drivers::sim_script script;
  script.fail_connects = 100;
  script.connect_error = drivers::driver_errc::timeout;
  sim->set_script("db-1", script);
  auto c = config("db-1");
  c.init.max_retries = 2;
  auto res = make_resource(c);
  auto p = ask(res, initialize_atom::value);
  settle();
  advance(100ms);
  settle();
  advance(200ms);
  settle();
  auto r = take<lifecycle_state>(p);
  REQUIRE(r.failed_with(errc::driver_error));
  CHECK(describe(r.error).find("timeout") != std::string::npos);
  CHECK(describe(r.error).find("3 attempts") != std::string::npos);
  CHECK(sim->counters().connect_attempts == 3);
  auto st = status(res);
  CHECK(st.state == s::failed);
  CHECK_FALSE(st.recoverable);
  // Not recoverable: initialize is refused, drain is not.
  CHECK(call<lifecycle_state>(res, initialize_atom::value).failed_with(errc::invalid_transition));
  CHECK(call<lifecycle_state>(res, drain_atom::value).value == s::terminated);
}

TEST_CASE_FIXTURE(deterministic_fixture,
                  "a connect that exceeds its timeout fails recoverably and recovers") {
  auto res = make_resource("db-1");
  auto p = ask(res, initialize_atom::value);
  run(); // the connect job is posted but does not run: the driver hangs
  CHECK(executor->pending() == 1);
  auto st = status(res);
  CHECK(st.state == s::initializing);
  CHECK(st.operation_active);
  advance(999ms);
  CHECK(state_of(res) == s::initializing);
  advance(1ms);
  auto r = take<lifecycle_state>(p);
  REQUIRE(r.failed_with(errc::timeout));
  st = status(res);
  CHECK(st.state == s::failed);
  CHECK(st.recoverable);
  CHECK_FALSE(st.operation_active);
  // The late connect succeeds on its worker; nobody owns it, so it is closed there.
  executor->run_all();
  run();
  CHECK(sim->counters().opens == 1);
  CHECK(sim->open_connections() == 0);
  CHECK(state_of(res) == s::failed);
  // failed (recoverable) -> initializing -> ready.
  CHECK(call<lifecycle_state>(res, initialize_atom::value).value == s::ready);
  auto h = history(res);
  REQUIRE(h.size() == 4);
  CHECK(h[2].from == s::failed);
  CHECK(h[2].to == s::initializing);
  CHECK(h[3].to == s::ready);
}

TEST_CASE_FIXTURE(deterministic_fixture, "a resource answers queries while its driver call hangs") {
  auto res = make_resource("db-1");
  auto p = ask(res, initialize_atom::value);
  run();
  for (int i = 0; i < 3; ++i)
    CHECK(status(res).state == s::initializing);
  CHECK(history(res).size() == 1);
  executor->run_all();
  run();
  CHECK(take<lifecycle_state>(p).value == s::ready);
}

TEST_CASE_FIXTURE(deterministic_fixture, "a driver that throws yields driver_error, not a crash") {
  drivers::sim_script script;
  script.throws[static_cast<std::size_t>(drivers::sim_op::exec)] = true;
  sim->set_script("db-1", script);
  auto res = make_resource("db-1");
  REQUIRE(call<lifecycle_state>(res, initialize_atom::value).value == s::ready);
  REQUIRE(call<lifecycle_state>(res, acquire_atom::value).value == s::in_use);
  auto r = call<std::string>(res, exec_atom::value, std::string{"{}"});
  REQUIRE(r.failed_with(errc::driver_error));
  CHECK(describe(r.error).find("threw") != std::string::npos);
  // The connection's state is unknown after a throw: the resource failed, recoverably.
  auto st = status(res);
  CHECK(st.state == s::failed);
  CHECK(st.recoverable);
}

TEST_CASE_FIXTURE(deterministic_fixture, "a connect that throws is retried like a failure") {
  drivers::sim_script script;
  script.throws[static_cast<std::size_t>(drivers::sim_op::connect)] = true;
  sim->set_script("db-1", script);
  auto c = config("db-1");
  c.init.max_retries = 0;
  auto res = make_resource(c);
  auto r = call<lifecycle_state>(res, initialize_atom::value);
  REQUIRE(r.failed_with(errc::driver_error));
  CHECK(describe(r.error).find("connect threw") != std::string::npos);
  CHECK(sim->counters().opens == 0);
}

TEST_CASE_FIXTURE(deterministic_fixture, "exec returns the driver's response while in use") {
  auto res = make_resource("db-1");
  call<lifecycle_state>(res, initialize_atom::value);
  call<lifecycle_state>(res, acquire_atom::value);
  auto r = call<std::string>(res, exec_atom::value, std::string{R"({"q":"select 1"})"});
  REQUIRE(r.value);
  auto j = nlohmann::json::parse(*r.value);
  CHECK(j["resource"] == "db-1");
  CHECK(j["echo"]["q"] == "select 1");
}

TEST_CASE_FIXTURE(deterministic_fixture, "a malformed or concurrent exec is refused cleanly") {
  auto res = make_resource("db-1");
  call<lifecycle_state>(res, initialize_atom::value);
  call<lifecycle_state>(res, acquire_atom::value);
  CHECK(call<std::string>(res, exec_atom::value, std::string{"{not json"})
          .failed_with(errc::bad_request));
  auto first = ask(res, exec_atom::value, std::string{"{}"});
  run();
  auto second = ask(res, exec_atom::value, std::string{"{}"});
  run();
  CHECK(take<std::string>(second).failed_with(errc::unavailable));
  settle();
  CHECK(take<std::string>(first).value);
  CHECK(state_of(res) == s::in_use);
}

TEST_CASE_FIXTURE(deterministic_fixture,
                  "a broken exec fails the resource, a rejected one does not") {
  drivers::sim_script script;
  script.exec_pattern = "-";
  script.exec_error = drivers::driver_errc::rejected;
  sim->set_script("db-1", script);
  auto res = make_resource("db-1");
  call<lifecycle_state>(res, initialize_atom::value);
  call<lifecycle_state>(res, acquire_atom::value);
  CHECK(
    call<std::string>(res, exec_atom::value, std::string{"{}"}).failed_with(errc::driver_error));
  CHECK(state_of(res) == s::in_use);
  script.exec_error = drivers::driver_errc::broken;
  sim->set_script("db-1", script);
  CHECK(
    call<std::string>(res, exec_atom::value, std::string{"{}"}).failed_with(errc::driver_error));
  auto st = status(res);
  CHECK(st.state == s::failed);
  CHECK(st.recoverable);
  CHECK(st.last_error.find("broken") != std::string::npos);
}

TEST_CASE_FIXTURE(deterministic_fixture, "an exec past its timeout fails the resource") {
  auto res = make_resource("db-1");
  call<lifecycle_state>(res, initialize_atom::value);
  call<lifecycle_state>(res, acquire_atom::value);
  auto p = ask(res, exec_atom::value, std::string{"{}"});
  run();
  advance(500ms);
  CHECK(take<std::string>(p).failed_with(errc::timeout));
  CHECK(state_of(res) == s::failed);
}

TEST_CASE_FIXTURE(deterministic_fixture, "drain waits for the active call, then closes") {
  auto res = make_resource("db-1");
  call<lifecycle_state>(res, initialize_atom::value);
  call<lifecycle_state>(res, acquire_atom::value);
  auto exec = ask(res, exec_atom::value, std::string{"{}"});
  run();
  call<lifecycle_state>(res, release_atom::value); // settles: the exec completes too
  CHECK(take<std::string>(exec).value);
  // Now hold an exec-free active call: a ping in idle.
  auto ping = ask(res, ping_atom::value);
  run();
  auto drain = ask(res, drain_atom::value);
  run();
  CHECK(state_of(res) == s::draining);
  CHECK(sim->counters().closes == 0);
  executor->run_one(); // the ping finishes
  run();
  CHECK(take<ping_result>(ping).value);
  CHECK(state_of(res) == s::cleanup);
  executor->run_all(); // the close
  run();
  CHECK(take<lifecycle_state>(drain).value == s::terminated);
  CHECK(sim->counters().closes == 1);
  auto h = history(res);
  REQUIRE(h.size() >= 3);
  CHECK(h[h.size() - 3].to == s::draining);
  CHECK(h[h.size() - 2].to == s::cleanup);
  CHECK(h.back().to == s::terminated);
  CHECK(h.back().reason == "handle closed");
}

TEST_CASE_FIXTURE(deterministic_fixture, "drain gives the active call at most the drain timeout") {
  auto res = make_resource("db-1");
  call<lifecycle_state>(res, initialize_atom::value);
  auto ping = ask(res, ping_atom::value);
  run();
  auto drain = ask(res, drain_atom::value);
  run();
  CHECK(state_of(res) == s::draining);
  // The ping's own 500 ms deadline comes first and abandons it.
  advance(500ms);
  CHECK(take<ping_result>(ping).failed_with(errc::timeout));
  CHECK(state_of(res) == s::cleanup);
  executor->run_all(); // the abandoned ping, then the close
  run();
  CHECK(take<lifecycle_state>(drain).value == s::terminated);
}

TEST_CASE_FIXTURE(deterministic_fixture, "drain timeout shorter than the call's own") {
  auto c = config("db-1");
  c.drain_timeout = 50ms;
  auto res = make_resource(c);
  call<lifecycle_state>(res, initialize_atom::value);
  auto ping = ask(res, ping_atom::value);
  run();
  auto drain = ask(res, drain_atom::value);
  run();
  advance(49ms);
  CHECK(state_of(res) == s::draining);
  advance(1ms);
  CHECK(take<ping_result>(ping).failed_with(errc::timeout));
  CHECK(state_of(res) == s::cleanup);
  settle();
  CHECK(take<lifecycle_state>(drain).value == s::terminated);
}

TEST_CASE_FIXTURE(deterministic_fixture, "cleanup gives close at most the cleanup timeout") {
  auto res = make_resource("db-1");
  call<lifecycle_state>(res, initialize_atom::value);
  auto drain = ask(res, drain_atom::value);
  run();
  CHECK(state_of(res) == s::cleanup);
  advance(300ms);
  CHECK(take<lifecycle_state>(drain).value == s::terminated);
  CHECK(history(res).back().reason.find("close timed out") != std::string::npos);
  // The close still completes on its worker.
  CHECK(sim->open_connections() == 1);
  executor->run_all();
  CHECK(sim->open_connections() == 0);
}

TEST_CASE_FIXTURE(deterministic_fixture,
                  "recovery waits until the call in flight at the failure has answered") {
  auto res = make_resource("db-1");
  call<lifecycle_state>(res, initialize_atom::value);
  call<lifecycle_state>(res, acquire_atom::value);
  auto exec = ask(res, exec_atom::value, std::string{"{}"});
  run();
  auto failed = ask(res, fail_atom::value, std::string{"holder saw an error"});
  run();
  CHECK(take<lifecycle_state>(failed).value == s::failed);
  auto early = ask(res, initialize_atom::value);
  run();
  CHECK(take<lifecycle_state>(early).failed_with(errc::unavailable));
  settle();
  CHECK(take<std::string>(exec).value); // its requester is answered, not forgotten
  CHECK(call<lifecycle_state>(res, initialize_atom::value).value == s::ready);
}

TEST_CASE_FIXTURE(deterministic_fixture, "maintenance resets the handle and returns to ready") {
  auto res = make_resource("db-1");
  call<lifecycle_state>(res, initialize_atom::value);
  CHECK(call<lifecycle_state>(res, maintain_atom::value).value == s::ready);
  CHECK(sim->counters().resets == 1);
  drivers::sim_script script;
  script.throws[static_cast<std::size_t>(drivers::sim_op::reset)] = true;
  sim->set_script("db-1", script);
  CHECK(call<lifecycle_state>(res, maintain_atom::value).failed_with(errc::driver_error));
  auto st = status(res);
  CHECK(st.state == s::failed);
  CHECK(st.recoverable);
}

TEST_CASE_FIXTURE(deterministic_fixture,
                  "a maintain asked while a probe runs waits for it, then resets") {
  auto res = make_resource("db-1");
  call<lifecycle_state>(res, initialize_atom::value);
  auto ping = ask(res, ping_atom::value);
  run();
  auto maintain = ask(res, maintain_atom::value);
  run();
  // A second maintain meanwhile is refused: one reset is on its way.
  auto second = ask(res, maintain_atom::value);
  run();
  CHECK(take<lifecycle_state>(second).failed_with(errc::unavailable));
  CHECK(sim->counters().resets == 0);
  executor->run_one(); // the ping finishes; the reset starts after it
  run();
  CHECK(take<ping_result>(ping).value);
  CHECK(state_of(res) == s::maintenance);
  executor->run_all(); // the reset
  run();
  CHECK(take<lifecycle_state>(maintain).value == s::ready);
  CHECK(sim->counters().resets == 1);
}

TEST_CASE_FIXTURE(deterministic_fixture, "a resource killed mid-call leaks nothing") {
  auto res = make_resource("db-1");
  auto p = ask(res, initialize_atom::value);
  run();
  caf::anon_send_exit(res, caf::exit_reason::kill);
  run();
  // The connect completes after its actor is gone: the worker closes it.
  executor->run_all();
  CHECK(sim->counters().opens == 1);
  CHECK(sim->open_connections() == 0);
}

TEST_CASE_FIXTURE(deterministic_fixture, "a resource killed while holding a handle closes it") {
  auto res = make_resource("db-1");
  call<lifecycle_state>(res, initialize_atom::value);
  call<lifecycle_state>(res, acquire_atom::value);
  caf::anon_send_exit(res, caf::exit_reason::kill);
  settle();
  CHECK(sim->counters().opens == 1);
  CHECK(sim->open_connections() == 0);
}

TEST_CASE_FIXTURE(deterministic_fixture, "the history is bounded and keeps the newest") {
  auto c = config("db-1");
  c.history_limit = 4;
  auto res = make_resource(c);
  call<lifecycle_state>(res, initialize_atom::value);
  for (int i = 0; i < 5; ++i) {
    call<lifecycle_state>(res, acquire_atom::value);
    call<lifecycle_state>(res, release_atom::value);
  }
  auto h = history(res);
  REQUIRE(h.size() == 4);
  CHECK(h[0].to == s::in_use);
  CHECK(h[1].to == s::idle);
  CHECK(h[3].from == s::in_use);
  CHECK(h[3].to == s::idle);
  for (std::size_t i = 1; i < h.size(); ++i) {
    CHECK(h[i].from == h[i - 1].to);
    CHECK(h[i].at >= h[i - 1].at);
  }
}
