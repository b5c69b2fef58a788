#include "bench/failover_figures.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <stdexcept>

namespace custodian::bench {

namespace {

/// A client with no success within this of ready (or of the terminate) is stuck.
constexpr double stuck_ms = 30'000;

using maybe = std::optional<double>;

figure_value num(maybe x) {
  if (!x || std::isnan(*x))
    return std::monostate{};
  return std::floor(*x + 0.5); // Math.round, as the peers' figures
}

figure_value count(std::size_t n) {
  return static_cast<double>(n);
}

/// Nearest rank, as the peers: the ceil(n / 2)-th smallest.
maybe p50(std::vector<double> xs) {
  if (xs.empty())
    return std::nullopt;
  std::sort(xs.begin(), xs.end());
  return xs[static_cast<std::size_t>(std::ceil(0.5 * double(xs.size()))) - 1];
}

maybe max_of(const std::vector<double>& xs) {
  if (xs.empty())
    return std::nullopt;
  return *std::max_element(xs.begin(), xs.end());
}

template <class Pred>
std::vector<const op_record*> select(const run_record& r, Pred pred) {
  std::vector<const op_record*> out;
  for (const auto& o : r.ops)
    if (pred(o))
      out.push_back(&o);
  return out;
}

std::vector<double> durations(const std::vector<const op_record*>& ops) {
  std::vector<double> d;
  for (const auto* o : ops)
    d.push_back(o->end - o->start);
  return d;
}

/// Client -> end of its first successful operation that matches `pred`.
template <class Pred>
std::map<int, double> first_ok_per_client(const run_record& r, Pred pred) {
  std::map<int, double> first;
  for (const auto& o : r.ops)
    if (o.ok && pred(o) && (!first.count(o.client) || o.end < first[o.client]))
      first[o.client] = o.end;
  return first;
}

/// The masked text of an error: its port and the ids that differ between
/// operations (a lease's number, a resource's), so that equal causes count as one.
std::string masked(std::string text, int port) {
  auto p = std::to_string(port);
  for (auto at = text.find(":" + p); at != std::string::npos; at = text.find(":" + p, at))
    text.replace(at, p.size() + 1, ":<port>");
  static const std::regex after{R"(after \d+ ?ms)"}, port_n{R"(port \d+)"}, lease_n{R"(lease \d+)"},
    resource_n{R"(\b(failover-)\d+\b)"}, attempts_n{R"(\(\d+ attempts\))"};
  text = std::regex_replace(text, after, "after <n>ms");
  text = std::regex_replace(text, port_n, "port <port>");
  text = std::regex_replace(text, lease_n, "lease <n>");
  text = std::regex_replace(text, resource_n, "$1<n>");
  return std::regex_replace(text, attempts_n, "(<n> attempts)");
}

class figures_builder {
public:
  explicit figures_builder(const run_record& r) : r_(r) {}

