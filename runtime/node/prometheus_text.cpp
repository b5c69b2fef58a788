#include "runtime/node/prometheus_text.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <span>
#include <sstream>

#include "drivers/call_metrics.hpp"

namespace custodian {

namespace {

std::string escape(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"')
      out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

class exposition {
public:
  /// Starts a metric family: its HELP and TYPE lines.
  void family(const std::string& name, const char* type, const char* help) {
    out_ << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
  }

  template <class Value>
  void sample(const std::string& name, const std::string& labels, const Value& value) {
    out_ << name;
    if (!labels.empty())
      out_ << '{' << labels << '}';
    out_ << ' ' << value << '\n';
  }

  std::string text() const { return out_.str(); }

private:
  std::ostringstream out_;
};

/// Seconds from microseconds, in the fewest digits that read back as the same
/// double (like Go's client): a stream's default 6 digits would round large sums.
std::string seconds(uint64_t us) {
  auto value = static_cast<double>(us) / 1e6;
  char text[32];
  for (int digits = 1;; ++digits) {
    std::snprintf(text, sizeof text, "%.*g", digits, value);
    if (digits == 17 || std::strtod(text, nullptr) == value)
      return text;
  }
}

std::string pool_label(const pool_stats& s) {
  return "pool=\"" + escape(s.name) + "\"";
}

struct per_pool {
  const char* name;
  const char* type;
  const char* help;
  std::function<uint64_t(const pool_stats&)> value;
};

const std::vector<per_pool>& pool_families() {
  static const std::vector<per_pool> families{
    {"custodian_pool_size", "gauge", "Resources alive or being created.",
     [](const pool_stats& s) { return s.size; }},
    {"custodian_pool_idle", "gauge", "Resources ready to be handed out.",
     [](const pool_stats& s) { return s.idle; }},
    {"custodian_pool_in_use", "gauge", "Resources leased.",
     [](const pool_stats& s) { return s.in_use; }},
    {"custodian_pool_waiters", "gauge", "Acquires waiting in line.",
     [](const pool_stats& s) { return s.waiters; }},
    {"custodian_pool_quarantined", "gauge", "Resources in quarantine.",
     [](const pool_stats& s) { return s.quarantined; }},
    {"custodian_pool_degraded", "gauge", "Resources reported degraded.",
     [](const pool_stats& s) { return s.degraded; }},
    {"custodian_pool_min_idle", "gauge", "Configured min_idle.",
     [](const pool_stats& s) { return uint64_t{s.min_idle}; }},
    {"custodian_pool_max_size", "gauge", "Configured max_size.",
     [](const pool_stats& s) { return uint64_t{s.max_size}; }},
    {"custodian_pool_acquired_total", "counter", "Leases handed out.",
     [](const pool_stats& s) { return s.acquired; }},
    {"custodian_pool_timeouts_total", "counter", "Acquires that timed out waiting.",
     [](const pool_stats& s) { return s.timeouts; }},
    {"custodian_pool_created_total", "counter", "Resources that reached ready.",
     [](const pool_stats& s) { return s.created; }},
    {"custodian_pool_closed_total", "counter", "Resources retired and closed.",
     [](const pool_stats& s) { return s.closed; }},
    {"custodian_pool_creation_failures_total", "counter", "Resources that could not be created.",
     [](const pool_stats& s) { return s.creation_failures; }},
    {"custodian_pool_reclaimed_total", "counter",
     "Leases taken back from holders that died, leaked or at drain.",
     [](const pool_stats& s) { return s.reclaimed; }},
    {"custodian_pool_leaks_total", "counter", "Leases reclaimed past their TTL.",
     [](const pool_stats& s) { return s.leaks; }},
    {"custodian_pool_quarantined_total", "counter", "Resources put in quarantine.",
     [](const pool_stats& s) { return s.ejections; }},
    {"custodian_pool_reinstated_total", "counter", "Resources back from quarantine.",
     [](const pool_stats& s) { return s.reinstated; }},
    {"custodian_pool_restarts_total", "counter", "Resources restarted by their supervisor.",
     [](const pool_stats& s) { return s.restarts; }},
    {"custodian_pool_dead_on_acquire_total", "counter",
     "Idle resources found closed by the server when about to be handed out.",
     [](const pool_stats& s) { return s.dead_on_acquire; }},
    {"custodian_pool_reset_on_return_total", "counter",
     "Returned resources reset first because their holder left state behind.",
     [](const pool_stats& s) { return s.reset_on_return; }},
    {"custodian_pool_failed_total", "counter", "Resources that failed while leased.",
     [](const pool_stats& s) { return s.failed; }},
    {"custodian_pool_bad_releases_total", "counter", "Releases of unknown leases.",
     [](const pool_stats& s) { return s.bad_releases; }},
  };
  return families;
}

/// One pool's latency histogram: counts by bucket (the last one past every bound)
/// and the sum of the latencies.
struct latency_figures {
  const std::vector<uint64_t>& buckets;
  uint64_t total_us;
};

uint64_t count_at(const std::vector<uint64_t>& counts, std::size_t i) {
  return i < counts.size() ? counts[i] : 0;
}

/// A histogram family with one cumulative series per pool; every bucket is
/// written, +Inf included, even when a pool has counted nothing yet.
void histogram(exposition& out, const std::string& name, const char* help,
               std::span<const uint64_t> bounds_us, const std::vector<pool_metrics>& pools,
               const std::function<latency_figures(const pool_stats&)>& figures_of) {
  out.family(name, "histogram", help);
  for (const auto& p : pools) {
    auto labels = pool_label(p.stats);
    auto figures = figures_of(p.stats);
    uint64_t cumulative = 0;
    for (std::size_t i = 0; i <= bounds_us.size(); ++i) {
      cumulative += count_at(figures.buckets, i);
      auto le = i < bounds_us.size() ? seconds(bounds_us[i]) : std::string{"+Inf"};
      out.sample(name + "_bucket", labels + ",le=\"" + le + "\"", cumulative);
    }
    out.sample(name + "_sum", labels, seconds(figures.total_us));
    out.sample(name + "_count", labels, cumulative);
  }
}

/// The families of one kind of driver call: a counter by outcome and a latency
/// histogram.
struct call_families {
  const char* counter;
  const char* counter_help;
  const char* outcome_label;
  const char* histogram;
  const char* histogram_help;
  /// Only a ping can pass degraded.
  bool can_degrade;
  const call_stats& (*of)(const pool_stats&);
};

const std::vector<call_families>& driver_call_families() {
  static const std::vector<call_families> families{
    {"custodian_health_probes_total", "Pings of the pool's connections, by result.", "result",
     "custodian_health_probe_seconds", "How long the pings of the pool's connections took.", true,
     [](const pool_stats& s) -> const call_stats& { return s.probes; }},
    {"custodian_exec_total", "Execs on the pool's connections, by outcome.", "outcome",
     "custodian_exec_seconds", "How long the execs on the pool's connections took.", false,
     [](const pool_stats& s) -> const call_stats& { return s.execs; }},
  };
  return families;
}

/// Every outcome a call can end with is written, 0 included, so that each series
/// exists from the start and rate() over it needs no special case.
void driver_calls(exposition& out, const std::vector<pool_metrics>& pools) {
  for (const auto& f : driver_call_families()) {
    out.family(f.counter, "counter", f.counter_help);
    for (const auto& p : pools)
      for (std::size_t i = 0; i < drivers::call_outcomes; ++i)
        if (f.can_degrade || i != drivers::outcome_degraded)
          out.sample(f.counter,
                     pool_label(p.stats) + "," + f.outcome_label + "=\"" +
                       drivers::call_outcome_name(i) + "\"",
                     count_at(f.of(p.stats).outcomes, i));
    histogram(out, f.histogram, f.histogram_help, drivers::call_latency_bounds_us, pools,
              [&](const pool_stats& s) {
                const auto& calls = f.of(s);
                return latency_figures{calls.latency_histogram, calls.latency_total_us};
              });
  }
}

} // namespace

std::string prometheus_text(const std::vector<pool_metrics>& pools, const event_bus_stats& events) {
  exposition out;
  for (const auto& f : pool_families()) {
    out.family(f.name, f.type, f.help);
    for (const auto& p : pools)
      out.sample(f.name, pool_label(p.stats), f.value(p.stats));
  }
  histogram(out, "custodian_pool_acquire_wait_seconds", "How long granted acquires waited.",
            acquire_wait_bounds_us, pools, [](const pool_stats& s) {
              return latency_figures{s.acquire_wait_histogram, s.acquire_wait_total_us};
            });
  driver_calls(out, pools);
  out.family("custodian_pool_state", "gauge", "1 for the pool's current state.");
  for (const auto& p : pools)
    out.sample("custodian_pool_state",
               pool_label(p.stats) + ",state=\"" + to_string(p.stats.state) + "\"", uint64_t{1});
  out.family("custodian_pool_health", "gauge", "1 for the pool's own health.");
  for (const auto& p : pools)
    out.sample("custodian_pool_health",
               pool_label(p.stats) + ",status=\"" + to_string(p.stats.health) + "\"", uint64_t{1});
  out.family("custodian_pool_available", "gauge",
             "1 while the pool's dependencies leave it available, 0 otherwise.");
  for (const auto& p : pools)
    out.sample("custodian_pool_available", pool_label(p.stats),
               uint64_t{p.stats.avail.is != availability::level::unavailable});
  out.family("custodian_resource_health", "gauge", "1 for each resource's health status.");
  for (const auto& p : pools)
    for (const auto& r : p.resources)
      out.sample("custodian_resource_health",
                 pool_label(p.stats) + ",resource=\"" + escape(r.id) + "\",status=\"" +
                   to_string(r.health) + "\"",
                 uint64_t{1});
  out.family("custodian_events_published_total", "counter", "Events published on the bus.");
  out.sample("custodian_events_published_total", "", events.published);
  out.family("custodian_events_dropped_total", "counter",
             "Events dropped for subscribers that fell behind.");
  out.sample("custodian_events_dropped_total", "", events.dropped);
  return out.text();
}

} // namespace custodian
