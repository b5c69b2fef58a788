// Per-resource deadlines with keys, without actors: one deadline per id, removal
// takes the deadline along, and a key from an earlier stay is not current.

#include <doctest/doctest.h>

#include "actors/keyed_schedule.hpp"

using namespace custodian;
using namespace std::chrono_literals;

namespace {

const keyed_schedule::time_point t0{};

} // namespace

TEST_CASE("keyed schedule: ids come due in deadline order, and only once") {
  keyed_schedule s;
  s.add("a");
  s.add("b");
  s.add("c");
  s.schedule("a", t0 + 30ms);
  s.schedule("b", t0 + 10ms);
  s.schedule("c", t0 + 20ms);
  CHECK(s.next() == t0 + 10ms);
  CHECK(s.take_due(t0 + 5ms).empty());
  CHECK(s.take_due(t0 + 20ms) == std::vector<std::string>{"b", "c"});
  CHECK(s.take_due(t0 + 20ms).empty()); // taken: no deadline any more
  CHECK_FALSE(s.deadline_of("b"));
  CHECK(s.next() == t0 + 30ms);
  CHECK(s.key_of("b")); // still tracked
}

TEST_CASE("keyed schedule: a new deadline replaces the old one") {
  keyed_schedule s;
  s.add("a");
  s.schedule("a", t0 + 10ms);
  s.schedule("a", t0 + 50ms);
  CHECK(s.take_due(t0 + 10ms).empty());
  CHECK(s.take_due(t0 + 50ms) == std::vector<std::string>{"a"});
  s.schedule("nope", t0); // not tracked: nothing happens
  CHECK_FALSE(s.next());
}

TEST_CASE("keyed schedule: a removed id takes its deadline along, and comes back under a new key") {
  keyed_schedule s;
  auto first = s.add("a");
  CHECK(s.add("a") == first); // already tracked: same key
  s.schedule("a", t0 + 10ms);
  s.remove("a");
  CHECK_FALSE(s.next());
  CHECK(s.take_due(t0 + 1s).empty());
  CHECK_FALSE(s.current("a", first));
  auto second = s.add("a");
  CHECK(second != first);
  CHECK(s.current("a", second));
  CHECK_FALSE(s.current("a", first)); // a reply meant for the earlier stay
  s.remove("a");
  s.remove("a"); // no-op
  CHECK_FALSE(s.key_of("a"));
}
