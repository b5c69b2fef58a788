#pragma once
// Counts and latencies of a driver's pings and execs, kept by the driver
// interface around every call (lock-free), read by the pool for its metrics.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace custodian::drivers {

enum class driver_errc : uint8_t;

/// Upper bounds (µs) of the latency histograms' buckets; one more bucket holds
/// the longer calls.
inline constexpr std::array<uint64_t, 14> call_latency_bounds_us{
  100,    250,    500,     1'000,   2'500,   5'000,     10'000,
  25'000, 50'000, 100'000, 250'000, 500'000, 1'000'000, 5'000'000};

/// What a call ended with: "ok", "degraded" (a ping that passed impaired), or the
/// name of its driver_errc ("timeout", "refused", "rejected", ...).
inline constexpr std::size_t call_outcomes = 11;
std::string call_outcome_name(std::size_t outcome);
std::size_t call_outcome_of(driver_errc code);
inline constexpr std::size_t outcome_ok = 0;
inline constexpr std::size_t outcome_degraded = 1;

/// A copy of one kind of call's figures.
struct call_figures {
  /// Calls by outcome (index: see call_outcome_name).
  std::vector<uint64_t> outcomes = std::vector<uint64_t>(call_outcomes);
  /// Calls by latency: bucket i counts those up to call_latency_bounds_us[i].
  std::vector<uint64_t> latency_histogram =
    std::vector<uint64_t>(call_latency_bounds_us.size() + 1);
  uint64_t latency_total_us = 0;
};

class call_metrics {
public:
  enum class call : uint8_t { ping, exec };

  void record(call kind, std::size_t outcome, std::chrono::microseconds latency);

  call_figures figures(call kind) const;

private:
  struct counters {
    std::array<std::atomic<uint64_t>, call_outcomes> outcomes{};
    std::array<std::atomic<uint64_t>, call_latency_bounds_us.size() + 1> histogram{};
    std::atomic<uint64_t> total_us{0};
  };
  std::array<counters, 2> calls_;
};

} // namespace custodian::drivers
