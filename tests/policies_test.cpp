// Plain policies, tested without actors: the transition table, the backoff
// schedule, the bounded history and the names of lifecycle states.

#include <random>
#include <set>
#include <tuple>
#include <utility>
#include <vector>

#include <doctest/doctest.h>

#include "actors/backoff_schedule.hpp"
#include "actors/bounded_history.hpp"
#include "actors/transition_table.hpp"

using namespace custodian;
using namespace std::chrono_literals;
using s = lifecycle_state;

TEST_CASE("the transition table holds exactly the documented edges") {
  // (from, to, recoverable source) for every valid edge.
  const std::set<std::tuple<s, s, bool>> valid = {
    {s::created, s::initializing, false}, {s::initializing, s::ready, false},
    {s::initializing, s::failed, false},  {s::ready, s::in_use, false},
    {s::ready, s::maintenance, false},    {s::ready, s::draining, false},
    {s::in_use, s::idle, false},          {s::in_use, s::failed, false},
    {s::idle, s::in_use, false},          {s::idle, s::maintenance, false},
    {s::idle, s::draining, false},        {s::maintenance, s::ready, false},
    {s::maintenance, s::failed, false},   {s::draining, s::cleanup, false},
    {s::cleanup, s::terminated, false},   {s::failed, s::initializing, true},
    {s::failed, s::draining, false},
  };
  for (auto from : all_lifecycle_states)
    for (auto to : all_lifecycle_states)
      for (bool recoverable : {false, true}) {
        CAPTURE(to_string(from));
        CAPTURE(to_string(to));
        CAPTURE(recoverable);
        // `recoverable` only qualifies a failed source.
        bool expected =
          valid.count({from, to, false}) > 0 || (recoverable && valid.count({from, to, true}) > 0);
        CHECK(is_valid_transition(from, to, recoverable) == expected);
      }
}

TEST_CASE("lifecycle state names round-trip and unknown names are refused") {
  for (auto state : all_lifecycle_states)
    CHECK(lifecycle_state_from_string(to_string(state)) == state);
  CHECK_FALSE(lifecycle_state_from_string("Ready"));
  CHECK_FALSE(lifecycle_state_from_string(""));
}

TEST_CASE("backoff doubles from base up to the cap") {
  backoff_policy p{100ms, 1'000ms, 0.0};
  CHECK(backoff_delay(p, 1, 0.5) == 100ms);
  CHECK(backoff_delay(p, 2, 0.5) == 200ms);
  CHECK(backoff_delay(p, 3, 0.5) == 400ms);
  CHECK(backoff_delay(p, 4, 0.5) == 800ms);
  CHECK(backoff_delay(p, 5, 0.5) == 1'000ms);
  CHECK(backoff_delay(p, 1'000'000, 0.5) == 1'000ms);
}

TEST_CASE("jitter only shortens a delay, by at most its share") {
  backoff_policy p{100ms, 10'000ms, 0.25};
  CHECK(backoff_delay(p, 3, 0.0) == 400ms);
  CHECK(backoff_delay(p, 3, 0.5) == 350ms);
  std::mt19937_64 rng{7};
  std::uniform_real_distribution<double> draw{0.0, 1.0};
  std::set<int64_t> seen;
  for (int i = 0; i < 1'000; ++i) {
    auto d = backoff_delay(p, 3, draw(rng));
    CHECK(d <= 400ms);
    CHECK(d >= 300ms);
    seen.insert(d.count());
  }
  CHECK(seen.size() > 50); // the draws actually spread the retries
}

TEST_CASE("out-of-range backoff settings are clamped, never negative") {
  CHECK(backoff_delay({100ms, 1'000ms, 5.0}, 1, 0.99) >= 0ms);
  CHECK(backoff_delay({-5ms, 1'000ms, 0.0}, 3, 0.0) == 0ms);
  CHECK(backoff_delay({100ms, 50ms, 0.0}, 1, 0.0) == 50ms);
}

TEST_CASE("a bounded history keeps the last entries, oldest first") {
  bounded_history<int> h{3};
  CHECK(h.to_vector().empty());
  h.push(1);
  h.push(2);
  CHECK(h.to_vector() == std::vector<int>{1, 2});
  for (int i = 3; i <= 7; ++i)
    h.push(i);
  CHECK(h.size() == 3);
  CHECK(h.to_vector() == std::vector<int>{5, 6, 7});
  bounded_history<int> none{0};
  none.push(1);
  CHECK(none.to_vector().empty());
}
