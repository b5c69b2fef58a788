#pragma once
// Wall-clock milliseconds with µs resolution, advanced by the monotonic clock:
// comparable with the PostgreSQL log's %n stamps (epoch ms), yet never going back
// when the system clock is adjusted during a run (the peers stamp theirs alike).

#include <chrono>

namespace custodian::bench {

inline double wall_ms() {
  using namespace std::chrono;
  static const auto steady0 = steady_clock::now();
  static const double wall0 =
    duration<double, std::milli>(system_clock::now().time_since_epoch()).count();
  return wall0 + duration<double, std::milli>(steady_clock::now() - steady0).count();
}

} // namespace custodian::bench
