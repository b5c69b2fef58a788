#pragma once
// What one failover run records: every client operation and the named events of
// its timeline, stamped in wall-clock ms (bench/wall_clock.hpp). The figures are
// computed from this alone (bench/failover_figures.hpp), and it can be written in
// the peers' raw format (JSON lines), so that their analyze.mjs re-tabulates it.

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace custodian::bench {

/// One acquire -> SELECT 1 -> release. `at` says where it failed: "acquire" (no
/// connection) or "query" (a connection was handed out; the query failed).
struct op_record {
  int client = 0;
  double start = 0;
  double end = 0;
  bool ok = true;
  std::string at;
  std::string error;
};

/// A point of the timeline; `value`, `first` and `last` when it counts something.
struct timeline_event {
  std::string name;
  double ts = 0;
  std::optional<double> value;
  std::optional<double> first;
  std::optional<double> last;
  /// The pool's own count of its resources, when the event counts connections.
  std::optional<double> pool_total;
};

struct run_record {
  std::string peer = "custodian";
  std::string config = "default";
  std::string scenario;
  int run = 1;
  int clients = 4;
  int period_ms = 20;
  int port = 0;
  std::string version;
  std::string settings;
  std::vector<timeline_event> events;
  std::vector<op_record> ops;

  timeline_event& add(std::string name, double ts) {
    events.push_back(timeline_event{std::move(name), ts, {}, {}, {}, {}});
    return events.back();
  }
  const timeline_event* find(const std::string& name) const {
    for (const auto& e : events)
      if (e.name == name)
        return &e;
    return nullptr;
  }
};

/// The run as the peers' raw events: a meta line, the events, then the ops.
inline std::string to_jsonl(const run_record& r) {
  using json = nlohmann::json;
  std::string out = json{{"type", "meta"},
                         {"peer", r.peer},
                         {"scenario", r.scenario},
                         {"config", r.config},
                         {"run", std::to_string(r.run)},
                         {"clients", r.clients},
                         {"period_ms", r.period_ms},
                         {"port", std::to_string(r.port)},
                         {"version", r.version},
                         {"settings", r.settings}}
                      .dump() +
                    "\n";
  for (const auto& e : r.events) {
    json j{{"type", "event"}, {"name", e.name}, {"ts", e.ts}};
    if (e.value)
      j["value"] = *e.value;
    if (e.first)
      j["first"] = *e.first;
    if (e.last)
      j["last"] = *e.last;
    if (e.pool_total)
      j["pool"] = {{"total", *e.pool_total}};
    out += j.dump() + "\n";
  }
  for (const auto& o : r.ops)
    out += json{{"type", "op"},
                {"client", o.client},
                {"start", o.start},
                {"end", o.end},
                {"ok", o.ok},
                {"at", o.ok ? json(nullptr) : json(o.at)},
                {"error", o.ok ? json(nullptr) : json(o.error)}}
             .dump() +
           "\n";
  return out;
}

} // namespace custodian::bench
