// The pool's plain policies, tested without actors at exact instants: the FIFO
// waiter queue with per-request deadlines and the lease table.

#include <string>

#include <doctest/doctest.h>

#include "actors/lease_table.hpp"
#include "actors/waiter_queue.hpp"

using namespace custodian;
using namespace std::chrono_literals;

namespace {

using time_point = std::chrono::steady_clock::time_point;
const time_point t0{};

} // namespace

TEST_CASE("waiters are served in arrival order whatever their deadlines") {
  waiter_queue<int, std::string> q;
  q.push(1, "a", t0 + 500ms);
  q.push(2, "b", t0 + 100ms);
  q.push(3, "a", t0 + 900ms);
  CHECK(q.size() == 3);
  CHECK(q.next_deadline() == t0 + 100ms);
  CHECK(q.pop()->payload == 1);
  CHECK(q.pop()->payload == 2);
  CHECK(q.next_deadline() == t0 + 900ms);
  CHECK(q.pop()->payload == 3);
  CHECK_FALSE(q.pop());
  CHECK_FALSE(q.next_deadline());
}

TEST_CASE("expiry takes exactly the waiters that are due, oldest first") {
  waiter_queue<int, std::string> q;
  q.push(1, "a", t0 + 300ms);
  q.push(2, "b", t0 + 100ms);
  q.push(3, "c", t0 + 100ms);
  q.push(4, "d", t0 + 200ms);
  CHECK(q.expire(t0 + 99ms).empty());
  auto due = q.expire(t0 + 200ms);
  REQUIRE(due.size() == 3);
  CHECK(due[0].payload == 2);
  CHECK(due[1].payload == 3);
  CHECK(due[2].payload == 4);
  // An expired waiter is gone for good: it is never served later.
  CHECK(q.size() == 1);
  CHECK(q.pop()->payload == 1);
  CHECK(q.empty());
}

TEST_CASE("the waiters of a holder that died are removed, the others keep their places") {
  waiter_queue<int, std::string> q;
  q.push(1, "dead", t0 + 1s);
  q.push(2, "alive", t0 + 1s);
  q.push(3, "dead", t0 + 2s);
  auto gone = q.remove_holder("dead");
  REQUIRE(gone.size() == 2);
  CHECK(gone[0].payload == 1);
  CHECK(gone[1].payload == 3);
  CHECK(q.next_deadline() == t0 + 1s);
  CHECK(q.pop()->payload == 2);
  CHECK(q.expire(t0 + 10s).empty());
}

TEST_CASE("a lease closes once, a second close is unknown") {
  lease_table<std::string> t;
  auto id = t.open(3, "holder", t0, 0ms).id;
  CHECK(t.size() == 1);
  REQUIRE(t.find(id));
  CHECK(t.find(id)->slot == 3);
  auto [first, e] = t.close(id);
  CHECK(first == lease_close::released);
  REQUIRE(e);
  CHECK(e->holder == "holder");
  CHECK(t.close(id).first == lease_close::unknown);
  CHECK(t.close(999).first == lease_close::unknown);
  CHECK(t.size() == 0);
}

TEST_CASE("leases past their TTL are overdue, reclaimed ones read as late returns") {
  lease_table<std::string> t;
  auto no_ttl = t.open(0, "a", t0, 0ms).id;
  auto short_ttl = t.open(1, "b", t0, 100ms).id;
  auto long_ttl = t.open(2, "c", t0 + 50ms, 200ms).id;
  CHECK(t.next_deadline() == t0 + 100ms);
  CHECK(t.overdue(t0 + 99ms).empty());
  auto due = t.overdue(t0 + 250ms);
  REQUIRE(due.size() == 2);
  CHECK(due[0] == short_ttl);
  CHECK(due[1] == long_ttl);
  auto leaked = t.reclaim(short_ttl, "leaked");
  REQUIRE(leaked);
  CHECK(leaked->holder == "b");
  REQUIRE(t.reclaim_reason(short_ttl));
  CHECK(*t.reclaim_reason(short_ttl) == "leaked");
  CHECK_FALSE(t.reclaim_reason(long_ttl));
  CHECK(t.overdue(t0 + 250ms) == std::vector<uint64_t>{long_ttl});
  // The leaking holder returns it at last: reported as a late return, once.
  CHECK(t.close(short_ttl).first == lease_close::late_return);
  CHECK_FALSE(t.reclaim_reason(short_ttl));
  CHECK(t.close(short_ttl).first == lease_close::unknown);
  CHECK(t.close(no_ttl).first == lease_close::released);
  CHECK_FALSE(t.reclaim(no_ttl, "closed already"));
}

TEST_CASE("the leases of one holder are found together") {
  lease_table<std::string> t;
  auto a1 = t.open(0, "a", t0, 0ms).id;
  t.open(1, "b", t0, 0ms);
  auto a2 = t.open(2, "a", t0, 0ms).id;
  CHECK(t.held_by("a") == std::vector<uint64_t>{a1, a2});
  CHECK(t.held_by("nobody").empty());
}

TEST_CASE("only a bounded number of reclaimed leaks is remembered") {
  lease_table<std::string> t{2};
  std::vector<uint64_t> ids;
  for (int i = 0; i < 3; ++i) {
    ids.push_back(t.open(0, "x", t0, 1ms).id);
    t.reclaim(ids.back(), "leaked");
  }
  CHECK(t.close(ids[0]).first == lease_close::unknown); // forgotten
  CHECK(t.close(ids[1]).first == lease_close::late_return);
  CHECK(t.close(ids[2]).first == lease_close::late_return);
}
