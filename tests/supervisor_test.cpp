// The supervisor on the deterministic scheduler: what each strategy and restart
// type brings back, in which order, as which actors; escalation after too many
// restarts within the period; children started and stopped at runtime; children
// ending with their supervisor.

#include <algorithm>
#include <stdexcept>

#include "actors/supervisor.hpp"
#include "tests/support/deterministic_fixture.hpp"

using namespace custodian;
using namespace custodian::test;
using namespace std::chrono_literals;
using strings = std::vector<std::string>;

namespace {

// What a test child is told to do.
using finish_atom = caf::atom_constant<caf::atom("finish")>;
using crash_atom = caf::atom_constant<caf::atom("crash")>;
using throw_atom = caf::atom_constant<caf::atom("throw")>;

using log_ptr = std::shared_ptr<strings>;

/// A child that logs its start and its end, answers get with its id and ends
/// normally, with an error or by an uncaught exception when told to.
caf::behavior worker(caf::event_based_actor* self, log_ptr log, std::string id) {
  self->attach_functor([log, id] { log->push_back("stop " + id); });
  return {
    [id](caf::get_atom) { return id; },
    [self](finish_atom) { self->quit(); },
    [self](crash_atom) { self->quit(make_error(errc::driver_error, "crashed")); },
    [](throw_atom) { throw std::runtime_error("thrown"); },
  };
}

/// As a worker, but it ignores being told to stop: only a kill ends it.
caf::behavior stubborn(caf::event_based_actor* self, log_ptr log, std::string id) {
  self->set_exit_handler([](caf::exit_msg&) {});
  return worker(self, std::move(log), std::move(id));
}

struct supervisor_fixture : deterministic_fixture {
  log_ptr log = std::make_shared<strings>();
  std::shared_ptr<std::vector<child_restarted>> restarts =
    std::make_shared<std::vector<child_restarted>>();
  std::shared_ptr<std::vector<supervisor_escalated>> escalations =
    std::make_shared<std::vector<supervisor_escalated>>();
  supervisor_watcher_actor watcher;

  supervisor_fixture() {
    auto r = restarts;
    auto e = escalations;
    watcher = sys.spawn([r, e]() -> supervisor_watcher_actor::behavior_type {
      return {
        [r](const child_restarted& x) { r->push_back(x); },
        [e](const supervisor_escalated& x) { e->push_back(x); },
      };
    });
    track(watcher);
  }

  template <class Behavior = decltype(&worker)>
  child_spec spec(std::string id, restart_type type = restart_type::permanent,
                  Behavior behavior = &worker) {
    auto log = this->log;
    return {id, type, [log, id, behavior](caf::actor_system& sys) {
              log->push_back("start " + id);
              return sys.spawn(behavior, log, id);
            }};
  }

  supervisor_actor make_supervisor(restart_strategy strategy, std::vector<child_spec> children,
                                   uint32_t max_restarts = 3,
                                   std::chrono::milliseconds period = 1'000ms) {
    auto sup =
      spawn_supervisor(sys, {"sup", strategy, max_restarts, period, std::move(children), watcher});
    track(sup);
    run();
    return sup;
  }

  std::vector<child_info> children(const supervisor_actor& sup) {
    auto r = call<std::vector<child_info>>(sup, children_atom::value);
    REQUIRE(r.value);
    return *r.value;
  }

  strings ids(const supervisor_actor& sup) {
    strings out;
    for (const auto& c : children(sup))
      out.push_back(c.id);
    return out;
  }

  child_info child(const supervisor_actor& sup, const std::string& id) {
    auto all = children(sup);
    auto i = std::find_if(all.begin(), all.end(), [&](const child_info& c) { return c.id == id; });
    REQUIRE(i != all.end());
    return *i;
  }

  caf::actor handle(const supervisor_actor& sup, const std::string& id) {
    return child(sup, id).handle;
  }

  /// Makes a child crash and lets its supervisor react.
  void crash(const supervisor_actor& sup, const std::string& id) {
    caf::anon_send(handle(sup, id), crash_atom::value);
    settle();
  }

