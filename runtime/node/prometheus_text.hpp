#pragma once
// The node's metrics in Prometheus' text exposition format (version 0.0.4):
// gauges, counters and the acquire wait histogram of every pool, its driver's
// probes and execs by outcome and latency, each resource's health, and the event
// bus' counters.

#include <string>
#include <vector>

#include "messages/event.hpp"
#include "messages/pool_messages.hpp"

namespace custodian {

/// One pool as the metrics see it.
struct pool_metrics {
  pool_stats stats;
  std::vector<resource_summary> resources;
};

std::string prometheus_text(const std::vector<pool_metrics>& pools, const event_bus_stats& events);

} // namespace custodian
