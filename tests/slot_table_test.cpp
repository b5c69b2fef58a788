// The pool's slots without actors: every count follows from the slots' states,
// health and outdated marks, and the idle line holds exactly the idle slots.

#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "actors/slot_table.hpp"

using namespace custodian;
using namespace std::chrono_literals;

namespace {

struct no_link {};
using table = slot_table<no_link>;

/// One step of a table-driven case: what is done to which slot (by its order of
/// creation, from 0) and the counts afterwards.
struct step {
  enum op_kind { add, state, health, outdated, erase } op;
  std::size_t slot = 0;
  slot_state to = slot_state::idle;
  health_status health_to = health_status::unknown;
  bool mark = false;
  slot_counts expect;
};

slot_counts counts(std::size_t creating, std::size_t idle, std::size_t leased,
                   std::size_t quarantined, std::size_t retiring, std::size_t degraded = 0,
                   std::size_t unhealthy = 0, std::size_t outdated = 0) {
  slot_counts c;
  c.creating = creating;
  c.idle = idle;
  c.leased = leased;
  c.quarantined = quarantined;
  c.retiring = retiring;
  c.degraded = degraded;
  c.unhealthy = unhealthy;
  c.outdated = outdated;
  return c;
}

void run(const std::vector<step>& steps) {
  table t;
  std::vector<uint64_t> ids;
  for (std::size_t n = 0; n < steps.size(); ++n) {
    const auto& s = steps[n];
    CAPTURE(n);
    switch (s.op) {
    case step::add:
      ids.push_back(t.add("r-" + std::to_string(ids.size())));
      break;
    case step::state:
      t.set_state(ids.at(s.slot), s.to);
      break;
    case step::health:
      t.set_health(ids.at(s.slot), s.health_to);
      break;
    case step::outdated:
      t.set_outdated(ids.at(s.slot), s.mark);
      break;
    case step::erase:
      t.erase(ids.at(s.slot));
      break;
    }
    CHECK(t.counts() == s.expect);
    CHECK(t.idle_line().size() == t.counts().idle);
    std::size_t idle = 0;
    for (const auto& [id, sl] : t)
      idle += sl.state() == slot_state::idle ? 1 : 0;
    CHECK(idle == t.counts().idle);
  }
}

} // namespace

TEST_CASE("slot table: a slot's life moves its count from state to state") {
  using s = slot_state;
  run({
    {step::add, 0, {}, {}, {}, counts(1, 0, 0, 0, 0)},
    {step::add, 1, {}, {}, {}, counts(2, 0, 0, 0, 0)},
    {step::state, 0, s::idle, {}, {}, counts(1, 1, 0, 0, 0)},
    {step::state, 0, s::leased, {}, {}, counts(1, 0, 1, 0, 0)},
    {step::state, 1, s::idle, {}, {}, counts(0, 1, 1, 0, 0)},
    {step::state, 0, s::idle, {}, {}, counts(0, 2, 0, 0, 0)},
    {step::state, 1, s::validating, {}, {}, counts(0, 1, 0, 0, 0)},
    {step::state, 1, s::quarantined, {}, {}, counts(0, 1, 0, 1, 0)},
    {step::state, 1, s::recovering, {}, {}, counts(0, 1, 0, 0, 0)},
    {step::state, 1, s::retiring, {}, {}, counts(0, 1, 0, 0, 1)},
    {step::erase, 1, {}, {}, {}, counts(0, 1, 0, 0, 0)},
    {step::state, 0, s::retiring, {}, {}, counts(0, 0, 0, 0, 1)},
    {step::erase, 0, {}, {}, {}, counts(0, 0, 0, 0, 0)},
  });
}

