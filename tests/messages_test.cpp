// The vocabulary: every message type crosses CAF's serializer under its
// registered name, errors render by name, events render as the contract's JSON.

#include <vector>

#include <caf/all.hpp>
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "messages/errors.hpp"
#include "messages/event.hpp"
#include "messages/event_json.hpp"
#include "messages/health_messages.hpp"
#include "messages/pool_messages.hpp"
#include "messages/registry_messages.hpp"
#include "messages/resource_messages.hpp"
#include "messages/root_actor.hpp"
#include "messages/supervisor_messages.hpp"
#include "messages/type_registry.hpp"

using namespace custodian;

namespace {

struct registered_config : caf::actor_system_config {
  registered_config() {
    register_message_types(*this);
    set("scheduler.max-threads", 1);
  }
};

/// Serializes `x` inside a message, as it would cross the wire, and reads it back.
template <class T>
T round_trip(caf::actor_system& sys, const T& x) {
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  auto msg = caf::make_message(x);
  auto err = sink(msg);
  REQUIRE_MESSAGE(!err, sys.render(err));
  caf::binary_deserializer source{sys, buf};
  caf::message copy;
  err = source(copy);
  REQUIRE_MESSAGE(!err, sys.render(err));
  REQUIRE(copy.match_element<T>(0));
  return copy.get_as<T>(0);
}

caf::timestamp fixed_time() {
  // 2026-11-22T11:21:46.123456Z
  return caf::timestamp{std::chrono::microseconds{1'795'346'506'123'456}};
}

} // namespace

TEST_CASE("every message type crosses the serializer unchanged") {
  registered_config cfg;
  caf::actor_system sys{cfg};
  event ev{7,          fixed_time(), "transition", "orders",
           "orders-1", "ready",      "in_use",     R"({"reason":"acquired"})"};
  CHECK(round_trip(sys, ev) == ev);
  event_filter filter{{"transition"}, "orders", "orders-1", 16, 4};
  CHECK(round_trip(sys, filter) == filter);
  event_batch batch{3, {ev, ev}, 9};
  CHECK(round_trip(sys, batch) == batch);
  event_bus_stats stats{10, 10, 2, 1};
  CHECK(round_trip(sys, stats) == stats);
  transition_record rec{lifecycle_state::in_use, lifecycle_state::failed, fixed_time(), "broken"};
  CHECK(round_trip(sys, rec) == rec);
  std::vector<transition_record> history{rec, rec};
  CHECK(round_trip(sys, history) == history);
  resource_status st{"orders-1",       "orders", "sim", lifecycle_state::failed, true, false, 3,
                     "connect failed", 0,        ""};
  CHECK(round_trip(sys, st) == st);
  resource_status leased{"orders-2", "orders", "sim",    lifecycle_state::in_use, false, false, 1,
                         "",         17,       "actor 9"};
  CHECK(round_trip(sys, leased) == leased);
  CHECK(round_trip(sys, lease_note{17, "thread 1", 250}) == lease_note{17, "thread 1", 250});
  CHECK(round_trip(sys, lease_end{17, "returned"}) == lease_end{17, "returned"});
  CHECK(round_trip(sys, ping_result{42, "replication lag 3 s"}) ==
        ping_result{42, "replication lag 3 s"});
  CHECK(round_trip(sys, shutdown_report{5, 1}) == shutdown_report{5, 1});
  CHECK(round_trip(sys, lifecycle_state::maintenance) == lifecycle_state::maintenance);
  pool_stats ps;
  ps.name = "orders";
  ps.state = pool_state::scaling;
  ps.max_size = 8;
  ps.in_use = 3;
  ps.failed = 1;
  ps.quarantined = 2;
  ps.reinstated = 5;
  ps.acquire_wait_histogram = {4, 0, 1};
  ps.probes = {{9, 1, 2}, {10, 2}, 1'234};
  ps.execs = {{3, 0, 0, 0, 0, 1}, {4}, 56};
  ps.health = pool_health::degraded;
  ps.avail = {availability::level::unavailable, "db"};
  CHECK(round_trip(sys, ps) == ps);
  health_report hr{"orders-1", health_status::degraded, 2, 1'500, "ping timed out"};
  CHECK(round_trip(sys, hr) == hr);
  CHECK(round_trip(sys, std::vector<health_report>{hr, hr}) == std::vector<health_report>{hr, hr});
  std::vector<child_info> kids{{"pool", restart_type::permanent, {}, 2},
                               {"probe", restart_type::transient, {}, 0}};
  CHECK(round_trip(sys, kids) == kids);
  child_restarted restarted{"orders", "pool", "exit_reason::kill", {"pool", "probe"}};
  CHECK(round_trip(sys, restarted) == restarted);
  supervisor_escalated escalated{"orders", "pool", "custodian::unavailable: too many"};
  CHECK(round_trip(sys, escalated) == escalated);
  auto err = make_error(errc::invalid_transition, "resource r: ready -> idle");
  auto back = round_trip(sys, err);
  CHECK(is(back, errc::invalid_transition));
  CHECK(describe(back) == "custodian::invalid_transition: resource r: ready -> idle");
}

TEST_CASE("the registry's messages cross the serializer unchanged") {
  registered_config cfg;
  caf::actor_system sys{cfg};
  availability down{availability::level::unavailable, "db"};
  availability_notice notice{down, "hard dependency db is unhealthy (root cause: db)"};
  CHECK(round_trip(sys, notice) == notice);
  pool_report report{"db", pool_state::error, pool_health::unhealthy};
  CHECK(round_trip(sys, report) == report);
  pool_summary summary{"orders", pool_state::active, pool_health::healthy, down, notice.reason};
  std::vector<pool_summary> all{summary, summary};
  CHECK(round_trip(sys, all) == all);
  drain_report drained{{"orders", "db"}, {"cache"}};
  CHECK(round_trip(sys, drained) == drained);
}

TEST_CASE("errors render by category and code, with their context") {
  registered_config cfg;
  caf::actor_system sys{cfg};
  auto err = make_error(errc::timeout, "connect timed out after 5 ms");
  CHECK(sys.render(err) == "custodian::timeout: connect timed out after 5 ms");
  CHECK(describe(err) == "custodian::timeout: connect timed out after 5 ms");
  CHECK(is(err, errc::timeout));
  CHECK_FALSE(is(err, errc::driver_error));
  CHECK(describe(caf::make_error(caf::sec::request_timeout)) == "system::request_timeout");
  CHECK(describe(caf::error{}) == "no error");
  for (uint8_t code = 1; code <= static_cast<uint8_t>(errc::dependency_unavailable); ++code)
    CHECK(to_string(static_cast<errc>(code)).find("unknown") == std::string::npos);
}

TEST_CASE("an event renders as one JSON line in the contract's field order") {
  event ev{12,         fixed_time(), "transition", "orders",
           "orders-1", "ready",      "in_use",     R"({"reason":"acquired"})"};
  CHECK(to_json_line(ev) ==
        R"({"seq":12,"ts":"2026-11-22T11:21:46.123456Z","kind":"transition","pool":"orders",)"
        R"("resource":"orders-1","from":"ready","to":"in_use","detail":{"reason":"acquired"}})");
  ev.detail = "not json";
  CHECK(nlohmann::json::parse(to_json_line(ev))["detail"] == nlohmann::json::object());
}
