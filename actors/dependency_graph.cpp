#include "actors/dependency_graph.hpp"

#include <algorithm>
#include <functional>
#include <set>

namespace custodian {

std::string to_string(dependency_kind kind) {
  return kind == dependency_kind::hard ? "hard" : "soft";
}

void dependency_graph::add(const std::string& pool, std::vector<dependency> depends_on) {
  edges_[pool] = std::move(depends_on);
}

void dependency_graph::remove(const std::string& pool) {
  edges_.erase(pool);
}

std::optional<std::string> dependency_graph::validate() const {
  for (const auto& [pool, deps] : edges_)
    for (const auto& d : deps)
      if (edges_.count(d.pool) == 0)
        return "pool " + pool + " depends on " + d.pool + ", which is not a pool";
  // Depth-first search; a pool met again while on the current path closes a cycle.
  enum class mark : uint8_t { unvisited, on_path, done };
  std::map<std::string, mark> marks;
  std::vector<std::string> path;
  std::optional<std::string> cycle;
  std::function<void(const std::string&)> visit = [&](const std::string& pool) {
    marks[pool] = mark::on_path;
    path.push_back(pool);
    for (const auto& d : edges_.at(pool)) {
      if (cycle)
        return;
      auto m = marks[d.pool];
      if (m == mark::on_path) {
        auto from = std::find(path.begin(), path.end(), d.pool);
        std::string text;
        for (auto i = from; i != path.end(); ++i)
          text += *i + " -> ";
        cycle = "dependency cycle: " + text + d.pool;
        return;
      }
      if (m == mark::unvisited)
        visit(d.pool);
    }
    path.pop_back();
    marks[pool] = mark::done;
  };
  for (const auto& [pool, deps] : edges_)
    if (!cycle && marks[pool] == mark::unvisited)
      visit(pool);
  return cycle;
}

std::vector<std::string> dependency_graph::start_order() const {
  // Kahn's algorithm; the ready set is ordered, so ties go by name.
  std::map<std::string, std::size_t> waiting_on;
  std::map<std::string, std::vector<std::string>> dependants;
  for (const auto& [pool, deps] : edges_) {
    waiting_on[pool] += 0;
    for (const auto& d : deps) {
      ++waiting_on[pool];
      dependants[d.pool].push_back(pool);
    }
  }
  std::set<std::string> ready;
  for (const auto& [pool, n] : waiting_on)
    if (n == 0)
      ready.insert(pool);
  std::vector<std::string> order;
  while (!ready.empty()) {
    auto pool = *ready.begin();
    ready.erase(ready.begin());
    order.push_back(pool);
    for (const auto& dependant : dependants[pool])
      if (--waiting_on[dependant] == 0)
        ready.insert(dependant);
  }
  return order;
}

std::vector<std::string> dependency_graph::stop_order() const {
  auto order = start_order();
  std::reverse(order.begin(), order.end());
  return order;
}

std::map<std::string, availability>
dependency_graph::cascade(const std::map<std::string, pool_health>& health) const {
  using level = availability::level;
  std::map<std::string, availability> result;
  for (const auto& pool : start_order()) {
    availability a;
    auto own = health.find(pool);
    if (own != health.end() && own->second != pool_health::healthy)
      a = {own->second == pool_health::unhealthy ? level::unavailable : level::degraded, pool};
    for (const auto& d : edges_.at(pool)) {
      const auto& upstream = result.at(d.pool);
      if (upstream.is == level::available)
        continue;
      auto derived = through(d.kind, upstream.is);
      if (derived > a.is)
        a = {derived, upstream.root_cause};
    }
    result.emplace(pool, std::move(a));
  }
  return result;
}

std::string dependency_graph::explain(const std::string& pool,
                                      const std::map<std::string, availability>& cascaded) const {
  const auto& a = cascaded.at(pool);
  if (a.is == availability::level::available)
    return "";
  if (a.root_cause == pool)
    return std::string{"its own health is "} +
           (a.is == availability::level::unavailable ? "unhealthy" : "degraded");
  for (const auto& d : edges_.at(pool)) {
    const auto& upstream = cascaded.at(d.pool);
    if (upstream.is == availability::level::available || upstream.root_cause != a.root_cause ||
        through(d.kind, upstream.is) != a.is)
      continue;
    // The root cause itself is unhealthy or degraded; a pool between is unavailable.
    auto how = upstream.root_cause != d.pool                     ? to_string(upstream.is)
               : upstream.is == availability::level::unavailable ? std::string{"unhealthy"}
                                                                 : std::string{"degraded"};
    return to_string(d.kind) + " dependency " + d.pool + " is " + how +
           " (root cause: " + a.root_cause + ")";
  }
  return "";
}

std::vector<std::string> dependency_graph::dependants(const std::string& pool) const {
  std::vector<std::string> result;
  for (const auto& [name, deps] : edges_)
    if (std::any_of(deps.begin(), deps.end(), [&](const dependency& d) { return d.pool == pool; }))
      result.push_back(name);
  return result;
}

std::vector<dependency> dependency_graph::dependencies(const std::string& pool) const {
  auto i = edges_.find(pool);
  return i != edges_.end() ? i->second : std::vector<dependency>{};
}

availability::level dependency_graph::through(dependency_kind kind, availability::level upstream) {
  if (upstream == availability::level::available)
    return upstream;
  return kind == dependency_kind::hard && upstream == availability::level::unavailable
           ? availability::level::unavailable
           : availability::level::degraded;
}

} // namespace custodian
