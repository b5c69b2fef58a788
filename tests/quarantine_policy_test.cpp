// Quarantine's schedule, without actors: recovery delays double up to their cap
// and jitter only shortens them; max_ejection_percent bounds how much of a pool
// may be out at once.

#include <doctest/doctest.h>

#include "actors/quarantine_policy.hpp"

using namespace custodian;
using namespace std::chrono_literals;

TEST_CASE("recovery attempts wait base x 2^k, capped, less jitter") {
  quarantine_policy p;
  p.base_ejection = 100ms;
  p.max_ejection = 1'000ms;
  p.jitter = 0.0;
  CHECK(ejection_delay(p, 0, 0.5) == 100ms);
  CHECK(ejection_delay(p, 1, 0.5) == 200ms);
  CHECK(ejection_delay(p, 3, 0.5) == 800ms);
  CHECK(ejection_delay(p, 4, 0.5) == 1'000ms);
  CHECK(ejection_delay(p, 40, 0.5) == 1'000ms);
  p.jitter = 0.5;
  CHECK(ejection_delay(p, 2, 0.0) == 400ms);
  CHECK(ejection_delay(p, 2, 0.999) >= 200ms); // at most half taken away
  CHECK(ejection_delay(p, 2, 0.999) < 400ms);
}

TEST_CASE("max_ejection_percent bounds the share of a pool in quarantine") {
  quarantine_policy p;
  p.max_ejection_percent = 50.0;
  CHECK(may_eject(p, 4, 0));
  CHECK(may_eject(p, 4, 1));
  CHECK_FALSE(may_eject(p, 4, 2)); // a third of four would be 75 %
  CHECK_FALSE(may_eject(p, 1, 0)); // one of one would be 100 %
  p.max_ejection_percent = 100.0;
  CHECK(may_eject(p, 1, 0));
  p.max_ejection_percent = 0.0;
  CHECK_FALSE(may_eject(p, 10, 0));
}
