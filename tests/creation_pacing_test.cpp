// The pacing of a pool's creations after failures, without actors: time is
// passed in, jitter is drawn as 0 (no shortening).

#include <doctest/doctest.h>

#include "actors/creation_pacing.hpp"

using namespace custodian;
using namespace std::chrono_literals;

namespace {

const backoff_policy policy{100ms, 2'000ms, 0.0};
const creation_pacing::time_point t0{};

} // namespace

TEST_CASE("creation pacing: a working backend creates at once and is not down") {
  creation_pacing p{policy};
  CHECK_FALSE(p.backend_down());
  CHECK(p.may_create(t0, false));
  CHECK(p.may_create(t0, true));
}

TEST_CASE(
  "creation pacing: a refused connect is retried on demand at once and by itself every base") {
  creation_pacing p{policy};
  // Cheap failures in a row never grow the delay.
  for (auto at : {0ms, 100ms, 200ms, 300ms}) {
    CHECK(p.failed(t0 + at, "connect failed: refused", true, 0.0) == 100ms);
    CHECK(p.backend_down());
    CHECK(p.may_create(t0 + at, true));        // an acquire may try now
    CHECK_FALSE(p.may_create(t0 + at, false)); // the pool itself waits
    CHECK(p.may_create(t0 + at + 100ms, false));
  }
  CHECK(p.failures_in_row() == 4);
  CHECK(p.last_error() == "connect failed: refused");
}

TEST_CASE("creation pacing: rejected credentials back off exponentially and never on demand") {
  creation_pacing p{policy};
  std::chrono::milliseconds expected[] = {100ms, 200ms, 400ms, 800ms, 1'600ms, 2'000ms, 2'000ms};
  auto now = t0;
  for (auto delay : expected) {
    CHECK(p.failed(now, "connect failed: auth: password authentication failed", false, 0.0) ==
          delay);
    CHECK_FALSE(p.may_create(now, true));
    CHECK_FALSE(p.may_create(now + delay - 1ms, false));
    CHECK(p.may_create(now + delay, false));
    now += delay;
  }
  // 7 attempts in 7.1 s: no tight loop, whatever the acquirers do.
  CHECK(now - t0 == 7'100ms);
}

TEST_CASE(
  "creation pacing: only costly failures grow the delay, and a cheap one starts them afresh") {
  creation_pacing p{policy};
  CHECK(p.failed(t0, "auth", false, 0.0) == 100ms);
  CHECK(p.failed(t0, "auth", false, 0.0) == 200ms);
  CHECK(p.failed(t0, "refused", true, 0.0) == 100ms);
  CHECK(p.failed(t0, "auth", false, 0.0) == 100ms);
  CHECK(p.failures_in_row() == 4);
}

TEST_CASE("creation pacing: a success ends the outage and the last error stays for reports") {
  creation_pacing p{policy};
  p.failed(t0, "auth", false, 0.0);
  p.failed(t0, "auth", false, 0.0);
  p.succeeded();
  CHECK_FALSE(p.backend_down());
  CHECK(p.failures_in_row() == 0);
  CHECK(p.may_create(t0, false));
  CHECK(p.last_error() == "auth");
  CHECK(p.failed(t0, "auth", false, 0.0) == 100ms); // the backoff starts again at base
}
