#include "drivers/call_metrics.hpp"

#include <algorithm>

#include "drivers/driver.hpp"

namespace custodian::drivers {

std::string call_outcome_name(std::size_t outcome) {
  if (outcome == outcome_ok)
    return "ok";
  if (outcome == outcome_degraded)
    return "degraded";
  return to_string(static_cast<driver_errc>(outcome - 1));
}

std::size_t call_outcome_of(driver_errc code) {
  auto i = static_cast<std::size_t>(code) + 1;
  return i < call_outcomes ? i : call_outcomes - 1;
}

void call_metrics::record(call kind, std::size_t outcome, std::chrono::microseconds latency) {
  auto& c = calls_[static_cast<std::size_t>(kind)];
  auto us = static_cast<uint64_t>(std::max<int64_t>(latency.count(), 0));
  auto bucket = static_cast<std::size_t>(
    std::lower_bound(call_latency_bounds_us.begin(), call_latency_bounds_us.end(), us) -
    call_latency_bounds_us.begin());
  c.outcomes[std::min(outcome, call_outcomes - 1)].fetch_add(1, std::memory_order_relaxed);
  c.histogram[bucket].fetch_add(1, std::memory_order_relaxed);
  c.total_us.fetch_add(us, std::memory_order_relaxed);
}

call_figures call_metrics::figures(call kind) const {
  const auto& c = calls_[static_cast<std::size_t>(kind)];
  call_figures out;
  for (std::size_t i = 0; i < call_outcomes; ++i)
    out.outcomes[i] = c.outcomes[i].load(std::memory_order_relaxed);
  for (std::size_t i = 0; i < c.histogram.size(); ++i)
    out.latency_histogram[i] = c.histogram[i].load(std::memory_order_relaxed);
  out.latency_total_us = c.total_us.load(std::memory_order_relaxed);
  return out;
}

} // namespace custodian::drivers