TEST_CASE("slot table: health and outdated marks are counted in any state, and go with the slot") {
  using s = slot_state;
  using h = health_status;
  run({
    {step::add, 0, {}, {}, {}, counts(1, 0, 0, 0, 0)},
    {step::state, 0, s::idle, {}, {}, counts(0, 1, 0, 0, 0)},
    {step::health, 0, {}, h::degraded, {}, counts(0, 1, 0, 0, 0, 1, 0)},
    {step::state, 0, s::leased, {}, {}, counts(0, 0, 1, 0, 0, 1, 0)},
    {step::health, 0, {}, h::unhealthy, {}, counts(0, 0, 1, 0, 0, 0, 1)},
    {step::health, 0, {}, h::unhealthy, {}, counts(0, 0, 1, 0, 0, 0, 1)},
    {step::outdated, 0, {}, {}, true, counts(0, 0, 1, 0, 0, 0, 1, 1)},
    {step::outdated, 0, {}, {}, true, counts(0, 0, 1, 0, 0, 0, 1, 1)},
    {step::add, 1, {}, {}, {}, counts(1, 0, 1, 0, 0, 0, 1, 1)},
    {step::outdated, 1, {}, {}, true, counts(1, 0, 1, 0, 0, 0, 1, 2)},
    {step::outdated, 1, {}, {}, false, counts(1, 0, 1, 0, 0, 0, 1, 1)},
    {step::health, 0, {}, h::healthy, {}, counts(1, 0, 1, 0, 0, 0, 0, 1)},
    {step::health, 1, {}, h::degraded, {}, counts(1, 0, 1, 0, 0, 1, 0, 1)},
    {step::erase, 1, {}, {}, {}, counts(0, 0, 1, 0, 0, 0, 0, 1)},
    {step::erase, 0, {}, {}, {}, counts(0, 0, 0, 0, 0, 0, 0, 0)},
  });
}

TEST_CASE("slot table: the idle line keeps return order, and leaving idle takes a slot out of it") {
  table t;
  auto a = t.add("a"), b = t.add("b"), c = t.add("c");
  for (auto id : {a, b, c})
    t.set_state(id, slot_state::idle);
  CHECK(t.idle_line() == std::deque<uint64_t>{a, b, c});
  CHECK(t.next_idle(true) == c);  // lifo: returned last
  CHECK(t.next_idle(false) == a); // fifo: idle longest
  t.set_state(b, slot_state::leased);
  CHECK(t.idle_line() == std::deque<uint64_t>{a, c});
  t.set_state(b, slot_state::idle);
  CHECK(t.idle_line() == std::deque<uint64_t>{a, c, b});
  t.set_state(b, slot_state::idle); // already idle: stays where it is
  CHECK(t.idle_line() == std::deque<uint64_t>{a, c, b});
  t.set_state(a, slot_state::retiring);
  t.set_state(c, slot_state::retiring);
  t.set_state(b, slot_state::retiring);
  CHECK_FALSE(t.next_idle(true));
  CHECK(t.counts().retiring == 3);
}

TEST_CASE("slot table: while some are degraded a healthy idle slot comes first") {
  table t;
  auto a = t.add("a"), b = t.add("b"), c = t.add("c");
  for (auto id : {a, b, c})
    t.set_state(id, slot_state::idle);
  t.set_health(c, health_status::degraded);
  t.set_health(a, health_status::degraded);
  CHECK(t.next_idle(true) == b);
  CHECK(t.next_idle(false) == b);
  t.set_state(b, slot_state::leased);
  CHECK(t.next_idle(true) == c); // none healthy: the order decides
  CHECK(t.next_idle(false) == a);
}

TEST_CASE("slot table: the idle line sorts by idle time, and slots are found by resource id") {
  table t;
  auto a = t.add("pool-1"), b = t.add("pool-2");
  t.set_state(a, slot_state::idle);
  t.set_state(b, slot_state::idle);
  slot_table<no_link>::time_point t0{};
  t.at(a).idle_since = t0 + 2s;
  t.at(b).idle_since = t0 + 1s;
  t.sort_idle_by_since();
  CHECK(t.idle_line() == std::deque<uint64_t>{b, a});
  CHECK(t.of_resource("pool-2") == b);
  CHECK_FALSE(t.of_resource("pool-3"));
  CHECK(t.find(a)->second.id == "pool-1");
  t.erase(a);
  CHECK_FALSE(t.contains(a));
  CHECK_FALSE(t.of_resource("pool-1"));
  CHECK(t.size() == 1);
  t.clear();
  CHECK(t.size() == 0);
  CHECK(t.counts() == slot_counts{});
  CHECK(t.add("pool-3") > b); // ids are never reused
}

TEST_CASE("slot table: live counts every slot but the retiring ones") {
  table t;
  auto a = t.add("a");
  t.add("b");
  CHECK(t.live() == 2);
  t.set_state(a, slot_state::retiring);
  CHECK(t.live() == 1);
  CHECK(to_string(slot_state::validating) == "validating");
}
