#pragma once
// A pool's stats asked through the embedding runtime, for tests on real threads.

#include <chrono>
#include <string>

#include <caf/all.hpp>
#include <doctest/doctest.h>

#include "messages/errors.hpp"
#include "runtime/runtime.hpp"

namespace custodian::test {

/// The stats of `pool`, answered within `bound`; no answer fails the test.
inline pool_stats stats_of(runtime& rt, const std::string& pool,
                           std::chrono::milliseconds bound = std::chrono::seconds{30}) {
  caf::scoped_actor self{rt.system()};
  pool_stats out;
  self->request(rt.pool(pool), bound, stats_atom::value)
    .receive([&](pool_stats& s) { out = std::move(s); },
             [&](caf::error& err) { FAIL("stats failed: " << describe(err)); });
  return out;
}

} // namespace custodian::test