  bool alive(const caf::actor& a) { return a && call<std::string>(a, caf::get_atom::value).value; }

  /// The log since the last call.
  strings take_log() {
    auto out = *log;
    log->clear();
    return out;
  }

  /// Watches an actor end: `reason` holds its exit reason once it has.
  struct observer {
    std::shared_ptr<caf::scoped_actor> self;

    std::optional<caf::error> reason() {
      std::optional<caf::error> out;
      if (!(*self)->mailbox().empty())
        (*self)->receive([&](caf::down_msg& msg) { out = std::move(msg.reason); });
      return out;
    }
  };

  observer observe(const supervisor_actor& sup) {
    observer o{make_sender()};
    (*o.self)->monitor(sup);
    return o;
  }
};

const auto permanent = restart_type::permanent;
const auto transient = restart_type::transient;
const auto temporary = restart_type::temporary;

} // namespace

TEST_CASE_FIXTURE(supervisor_fixture, "children start in order at spawn") {
  auto sup = make_supervisor(restart_strategy::one_for_one, {spec("a"), spec("b"), spec("c")});
  CHECK(take_log() == strings{"start a", "start b", "start c"});
  CHECK(ids(sup) == strings{"a", "b", "c"});
  for (const auto& c : children(sup)) {
    CHECK(alive(c.handle));
    CHECK(c.restarts == 0);
    CHECK(c.restart == permanent);
  }
}

TEST_CASE_FIXTURE(supervisor_fixture,
                  "each strategy stops its share last started first and starts it again in order") {
  restart_strategy strategy{};
  strings log;
  strings restarted;
  SUBCASE("one_for_one: only the child that ended") {
    strategy = restart_strategy::one_for_one;
    log = {"stop b", "start b"};
    restarted = {"b"};
  }
  SUBCASE("one_for_all: every child") {
    strategy = restart_strategy::one_for_all;
    log = {"stop b", "stop d", "stop c", "stop a", "start a", "start b", "start c", "start d"};
    restarted = {"a", "b", "c", "d"};
  }
  SUBCASE("rest_for_one: the child that ended and those started after it") {
    strategy = restart_strategy::rest_for_one;
    log = {"stop b", "stop d", "stop c", "start b", "start c", "start d"};
    restarted = {"b", "c", "d"};
  }
  auto sup = make_supervisor(strategy, {spec("a"), spec("b"), spec("c"), spec("d")});
  auto before = children(sup);
  take_log();
  crash(sup, "b");
  CHECK(take_log() == log);
  auto after = children(sup);
  REQUIRE(after.size() == 4);
  for (std::size_t i = 0; i < 4; ++i) {
    CAPTURE(after[i].id);
    bool again = std::count(restarted.begin(), restarted.end(), after[i].id) == 1;
    // Restarted children are new actors; the others are untouched.
    CHECK((after[i].handle != before[i].handle) == again);
    CHECK(after[i].restarts == (again ? 1u : 0u));
    CHECK(alive(after[i].handle));
    CHECK(alive(before[i].handle) == !again);
  }
  REQUIRE(restarts->size() == 1);
  CHECK((*restarts)[0].supervisor == "sup");
  CHECK((*restarts)[0].child == "b");
  CHECK((*restarts)[0].reason == "custodian::driver_error: crashed");
  CHECK((*restarts)[0].restarted == restarted);
}

TEST_CASE_FIXTURE(supervisor_fixture, "a permanent child comes back even after a normal exit") {
  auto sup = make_supervisor(restart_strategy::one_for_one, {spec("a", permanent)});
  auto old = handle(sup, "a");
  SUBCASE("finished") {
    caf::anon_send(old, finish_atom::value);
  }
  SUBCASE("stopped") {
    caf::anon_send_exit(old, caf::exit_reason::user_shutdown);
  }
  settle();
  auto now = child(sup, "a");
  CHECK(now.handle != old);
  CHECK(alive(now.handle));
  CHECK(now.restarts == 1);
}

