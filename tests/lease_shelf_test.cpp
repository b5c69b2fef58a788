// The shelf where a pool lends idle resources to threads, without actors: the
// pool's side (stock, recall, retire) and the callers' (take, put back, forget).

#include <doctest/doctest.h>

#include "actors/lease_shelf.hpp"
#include "drivers/sim/sim_driver.hpp"

using namespace custodian;
using namespace std::chrono_literals;

namespace {

const lease_shelf::time_point t0{};

std::vector<lease_shelf::stocked> leases(std::initializer_list<uint64_t> ids) {
  std::vector<lease_shelf::stocked> out;
  auto sim = std::make_shared<drivers::sim_driver>();
  for (auto id : ids) {
    auto conn = sim->connect("r" + std::to_string(id), 1s);
    REQUIRE(conn);
    out.push_back({{lease{id, "p", "r" + std::to_string(id), {}}, conn.value()},
                   t0 + std::chrono::seconds{id}});
  }
  return out;
}

} // namespace

TEST_CASE("lease shelf: nothing is taken before the pool stocks it, nor after it retires") {
  lease_shelf shelf;
  CHECK_FALSE(shelf.take());
  shelf.stock(leases({1}), true);
  CHECK(shelf.available() == 1);
  shelf.retire();
  CHECK_FALSE(shelf.take());
  shelf.stock(leases({2}), true); // a retired shelf stays empty
  CHECK_FALSE(shelf.take());
  CHECK(shelf.available() == 0);
}

TEST_CASE("lease shelf: callers take the last one put back (lifo) or the longest waiting") {
  SUBCASE("lifo") {
    lease_shelf shelf;
    shelf.stock(leases({1, 2}), true);
    auto a = shelf.take();
    REQUIRE(a);
    CHECK(a->granted.id == 2);
    CHECK(a->conn);
    CHECK(shelf.put_back(2));
    CHECK(shelf.take()->granted.id == 2);
  }
  SUBCASE("fifo") {
    lease_shelf shelf;
    shelf.stock(leases({1, 2}), false);
    CHECK(shelf.take()->granted.id == 1);
    CHECK(shelf.put_back(1));
    CHECK(shelf.take()->granted.id == 2);
    CHECK(shelf.take()->granted.id == 1);
    CHECK_FALSE(shelf.take());
  }
  lease_shelf counted;
  counted.stock(leases({1}), true);
  counted.take();
  CHECK(counted.counted().taken == 1);
}

TEST_CASE("lease shelf: a recall takes back what is on it, and what is out comes back via the "
          "pool") {
  lease_shelf shelf;
  shelf.stock(leases({1, 2, 3}), false);
  auto out = shelf.take(); // lease 1, out with a caller
  REQUIRE(out);
  auto back = shelf.recall();
  REQUIRE(back.size() == 2);
  CHECK(back[0].lease == 2);
  CHECK(back[1].lease == 3);
  CHECK_FALSE(back[0].used);
  CHECK(back[0].idle_since == t0 + 2s);
  CHECK_FALSE(shelf.take()); // closed
  // Stocked again meanwhile, the recalled lease still goes back through the pool.
  shelf.stock(leases({4}), false);
  CHECK_FALSE(shelf.put_back(1));
  CHECK_FALSE(shelf.put_back(1)); // forgotten: not put back twice
  CHECK(shelf.take()->granted.id == 4);
}

TEST_CASE("lease shelf: a recalled lease that a caller used says so") {
  lease_shelf shelf;
  shelf.stock(leases({1}), true);
  shelf.take();
  CHECK(shelf.put_back(1));
  auto back = shelf.recall();
  REQUIRE(back.size() == 1);
  CHECK(back[0].used);
}

TEST_CASE("lease shelf: a forgotten lease is not the shelf's any more, and dead ones are counted") {
  lease_shelf shelf;
  shelf.stock(leases({1, 2}), true);
  auto a = shelf.take();
  auto b = shelf.take();
  shelf.forget(a->granted.id, true);
  shelf.forget(b->granted.id, false);
  CHECK_FALSE(shelf.put_back(a->granted.id));
  CHECK(shelf.counted().dead == 1);
  CHECK(shelf.recall().empty());
  // An item on the shelf (not out) cannot be forgotten or put back by a caller.
  shelf.stock(leases({3}), true);
  shelf.forget(3, false);
  CHECK_FALSE(shelf.put_back(3));
  CHECK(shelf.available() == 1);
}
