#pragma once
// The figures every benchmark program prints, one line per workload:
//   peer=custodian workload=NAME ops_per_sec=N p50_us=N p99_us=N [more=N ...]

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace custodian::bench {

using clock_type = std::chrono::steady_clock;

/// Latencies of one run and its wall time.
struct samples {
  std::vector<int64_t> ns;
  clock_type::duration elapsed{};
};

/// Nearest-rank percentile, as the peers compute theirs: the ceil(p * n)-th
/// smallest sample.
inline int64_t percentile_us(std::vector<int64_t>& ns, double p) {
  if (ns.empty())
    return 0;
  auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(ns.size())));
  auto k = std::clamp<std::size_t>(rank, 1, ns.size()) - 1;
  std::nth_element(ns.begin(), ns.begin() + static_cast<std::ptrdiff_t>(k), ns.end());
  return ns[k] / 1'000;
}

inline double per_second(std::size_t n, clock_type::duration d) {
  return static_cast<double>(n) / std::chrono::duration<double>(d).count();
}

inline void report(const std::string& workload, samples s, const std::string& extra = {},
                   std::size_t ops_count = 0) {
  auto ops = per_second(ops_count ? ops_count : s.ns.size(), s.elapsed);
  auto p50 = percentile_us(s.ns, 0.50);
  auto p99 = percentile_us(s.ns, 0.99);
  std::printf("peer=custodian workload=%s ops_per_sec=%.0f p50_us=%lld p99_us=%lld%s\n",
              workload.c_str(), ops, static_cast<long long>(p50), static_cast<long long>(p99),
              extra.c_str());
  std::fflush(stdout);
}

} // namespace custodian::bench