TEST_CASE_FIXTURE(supervisor_fixture, "a transient child comes back only after an abnormal end") {
  auto sup =
    make_supervisor(restart_strategy::one_for_all, {spec("a", transient), spec("b", permanent)});
  auto a = handle(sup, "a");
  auto b = handle(sup, "b");
  take_log();
  SUBCASE("a normal exit ends it alone") {
    SUBCASE("finished") {
      caf::anon_send(a, finish_atom::value);
    }
    SUBCASE("stopped") {
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    }
    settle();
    CHECK(take_log() == strings{"stop a"});
    auto now = child(sup, "a");
    CHECK_FALSE(now.handle); // still listed, not running
    CHECK(now.restarts == 0);
    CHECK(handle(sup, "b") == b); // no restart, so no sibling was touched
    CHECK(restarts->empty());
  }
  SUBCASE("an abnormal end restarts it") {
    SUBCASE("crashed") {
      caf::anon_send(a, crash_atom::value);
    }
    SUBCASE("threw") {
      caf::anon_send(a, throw_atom::value);
    }
    settle();
    CHECK(take_log() == strings{"stop a", "stop b", "start a", "start b"});
    CHECK(alive(handle(sup, "a")));
    CHECK(child(sup, "a").restarts == 1);
  }
}

TEST_CASE_FIXTURE(supervisor_fixture, "a temporary child is never restarted and is forgotten") {
  auto sup =
    make_supervisor(restart_strategy::one_for_all, {spec("a", permanent), spec("t", temporary)});
  auto t = handle(sup, "t");
  take_log();
  SUBCASE("when it ends") {
    crash(sup, "t");
    CHECK(take_log() == strings{"stop t"});
    CHECK(restarts->empty());
  }
  SUBCASE("when its siblings restart") {
    crash(sup, "a");
    CHECK(take_log() == strings{"stop a", "stop t", "start a"});
    CHECK_FALSE(alive(t));
  }
  CHECK(ids(sup) == strings{"a"});
}

TEST_CASE_FIXTURE(supervisor_fixture,
                  "a child killed outright is restarted and the supervisor survives") {
  auto sup = make_supervisor(restart_strategy::one_for_one, {spec("a"), spec("b")});
  auto old = handle(sup, "a");
  auto watch = observe(sup);
  caf::anon_send_exit(old, caf::exit_reason::kill);
  settle();
  CHECK_FALSE(watch.reason());
  auto now = handle(sup, "a");
  CHECK(now != old);
  CHECK(alive(now));
  REQUIRE(restarts->size() == 1);
  CHECK((*restarts)[0].reason.find("kill") != std::string::npos);
}