  const timeline_event& need(const std::string& name) const {
    if (const auto* e = r_.find(name))
      return *e;
    throw std::runtime_error("no '" + name + "' event (the run did not finish)");
  }
  void put(std::string key, figure_value v) {
    out_.figures.emplace_back(std::move(key), std::move(v));
  }
  void error(const std::string& phase, const op_record& o) {
    out_.errors.emplace_back(phase, masked(o.error, r_.port));
  }
  run_figures done() {
    put("ops", count(r_.ops.size()));
    // Ours beyond the peers' figures: every connection closed once the runtime
    // shut down (the server's count), so none leaked.
    if (const auto* closed = r_.find("conns_after_shutdown"))
      put("conns_after_shutdown", num(closed->value));
    // How many connections the pool opened over the run, and closed for idleness:
    // churn shows as both growing with the run's length.
    for (const char* key : {"pool_created", "pool_idle_closed"})
      if (const auto* e = r_.find(key))
        put(key, num(e->value));
    return std::move(out_);
  }

private:
  const run_record& r_;
  run_figures out_;
};

void restart_figures(const run_record& r, figures_builder& f) {
  double stop_issued = f.need("stop_issued").ts, stop_done = f.need("stop_done").ts;
  double ready = f.need("ready").ts;
  f.put("steady_fail",
        count(select(r, [&](const op_record& o) { return !o.ok && o.end < stop_issued; }).size()));
  auto outage = select(
    r, [&](const op_record& o) { return !o.ok && o.start >= stop_issued && o.start < ready; });
  f.put("outage_fail_n", count(outage.size()));
  f.put("outage_fail_p50_ms", num(p50(durations(outage))));
  f.put("outage_fail_max_ms", num(max_of(durations(outage))));
  // At query: started before the log's "database system is shut down" = in flight
  // when it died; started after = a dead connection was handed out.
  double down = f.need("server_down").ts;
  std::vector<const op_record*> inflight, stale, acquire;
  for (const auto* o : outage)
    (o->at == "acquire" ? acquire : o->start < down ? inflight : stale).push_back(o);
  f.put("outage_inflight_n", count(inflight.size()));
  f.put("outage_stale_n", count(stale.size()));
  f.put("outage_stale_p50_ms", num(p50(durations(stale))));
  f.put("outage_acq_fail_n", count(acquire.size()));
  f.put("outage_acq_fail_p50_ms", num(p50(durations(acquire))));
  f.put("outage_acq_fail_max_ms", num(max_of(durations(acquire))));
  for (const auto* o : outage)
    f.error("outage", *o);
  auto first = first_ok_per_client(r, [&](const op_record& o) { return o.end > stop_done; });
  maybe earliest, latest;
  for (const auto& [client, end] : first) {
    earliest = std::min(earliest.value_or(end), end);
    latest = std::max(latest.value_or(end), end);
  }
  f.put("first_ok_ms", num(earliest ? maybe{*earliest - ready} : std::nullopt));
  bool all_back = int(first.size()) == r.clients && *latest <= ready + stuck_ms;
  f.put("all_ok_ms", num(all_back ? maybe{*latest - ready} : std::nullopt));
  f.put("stuck", std::string{all_back ? "no" : "yes"});
  auto after = select(r, [&](const op_record& o) { return !o.ok && o.end >= ready; });
  f.put("fail_after_ready", count(after.size()));
  f.put("stale_after_ready",
        count(std::count_if(after.begin(), after.end(), [](auto* o) { return o->at == "query"; })));
  for (const auto* o : after)
    f.error("after_ready", *o);
  f.put("conns_steady", num(f.need("conns_steady").value));
  const auto& conns_after = f.need("conns_after");
  f.put("conns_10s", num(conns_after.value));
  f.put("pool_total_10s", num(conns_after.pool_total));
  f.put("kill_ms", num(down - stop_issued));
  f.put("server_restart_ms", num(ready - f.need("start_issued").ts));
  f.put("crash_recovery_ms", num(ready - f.need("listen").ts));
}

void wrongpw_figures(const run_record& r, figures_builder& f) {
  double t0 = f.need("pool_create_start").ts;
  auto failed = select(r, [](const op_record& o) { return !o.ok; });
  f.put("pool_create", std::string{"ok"}); // Custodian's pool never throws for it
  maybe s0, first_fail;
  for (const auto& o : r.ops)
    s0 = std::min(s0.value_or(o.start), o.start);
  for (const auto* o : failed)
    first_fail = std::min(first_fail.value_or(o->end), o->end);
  f.put("first_fail_ms", num(first_fail ? maybe{*first_fail - *s0} : std::nullopt));
  f.put("ops_failed", count(failed.size()));
  f.put("ops_ok", count(r.ops.size() - failed.size()));
  f.put("fail_p50_ms", num(p50(durations(failed))));
  f.put("fail_max_ms", num(max_of(durations(failed))));
  const auto& auth = f.need("auth_failed_in_window");
  const auto& received = f.need("conn_received_in_window");
  f.put("auth_failed_10s", num(auth.value));
  f.put("conn_received_10s", num(received.value));
  bool any = received.value.value_or(0) > 0;
  f.put("server_first_attempt_ms", num(any ? maybe{*received.first - t0} : std::nullopt));
  f.put("server_last_attempt_ms", num(any ? maybe{*received.last - t0} : std::nullopt));
  for (const auto* o : failed)
    f.error("acquire", *o);
}

void terminate_figures(const run_record& r, figures_builder& f) {
  double issued = f.need("terminate_issued").ts;
  const auto& done = f.need("terminate_done");
  f.put("steady_fail",
        count(select(r, [&](const op_record& o) { return !o.ok && o.end < issued; }).size()));
  f.put("conns_before", num(f.need("conns_before").value));
  f.put("terminated", num(done.value));
  auto first = first_ok_per_client(r, [&](const op_record& o) { return o.start >= done.ts; });
  maybe latest;
  for (const auto& [client, end] : first)
    latest = std::max(latest.value_or(end), end);
  bool all_back = int(first.size()) == r.clients && *latest <= done.ts + stuck_ms;
  double all_ok_at = all_back ? *latest : std::numeric_limits<double>::infinity();
  f.put("all_ok_ms", num(all_back ? maybe{all_ok_at - done.ts} : std::nullopt));
  f.put("stuck", std::string{all_back ? "no" : "yes"});
  auto failed = select(r, [&](const op_record& o) { return !o.ok && o.end >= issued; });
  f.put("failed_before_all_ok", count(std::count_if(failed.begin(), failed.end(),
                                                    [&](auto* o) { return o->end <= all_ok_at; })));
  f.put("failed_total", count(failed.size()));
  // Log stamps are whole ms: an operation started at or after the last backend's
  // FATAL line + 1 ms got a connection that was already dead.
  const auto& kills = f.need("backend_kills");
  double all_dead = kills.last.value_or(0) + 1;
  f.put("backend_kills", num(kills.value));
  f.put("failed_after_all_dead", count(std::count_if(failed.begin(), failed.end(), [&](auto* o) {
          return o->start >= all_dead;
        })));
  f.put("failed_during_kills", count(std::count_if(failed.begin(), failed.end(),
                                                   [&](auto* o) { return o->start < all_dead; })));
  bool any = kills.value.value_or(0) > 0;
  f.put("kills_span_ms", num(any ? maybe{*kills.last - *kills.first} : std::nullopt));
  f.put("conns_after", num(f.need("conns_after").value));
  for (const auto* o : failed)
    f.error("after_terminate", *o);
}

std::string text_of(const figure_value& v) {
  if (const auto* d = std::get_if<double>(&v))
    return std::to_string(static_cast<long long>(*d));
  if (const auto* s = std::get_if<std::string>(&v))
    return *s;
  return "na";
}

std::string prefix_of(const run_record& r) {
  return "peer=" + r.peer + " config=" + r.config + " scenario=" + r.scenario;
}

/// "min/median/max" of numbers, "k/n" of yes/no, the value when every run agrees,
/// else each run's value.
std::string summary_of(const std::vector<const figure_value*>& vs) {
  auto n = vs.size();
  bool numbers = std::all_of(vs.begin(), vs.end(),
                             [](auto* v) { return v && std::holds_alternative<double>(*v); });
  if (numbers) {
    std::vector<double> s;
    for (auto* v : vs)
      s.push_back(std::get<double>(*v));
    std::sort(s.begin(), s.end());
    auto median = s[static_cast<std::size_t>(std::ceil(0.5 * double(n))) - 1];
    return text_of(s.front()) + "/" + text_of(median) + "/" + text_of(s.back());
  }
  auto word = [](auto* v, const char* w) {
    return v && std::holds_alternative<std::string>(*v) && std::get<std::string>(*v) == w;
  };
  if (std::all_of(vs.begin(), vs.end(), [&](auto* v) { return word(v, "yes") || word(v, "no"); }))
    return std::to_string(
             std::count_if(vs.begin(), vs.end(), [&](auto* v) { return word(v, "yes"); })) +
           "/" + std::to_string(n);
  auto same = [&](auto* a, auto* b) { return (!a && !b) || (a && b && *a == *b); };
  if (std::all_of(vs.begin(), vs.end(), [&](auto* v) { return same(v, vs[0]); }))
    return vs[0] ? text_of(*vs[0]) : "na";
  std::string joined;
  for (auto* v : vs) {
    if (!joined.empty())
      joined += ',';
    joined += v ? text_of(*v) : std::string{"na"};
  }
  return joined;
}

} // namespace

run_figures figures_of(const run_record& record) {
  figures_builder f{record};
  if (record.scenario.rfind("restart", 0) == 0)
    restart_figures(record, f);
  else if (record.scenario == "wrongpw")
    wrongpw_figures(record, f);
  else if (record.scenario == "terminate")
    terminate_figures(record, f);
  else
    throw std::invalid_argument("unknown scenario " + record.scenario);
  return f.done();
}

std::string run_line(const run_record& record, const run_figures& figures) {
  auto line = prefix_of(record) + " run=" + std::to_string(record.run);
  for (const auto& [key, value] : figures.figures)
    line += " " + key + "=" + text_of(value);
  return line;
}

std::vector<std::string> summary_lines(const run_record& first,
                                       const std::vector<run_figures>& runs) {
  auto n = runs.size();
  std::vector<std::string> keys;
  for (const auto& r : runs)
    for (const auto& [key, value] : r.figures)
      if (std::find(keys.begin(), keys.end(), key) == keys.end())
        keys.push_back(key);
  auto line = prefix_of(first) + " runs=" + std::to_string(n);
  for (const auto& key : keys) {
    std::vector<const figure_value*> vs;
    for (const auto& r : runs) {
      auto i = std::find_if(r.figures.begin(), r.figures.end(),
                            [&](const auto& kv) { return kv.first == key; });
      vs.push_back(i == r.figures.end() ? nullptr : &i->second);
    }
    line += " " + key + "=" + summary_of(vs);
  }
  std::vector<std::string> lines{line};
  // Distinct errors in order of first appearance, then by count (stable).
  struct distinct {
    std::string phase, text;
    std::size_t count = 0;
    std::set<std::size_t> runs;
  };
  std::vector<distinct> errors;
  for (std::size_t i = 0; i < n; ++i)
    for (const auto& [phase, text] : runs[i].errors) {
      auto e = std::find_if(errors.begin(), errors.end(),
                            [&](const distinct& d) { return d.phase == phase && d.text == text; });
      if (e == errors.end())
        e = errors.insert(errors.end(), distinct{phase, text, 0, {}});
      ++e->count;
      e->runs.insert(i);
    }
  std::stable_sort(errors.begin(), errors.end(),
                   [](const distinct& a, const distinct& b) { return a.count > b.count; });
  for (const auto& e : errors)
    lines.push_back(
      prefix_of(first) + " error_phase=" + e.phase + " count=" + std::to_string(e.count) +
      " in_runs=" + std::to_string(e.runs.size()) + "/" + std::to_string(n) + " text=" + e.text);
  return lines;
}

} // namespace custodian::bench
