// The pool supervisor owns a pool's resources: they end with their pool; one that
// crashes is started again under its name with a fresh connection, alone or with
// the siblings its strategy names, its lease taken back; more crashes than the
// restart intensity allows put the pool in `error`, and it tries again later.

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

pool_config with_strategy(pool_config c, restart_strategy strategy) {
  c.supervision.strategy = strategy;
  return c;
}

/// The lease of `h` was taken back because its resource was restarted.
bool restarted(pool_fixture& f, const pool_actor& p, const pool_fixture::held& h) {
  auto r = exec_on(f, p, h.granted.id);
  return r.failed_with(errc::unavailable) && mentions(r.error, "its resource was restarted");
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

TEST_CASE_FIXTURE(pool_fixture, "a resource that crashes or is killed is started again alone") {
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
  auto s = stats(p);
  CHECK(s.state == pool_state::active);
  CHECK(s.restarts == 1);
  CHECK(s.failed == 1);
  CHECK(s.in_use == 1); // the other lease is untouched
  CHECK(s.idle == 1);   // started again
  CHECK(s.created == 3);
  CHECK(restarted(*this, p, leases[0]));
  CHECK(exec_on(*this, p, leases[1].granted.id).value);
  CHECK(sim->open_connections() == 2);
}

TEST_CASE_FIXTURE(pool_fixture, "one_for_all starts every resource again when one crashes") {
  auto p = make_pool(with_strategy(pool_cfg(3, 3), restart_strategy::one_for_all));
  auto leases = lease_all(*this, p, 3);
  caf::anon_send_exit(leases[1].granted.handle, caf::exit_reason::kill);
  settle();
  auto s = stats(p);
  CHECK(s.restarts == 3);
  CHECK(s.in_use == 0);
  CHECK(s.idle == 3);
  for (const auto& l : leases)
    CHECK(restarted(*this, p, l));
  auto r = exec_on(*this, p, leases[0].granted.id);
  CHECK(mentions(r.error, "restarted along with " + leases[1].granted.resource));
  CHECK(sim->open_connections() == 3);
}

TEST_CASE_FIXTURE(pool_fixture,
                  "rest_for_one starts again the crashed resource and those created after it") {
  auto p = make_pool(with_strategy(pool_cfg(3, 3), restart_strategy::rest_for_one));
  auto leases = lease_all(*this, p, 3);
  std::map<std::string, pool_fixture::held> by_name;
  for (auto& l : leases)
    by_name.emplace(l.granted.resource, l);
  caf::anon_send_exit(by_name.at("orders-2").granted.handle, caf::exit_reason::kill);
  settle();
  auto s = stats(p);
  CHECK(s.restarts == 2);
  CHECK(s.in_use == 1);
  CHECK(exec_on(*this, p, by_name.at("orders-1").granted.id).value);
  CHECK(restarted(*this, p, by_name.at("orders-2")));
  CHECK(restarted(*this, p, by_name.at("orders-3")));
}

TEST_CASE_FIXTURE(
  pool_fixture,
  "more crashes than the restart intensity put the pool in error until it tries again") {
  auto c = pool_cfg(2, 2);
  c.supervision.max_restarts = 2;
  c.supervision.period = 10'000ms;
  c.supervision.retry = backoff_policy{1'000ms, 8'000ms, 0.0};
  auto p = make_pool(c);
  auto survivor = acquire(p);
  for (int crash = 0; crash < 3; ++crash) {
    auto victim = acquire(p);
    caf::anon_send_exit(victim.granted.handle, caf::exit_reason::kill);
    settle();
  }
  auto s = stats(p);
  CHECK(s.state == pool_state::error);
  CHECK(s.size == 0);
  CHECK(s.in_use == 0); // every lease taken back
  CHECK(s.restarts == 2);
  CHECK(sim->open_connections() == 0);
  auto refused = call<lease>(p, acquire_atom::value);
  CHECK(refused.failed_with(errc::unavailable));
  auto why = exec_on(*this, p, survivor.granted.id);
  CHECK(mentions(why.error, "its supervisor gave up"));
  CHECK(mentions(why.error, "more than 2 restarts within 10000 ms"));
  CHECK_FALSE(release(p, survivor.granted.id)); // a late return, no bad release
  // The first try comes after the retry backoff: a new supervisor, min_idle anew.
  advance(999ms);
  settle();
  CHECK(stats(p).state == pool_state::error);
  advance(1ms);
  settle();
  s = stats(p);
  CHECK(s.state == pool_state::active);
  CHECK(s.idle == 2);
  CHECK(s.bad_releases == 0);
  CHECK(exec_on(*this, p, acquire(p).granted.id).value);
}

TEST_CASE_FIXTURE(pool_fixture, "a pool drained meanwhile stops its restarted resources too") {
  auto p = make_pool(pool_cfg(2, 2));
  auto h = acquire(p);
  caf::anon_send_exit(h.granted.handle, caf::exit_reason::kill);
  auto drained = ask(p, drain_atom::value);
  settle();
  CHECK_FALSE(release(p, h.granted.id));
  settle();
  auto r = take<pool_state>(drained);
  CHECK(r.value == pool_state::destroyed);
  CHECK(stats(p).size == 0);
  CHECK(sim->open_connections() == 0);
}