TEST_CASE_FIXTURE(supervisor_fixture, "more than max_restarts within the period stops every child "
                                      "and ends the supervisor with the reason") {
  auto sup = make_supervisor(restart_strategy::one_for_one, {spec("a"), spec("b")}, 2, 1'000ms);
  auto watch = observe(sup);
  for (int i = 0; i < 2; ++i) {
    crash(sup, "b");
    advance(100ms);
  }
  auto last = children(sup);
  CHECK(last[1].restarts == 2);
  take_log();
  crash(sup, "b");
  auto reason = watch.reason();
  REQUIRE(reason);
  CHECK(is(*reason, errc::unavailable));
  CHECK(describe(*reason) == "custodian::unavailable: supervisor sup: child b ended "
                             "(custodian::driver_error: crashed), more than 2 restarts "
                             "within 1000 ms");
  CHECK(take_log() == strings{"stop b", "stop a"});
  CHECK_FALSE(alive(last[0].handle));
  REQUIRE(escalations->size() == 1);
  CHECK((*escalations)[0].supervisor == "sup");
  CHECK((*escalations)[0].child == "b");
  CHECK((*escalations)[0].reason.find("more than 2 restarts") != std::string::npos);
  CHECK(restarts->size() == 2);
}

TEST_CASE_FIXTURE(supervisor_fixture, "restarts spaced beyond the period do not escalate") {
  auto sup = make_supervisor(restart_strategy::one_for_one, {spec("a")}, 2, 1'000ms);
  auto watch = observe(sup);
  for (int i = 0; i < 6; ++i) {
    crash(sup, "a");
    advance(600ms); // never more than two restarts within one second
  }
  CHECK_FALSE(watch.reason());
  CHECK(child(sup, "a").restarts == 6);
  CHECK(alive(handle(sup, "a")));
  CHECK(escalations->empty());
}

TEST_CASE_FIXTURE(
  supervisor_fixture,
  "a sibling that ignores its stop is killed after its shutdown time before the restart") {
  auto slow = spec("s", temporary, &stubborn);
  slow.shutdown = 200ms;
  auto sup = make_supervisor(restart_strategy::one_for_all, {spec("a"), slow});
  auto s = handle(sup, "s");
  take_log();
  crash(sup, "a");
  // a waits for its sibling to end before it starts again.
  CHECK(take_log() == strings{"stop a"});
  CHECK_FALSE(handle(sup, "a"));
  CHECK(alive(s));
  advance(199ms);
  settle();
  CHECK(take_log().empty());
  advance(1ms);
  settle();
  CHECK(take_log() == strings{"stop s", "start a"});
  CHECK(alive(handle(sup, "a")));
  CHECK(ids(sup) == strings{"a"});
}

TEST_CASE_FIXTURE(supervisor_fixture,
                  "children start and stop at runtime and an unknown id is not_found") {
  auto sup = make_supervisor(restart_strategy::one_for_one, {spec("a")});
  take_log();
  auto started = call<caf::actor>(sup, start_atom::value, spec("b", transient));
  REQUIRE(started.value);
  CHECK(alive(*started.value));
  CHECK(ids(sup) == strings{"a", "b"});
  CHECK(handle(sup, "b") == *started.value);
  // Supervised like the others.
  crash(sup, "b");
  auto b = handle(sup, "b");
  CHECK(b != *started.value);
  CHECK(alive(b));
  auto taken = call<caf::actor>(sup, start_atom::value, spec("a"));
  CHECK(taken.failed_with(errc::bad_request));
  CHECK(describe(taken.error).find("child a already exists") != std::string::npos);
  auto broken = spec("x");
  broken.start = [](caf::actor_system&) { return caf::actor{}; };
  auto failed = call<caf::actor>(sup, start_atom::value, broken);
  CHECK(failed.failed_with(errc::unavailable));
  CHECK(describe(failed.error).find("child x did not start") != std::string::npos);
  take_log();
  CHECK(call<caf::ok_atom>(sup, stop_atom::value, std::string{"b"}).value);
  CHECK(take_log() == strings{"stop b"});
  CHECK_FALSE(alive(b));
  CHECK(ids(sup) == strings{"a"});
  auto unknown = call<caf::ok_atom>(sup, stop_atom::value, std::string{"nope"});
  CHECK(unknown.failed_with(errc::not_found));
  CHECK(describe(unknown.error) == "custodian::not_found: supervisor sup: no child nope");
}

TEST_CASE_FIXTURE(supervisor_fixture, "a child that cannot start at spawn ends the supervisor") {
  auto broken = spec("b");
  broken.start = [](caf::actor_system&) -> caf::actor { throw std::runtime_error("no licence"); };
  supervisor_config cfg{"sup",   restart_strategy::one_for_one,  3,
                        1'000ms, {spec("a"), broken, spec("c")}, watcher};
  auto sup = spawn_supervisor(sys, std::move(cfg));
  auto watch = observe(sup);
  settle();
  auto reason = watch.reason();
  REQUIRE(reason);
  CHECK(describe(*reason) ==
        "custodian::unavailable: supervisor sup: child b did not start: no licence");
  CHECK(take_log() == strings{"start a", "stop a"});
}

TEST_CASE_FIXTURE(supervisor_fixture,
                  "the supervisor ending stops its children last started first") {
  auto sup = make_supervisor(restart_strategy::one_for_one, {spec("a"), spec("b"), spec("c")});
  auto kids = children(sup);
  take_log();
  SUBCASE("stopped") {
    caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
  }
  SUBCASE("killed") {
    caf::anon_send_exit(sup, caf::exit_reason::kill);
  }
  settle();
  CHECK(take_log() == strings{"stop c", "stop b", "stop a"});
  for (const auto& c : kids)
    CHECK_FALSE(alive(c.handle));
}
