// The pool supervisor owns a pool's resources: they end with their pool, and a
// resource that crashes ends alone and is replaced by the pool.

#include "actors/pool.hpp"
#include "tests/support/deterministic_fixture.hpp"

using namespace custodian;
using namespace custodian::test;
using namespace std::chrono_literals;

namespace {

struct supervised_fixture : deterministic_fixture {
  pool_actor make_pool(uint32_t min_idle, uint32_t max_size) {
    pool_config c;
    c.name = "orders";
    c.driver = sim;
    c.min_idle = min_idle;
    c.max_size = max_size;
    c.resource = config("template");
    auto p = spawn_pool(sys, std::move(c), resource_context{executor, bus});
    track(p);
    settle();
    return p;
  }

  /// Every resource of the pool, taken from an acquire per resource.
  std::vector<lease> lease_all(const pool_actor& p, std::size_t n,
                               std::shared_ptr<caf::scoped_actor> holder) {
    std::vector<lease> out;
    for (std::size_t i = 0; i < n; ++i) {
      auto pending = ask_from(holder, p, acquire_atom::value);
      settle();
      auto r = take<lease>(pending);
      REQUIRE(r.value);
      out.push_back(*r.value);
    }
    return out;
  }
};

} // namespace

TEST_CASE_FIXTURE(supervised_fixture, "a pool that fails takes its resources down with it") {
  auto p = make_pool(3, 3);
  auto holder = make_sender();
  auto leases = lease_all(p, 3, holder);
  CHECK(sim->open_connections() == 3);
  caf::anon_send_exit(p, caf::exit_reason::kill);
  settle();
  // Every resource ended and closed its connection, leased or not.
  for (const auto& l : leases) {
    auto r = call<resource_status>(l.handle, status_atom::value);
    CHECK(r.error);
  }
  CHECK(sim->open_connections() == 0);
}

TEST_CASE_FIXTURE(supervised_fixture, "a resource that crashes ends alone and is replaced") {
  auto p = make_pool(2, 2);
  auto holder = make_sender();
  auto leases = lease_all(p, 2, holder);
  // As an uncaught exception would end it (a kill would end its linked supervisor too).
  caf::anon_send_exit(leases[0].handle, caf::exit_reason::unhandled_exception);
  settle();
  auto r = call<pool_stats>(p, stats_atom::value);
  REQUIRE(r.value);
  CHECK(r.value->state == pool_state::active);
  CHECK(r.value->failed == 1);
  CHECK(r.value->in_use == 1); // the other lease is untouched
  CHECK(r.value->idle == 1);   // the replacement
  CHECK(r.value->created == 3);
  CHECK(call<resource_status>(leases[1].handle, status_atom::value).value);
  CHECK(sim->open_connections() == 2);
}
