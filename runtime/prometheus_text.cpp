#include "runtime/prometheus_text.hpp"

#include <cstdint>
#include <functional>
#include <sstream>

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

  template <class Number>
  void sample(const std::string& name, const std::string& labels, Number value) {
    out_ << name;
    if (!labels.empty())
      out_ << '{' << labels << '}';
    out_ << ' ' << value << '\n';
  }

  std::string text() const { return out_.str(); }

private:
  std::ostringstream out_;
};

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
    {"custodian_pool_failed_total", "counter", "Resources that failed while leased.",
     [](const pool_stats& s) { return s.failed; }},
    {"custodian_pool_bad_releases_total", "counter", "Releases of unknown leases.",
     [](const pool_stats& s) { return s.bad_releases; }},
  };
  return families;
}

void wait_histogram(exposition& out, const std::vector<pool_metrics>& pools) {
  const std::string name = "custodian_pool_acquire_wait_seconds";
  out.family(name, "histogram", "How long granted acquires waited.");
  for (const auto& p : pools) {
    const auto& s = p.stats;
    auto labels = pool_label(s);
    uint64_t cumulative = 0;
    for (std::size_t i = 0; i < s.acquire_wait_histogram.size(); ++i) {
      cumulative += s.acquire_wait_histogram[i];
      auto le = i < acquire_wait_bounds_us.size()
                  ? [&] {
                      std::ostringstream bound;
                      bound << static_cast<double>(acquire_wait_bounds_us[i]) / 1e6;
                      return bound.str();
                    }()
                  : std::string{"+Inf"};
      out.sample(name + "_bucket", labels + ",le=\"" + le + "\"", cumulative);
    }
    out.sample(name + "_sum", labels, static_cast<double>(s.acquire_wait_total_us) / 1e6);
    out.sample(name + "_count", labels, cumulative);
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
  wait_histogram(out, pools);
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
