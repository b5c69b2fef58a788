#pragma once
// A pool's stats asked through the embedding runtime, for tests on real threads,
// and an explicit wait for stats the test caused (a bounded poll, not a sleep).

#include <chrono>
#include <string>
#include <thread>

#include <caf/all.hpp>
#include <doctest/doctest.h>

#include "messages/errors.hpp"
#include "runtime/runtime.hpp"

namespace custodian::test {

/// The stats of `pool`, answered within `bound`; no answer fails the test.
inline pool_stats stats_of(runtime& rt, const pool_actor& pool,
                           std::chrono::milliseconds bound = std::chrono::seconds{30}) {
  caf::scoped_actor self{rt.system()};
  pool_stats out;
  self->request(pool, bound, stats_atom::value)
    .receive([&](pool_stats& s) { out = std::move(s); },
             [&](caf::error& err) { FAIL("stats failed: " << describe(err)); });
  return out;
}

inline pool_stats stats_of(runtime& rt, const std::string& pool,
                           std::chrono::milliseconds bound = std::chrono::seconds{30}) {
  return stats_of(rt, rt.pool(pool), bound);
}

/// Asks `pool` until `done(stats)` holds or `bound` passed, and returns the last
/// stats: the test's checks on them say what did not happen.
template <class Predicate>
pool_stats await_stats(runtime& rt, const pool_actor& pool, Predicate done,
                       std::chrono::milliseconds bound = std::chrono::seconds{30}) {
  auto give_up = std::chrono::steady_clock::now() + bound;
  for (;;) {
    auto s = stats_of(rt, pool);
    if (done(s) || std::chrono::steady_clock::now() > give_up)
      return s;
    std::this_thread::yield();
  }
}

} // namespace custodian::test
