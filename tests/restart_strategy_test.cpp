// OTP's restart semantics, without actors: which children each strategy restarts,
// which restart types come back, and when restart intensity escalates.

#include <doctest/doctest.h>

#include "actors/restart_strategy.hpp"

using namespace custodian;
using namespace std::chrono_literals;
using idx = std::vector<std::size_t>;

namespace {

const std::vector<restart_type> four_permanent(4, restart_type::permanent);

} // namespace

TEST_CASE("each strategy restarts its share of the children") {
  CHECK(children_to_restart(restart_strategy::one_for_one, four_permanent, 2, true) == idx{2});
  CHECK(children_to_restart(restart_strategy::one_for_all, four_permanent, 2, true) ==
        idx{0, 1, 2, 3});
  CHECK(children_to_restart(restart_strategy::rest_for_one, four_permanent, 1, true) ==
        idx{1, 2, 3});
  CHECK(children_to_restart(restart_strategy::rest_for_one, four_permanent, 3, false) == idx{3});
  CHECK(children_to_restart(restart_strategy::one_for_one, four_permanent, 9, true).empty());
}

TEST_CASE("each strategy affects its share of the children whether restarted or not") {
  CHECK(affected_children(restart_strategy::one_for_one, 4, 2) == idx{2});
  CHECK(affected_children(restart_strategy::one_for_all, 4, 2) == idx{0, 1, 2, 3});
  CHECK(affected_children(restart_strategy::rest_for_one, 4, 1) == idx{1, 2, 3});
  CHECK(affected_children(restart_strategy::rest_for_one, 4, 4).empty());
}

TEST_CASE("permanent children always come back, transient ones only after a crash") {
  std::vector<restart_type> kids{restart_type::permanent, restart_type::transient,
                                 restart_type::temporary};
  CHECK(children_to_restart(restart_strategy::one_for_one, kids, 0, false) == idx{0});
  CHECK(children_to_restart(restart_strategy::one_for_one, kids, 1, false).empty());
  CHECK(children_to_restart(restart_strategy::one_for_one, kids, 1, true) == idx{1});
  CHECK(children_to_restart(restart_strategy::one_for_one, kids, 2, true).empty());
  // One for all: the temporary sibling is stopped, not started again.
  CHECK(children_to_restart(restart_strategy::one_for_all, kids, 0, true) == idx{0, 1});
  // A temporary child that ends restarts nobody.
  CHECK(children_to_restart(restart_strategy::one_for_all, kids, 2, true).empty());
}

TEST_CASE("more than max_restarts within the period escalates") {
  restart_intensity r{3, 1'000ms};
  std::chrono::steady_clock::time_point t0{};
  CHECK(r.allow(t0));
  CHECK(r.allow(t0 + 100ms));
  CHECK(r.allow(t0 + 200ms));
  CHECK_FALSE(r.allow(t0 + 300ms)); // the fourth within a second
  // Restarts older than the period no longer count.
  restart_intensity slow{3, 1'000ms};
  for (int i = 0; i < 20; ++i)
    CHECK(slow.allow(t0 + i * 400ms));
  restart_intensity none{0, 1'000ms};
  CHECK_FALSE(none.allow(t0));
}
