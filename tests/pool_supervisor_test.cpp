// The pool supervisor owns a pool's resources: they end with their pool, and a
// resource that crashes ends alone and is replaced by the pool.

#include "tests/support/pool_fixture.hpp"

using namespace custodian;
using namespace custodian::test;
using namespace std::chrono_literals;

namespace {

/// Leases `n` resources for one holder.
std::vector<pool_fixture::held> lease_all(pool_fixture& f, const pool_actor& p, std::size_t n) {
  std::vector<pool_fixture::held> out;
  for (std::size_t i = 0; i < n; ++i)
    out.push_back(f.acquire(p));
  return out;
}

} // namespace

TEST_CASE_FIXTURE(pool_fixture, "a pool that fails takes its resources down with it") {
  auto p = make_pool(pool_cfg(3, 3));
  auto leases = lease_all(*this, p, 3);
  CHECK(sim->open_connections() == 3);
  caf::anon_send_exit(p, caf::exit_reason::kill);
  settle();
  // Every resource ended and closed its connection, leased or not.
  for (const auto& l : leases) {
    auto r = call<resource_status>(l.granted.handle, status_atom::value);
    CHECK(r.error);
  }
  CHECK(sim->open_connections() == 0);
}

TEST_CASE_FIXTURE(pool_fixture, "a resource that crashes or is killed ends alone and is replaced") {
  auto p = make_pool(pool_cfg(2, 2));
  auto leases = lease_all(*this, p, 2);
  SUBCASE("crashed") {
    // As an uncaught exception would end it.
    caf::anon_send_exit(leases[0].granted.handle, caf::exit_reason::unhandled_exception);
  }
  SUBCASE("killed") {
    // No exit handler can trap a kill: only monitors keep it from spreading.
    caf::anon_send_exit(leases[0].granted.handle, caf::exit_reason::kill);
  }
  settle();
  auto r = call<pool_stats>(p, stats_atom::value);
  REQUIRE(r.value);
  CHECK(r.value->state == pool_state::active);
  CHECK(r.value->failed == 1);
  CHECK(r.value->in_use == 1); // the other lease is untouched
  CHECK(r.value->idle == 1);   // the replacement
  CHECK(r.value->created == 3);
  CHECK(call<resource_status>(leases[1].granted.handle, status_atom::value).value);
  CHECK(sim->open_connections() == 2);
}
