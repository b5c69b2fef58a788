#include "runtime/config/config.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <stdexcept>

#include "actors/dependency_graph.hpp"
#include "drivers/config_schema.hpp"
#include "runtime/config/loopback.hpp"

namespace custodian {

using json = nlohmann::json;

std::string to_string(const config_problem& problem) {
  return problem.path.empty() ? problem.message : problem.path + ": " + problem.message;
}

std::string to_string(store_kind kind) {
  return kind == store_kind::sqlite ? "sqlite" : "memory";
}

namespace {

using problems = std::vector<config_problem>;
using namespace schema;

constexpr int64_t max_pool_size = 100'000;
constexpr int64_t max_count = 1'000'000;
constexpr std::size_t max_pools = 1'000;
/// Deeper JSON is refused before anything walks it (copies and dumps recurse).
constexpr int max_depth = 64;

std::string quoted(const std::string& s) {
  return json(s).dump(-1, ' ', false, json::error_handler_t::replace);
}

// ---- checks of strings ---------------------------------------------------------

std::string name_problem(const std::string& s) {
  if (s.empty())
    return "must not be empty";
  auto ok = [](unsigned char c) { return std::isalnum(c) || c == '_' || c == '.' || c == '-'; };
  if (s.size() > 64 || !std::all_of(s.begin(), s.end(), ok))
    return "must be 1 to 64 characters of A-Z a-z 0-9 _ . - (it appears in URLs and metrics)";
  return {};
}

bool is_ip_literal(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

std::string bind_problem(const std::string& s) {
  if (s == "localhost" || is_ip_literal(s))
    return {};
  return "must be an IP address or \"localhost\"";
}

std::string peer_problem(const std::string& s) {
  auto colon = s.rfind(':');
  auto port = colon == std::string::npos ? std::string{} : s.substr(colon + 1);
  bool digits =
    !port.empty() && port.size() <= 5 &&
    std::all_of(port.begin(), port.end(), [](unsigned char c) { return std::isdigit(c); });
  if (colon == 0 || !digits || std::stoi(port) < 1 || std::stoi(port) > 65535)
    return "must be \"host:port\" with a port from 1 to 65535";
  return {};
}

// ---- the schema ------------------------------------------------------------------

/// Every pool key with its default. The defaults are pool_config's (a test
/// compares them: config_test "canonical defaults are pool_config's").
const field& pool_schema() {
  static const field schema = object(
    "",
    {
      required(text("name", "", name_problem)),
      required(text("driver", "")),
      make("driver_config", kind::any_object, json::object()),
      integer("min_idle", 0, 0, max_pool_size),
      integer("max_size", 8, 1, max_pool_size),
      integer("acquire_timeout_ms", 5'000, 0, max_ms),
      integer("max_lifetime_ms", 0, 0, max_ms),
      integer("idle_timeout_ms", 0, 0, max_ms),
      integer("lease_ttl_ms", 0, 0, max_ms),
      integer("drain_timeout_ms", 30'000, 0, max_ms),
      integer("operation_timeout_ms", 5'000, 1, max_ms),
      integer("cleanup_timeout_ms", 5'000, 1, max_ms),
      number("unhealthy_share", 0.5, 0, 1, true),
      boolean("lifo", true),
      object(
        "init",
        {integer("timeout_ms", 5'000, 1, max_ms), integer("max_retries", 3, 0, max_count),
         object("backoff", {integer("base_ms", 100, 1, max_ms),
                            integer("max_ms", 10'000, 1, max_ms), number("jitter", 0.2, 0, 1)})}),
      object("health",
             {integer("interval_ms", 10'000, 1, max_ms), integer("timeout_ms", 2'000, 1, max_ms),
              integer("healthy_threshold", 2, 1, max_count),
              integer("unhealthy_threshold", 3, 1, max_count),
              integer("degraded_latency_ms", 0, 0, max_ms), boolean("on_acquire", false),
              integer("bypass_window_ms", 500, 0, max_ms)},
             kind::section),
      object("quarantine",
             {integer("consecutive_failures", 5, 1, max_count),
              integer("base_ejection_ms", 30'000, 1, max_ms),
              integer("max_ejection_ms", 300'000, 1, max_ms),
              integer("max_attempts", 5, 1, max_count),
              number("max_ejection_percent", 50.0, 0, 100)},
             kind::section),
      object("autoscale",
             {boolean("enabled", false), number("low_watermark", 0.2, 0, 1),
              number("high_watermark", 0.8, 0, 1), integer("step_up", 1, 1, max_pool_size),
              integer("step_down", 1, 1, max_pool_size), integer("window_ms", 60'000, 1, max_ms),
              integer("cooldown_ms", 30'000, 0, max_ms)}),
      object("supervision",
             {choice("strategy", "one_for_one", {"one_for_one", "one_for_all", "rest_for_one"}),
              integer("max_restarts", 10, 0, max_count), integer("period_ms", 10'000, 1, max_ms)}),
      list("depends_on",
           {object("", {required(text("pool", "")),
                        choice("kind", to_string(dependency_kind::hard), {"hard", "soft"})})}),
    });
  return schema;
}

/// The node's keys; defaults from node_config's members.
const field& node_schema() {
  static const node_config d;
  static const field schema = object(
    "", {
          object("node", {text("name", d.name, name_problem),
                          object("admin", {text("bind", d.admin.bind, bind_problem),
                                           integer("port", d.admin.port, 0, 65535),
                                           text("token_env", d.admin.token_env, env_name_problem)}),
                          object("cluster", {integer("port", d.cluster.port, 0, 65535),
                                             list("peers", {text("", "", peer_problem)})})}),
          object("store", {choice("kind", to_string(d.store.kind), {"sqlite", "memory"}),
                           text("path", d.store.path)}),
          object("logging", {choice("level", d.logging.level,
                                    {"trace", "debug", "info", "warn", "error", "critical", "off"}),
                             choice("format", d.logging.format, {"text", "json"})}),
          list("pools"),
        });
  return schema;
}

/// The value at a dotted path of a canonical config, or null if any step is missing.
const json* at(const json& j, std::string_view dotted) {
  const json* node = &j;
  while (!dotted.empty()) {
    auto dot = dotted.find('.');
    auto key = std::string{dotted.substr(0, dot)};
    if (!node->is_object() || !node->contains(key))
      return nullptr;
    node = &(*node)[key];
    dotted = dot == std::string_view::npos ? std::string_view{} : dotted.substr(dot + 1);
  }
  return node;
}

/// Pairs of keys where the first must stay below (or at) the second.
struct order_rule {
  std::string_view low;
  std::string_view high;
  bool strict;
};

constexpr order_rule pool_order_rules[] = {
  {"min_idle", "max_size", false},
  {"init.backoff.base_ms", "init.backoff.max_ms", false},
  {"quarantine.base_ejection_ms", "quarantine.max_ejection_ms", false},
  {"autoscale.low_watermark", "autoscale.high_watermark", true},
};

void check_order(const json& canonical_pool, const std::string& prefix, problems& out) {
  for (const auto& rule : pool_order_rules) {
    auto low = at(canonical_pool, rule.low);
    auto high = at(canonical_pool, rule.high);
    if (!low || !high || !low->is_number() || !high->is_number())
      continue;
    auto l = low->get<double>();
    auto h = high->get<double>();
    if (h < l || (rule.strict && h == l)) {
      auto name = rule.low.substr(rule.low.rfind('.') + 1);
      out.push_back(
        {join(prefix, rule.high), std::string(rule.strict ? "must be > " : "must be ≥ ") +
                                    std::string{name} + " (" + low->dump() + ")"});
    }
  }
}

void check_depends_on(const json& pool, const std::string& prefix, problems& out) {
  auto deps = at(pool, "depends_on");
  auto name = at(pool, "name");
  if (!deps || !deps->is_array())
    return;
  std::map<std::string, std::size_t> seen;
  for (std::size_t i = 0; i < deps->size(); ++i) {
    auto target = at((*deps)[i], "pool");
    if (!target || !target->is_string())
      continue;
    auto path = join(index(join(prefix, "depends_on"), i), "pool");
    auto target_name = target->get<std::string>();
    if (name && *name == *target)
      out.push_back({path, "a pool cannot depend on itself"});
    else if (auto [it, fresh] = seen.emplace(target_name, i); !fresh)
      out.push_back({path, "\"" + target_name + "\" is a duplicate of depends_on[" +
                             std::to_string(it->second) + "]"});
  }
}

void check_driver(const json& pool, const std::string& prefix,
                  const drivers::driver_catalog& drivers, problems& out) {
  auto driver = at(pool, "driver");
  if (!driver || !driver->is_string())
    return;
  auto entry = drivers.find(driver->get<std::string>());
  if (!entry) {
    out.push_back({join(prefix, "driver"), "unknown driver " + quoted(driver->get<std::string>()) +
                                             " (known: " + comma_list(drivers.names()) + ")"});
    return;
  }
  auto cfg = at(pool, "driver_config");
  if (cfg && !cfg->is_object())
    return; // already reported by the schema
  auto base = join(prefix, "driver_config");
  for (auto& [rel, message] : entry->validate(cfg ? *cfg : json::object()))
    out.push_back({rel.empty() ? base : base + "." + rel, message});
}

/// Rules across the node's keys, on its canonical form (defaults count).
void check_node(const json& root, problems& out) {
  auto bind = at(root, "node.admin.bind");
  auto token = at(root, "node.admin.token_env");
  if (bind && bind->is_string() && !is_loopback(bind->get<std::string>()) &&
      is_ip_literal(bind->get<std::string>()) && token && token->is_string() &&
      token->get<std::string>().empty())
    out.push_back(
      {"node.admin.bind", "a bind beyond loopback needs a token (set node.admin.token_env)"});
  auto admin = at(root, "node.admin.port");
  auto cluster = at(root, "node.cluster.port");
  if (admin && cluster && admin->is_number_integer() && *admin != 0 && *admin == *cluster)
    out.push_back({"node.cluster.port", "must differ from node.admin.port"});
  auto kind = at(root, "store.kind");
  auto path = at(root, "store.path");
  if (kind && *kind == "sqlite" && path && path->is_string() && path->get<std::string>().empty())
    out.push_back({"store.path", "must not be empty for a sqlite store"});
}

void check_pools(const json& pools, problems& out, const drivers::driver_catalog& drivers) {
  if (pools.size() > max_pools) {
    out.push_back({"pools", "at most " + std::to_string(max_pools) + " pools"});
    return;
  }
  std::map<std::string, std::size_t> names;
  for (std::size_t i = 0; i < pools.size(); ++i) {
    auto prefix = index("pools", i);
    auto found = validate_pool_config(pools[i], prefix, drivers);
    out.insert(out.end(), found.begin(), found.end());
    auto name = at(pools[i], "name");
    if (name && name->is_string())
      if (auto [it, fresh] = names.emplace(name->get<std::string>(), i); !fresh)
        out.push_back({join(prefix, "name"),
                       "\"" + it->first + "\" is a duplicate of " + index("pools", it->second)});
  }
  // Dependencies on pools that exist; the graph then finds cycles among them.
  dependency_graph graph;
  for (std::size_t i = 0; i < pools.size(); ++i) {
    auto name = at(pools[i], "name");
    auto deps = at(pools[i], "depends_on");
    if (!name || !name->is_string())
      continue;
    std::vector<dependency> edges;
    for (std::size_t j = 0; deps && deps->is_array() && j < deps->size(); ++j) {
      auto target = at((*deps)[j], "pool");
      if (!target || !target->is_string() || *target == *name)
        continue;
      if (names.count(target->get<std::string>()) == 0)
        out.push_back({join(index(join(index("pools", i), "depends_on"), j), "pool"),
                       "no pool named " + quoted(target->get<std::string>()) + " in this config"});
      else
        edges.push_back({target->get<std::string>()});
    }
    graph.add(name->get<std::string>(), std::move(edges));
  }
  if (auto cycle = graph.validate())
    out.push_back({"pools", *cycle});
}

/// The parser's message without its "[json.exception.parse_error.101] " tag.
std::string reason(const json::exception& ex) {
  std::string what = ex.what();
  auto tag_end = what.find("] ");
  return tag_end == std::string::npos ? what : what.substr(tag_end + 2);
}

/// Thrown by the parser callback to stop at excessive nesting.
struct too_deep {};

node_config to_node_config(const json& c) {
  node_config n;
  n.name = c["node"]["name"];
  n.admin.bind = c["node"]["admin"]["bind"];
  n.admin.port = c["node"]["admin"]["port"];
  n.admin.token_env = c["node"]["admin"]["token_env"];
  n.cluster.port = c["node"]["cluster"]["port"];
  n.cluster.peers = c["node"]["cluster"]["peers"].get<std::vector<std::string>>();
  n.store.kind = c["store"]["kind"] == "memory" ? store_kind::memory : store_kind::sqlite;
  n.store.path = c["store"]["path"];
  n.logging.level = c["logging"]["level"];
  n.logging.format = c["logging"]["format"];
  for (const auto& pool : c["pools"])
    n.pools.push_back(canonical_pool_config(pool));
  return n;
}

} // namespace

std::vector<config_problem> validate_pool_config(const json& pool, const std::string& prefix,
                                                 const drivers::driver_catalog& drivers) {
  problems out;
  check(pool, pool_schema(), prefix, out);
  if (!pool.is_object())
    return out;
  check_order(canonical(pool, pool_schema()), prefix, out);
  check_depends_on(pool, prefix, out);
  check_driver(pool, prefix, drivers, out);
  return out;
}

json canonical_pool_config(const json& valid_pool) {
  return canonical(valid_pool, pool_schema());
}

config_result parse_node_config(std::string_view text, const drivers::driver_catalog& drivers) {
  json root;
  try {
    root = json::parse(text.begin(), text.end(), [](int depth, json::parse_event_t, json&) {
      if (depth > max_depth)
        throw too_deep{};
      return true;
    });
  } catch (const too_deep&) {
    return {{}, {{"", "JSON nested deeper than " + std::to_string(max_depth) + " levels"}}};
  } catch (const json::parse_error& ex) {
    return {{}, {{"", "invalid JSON at byte " + std::to_string(ex.byte) + ": " + reason(ex)}}};
  } catch (const json::exception& ex) {
    return {{}, {{"", "invalid JSON: " + reason(ex)}}};
  }
  problems out;
  check(root, node_schema(), "", out);
  if (!root.is_object())
    return {{}, out};
  check_node(canonical(root, node_schema()), out);
  if (auto pools = at(root, "pools"); pools && pools->is_array())
    check_pools(*pools, out, drivers);
  if (!out.empty())
    return {{}, out};
  return {to_node_config(canonical(root, node_schema())), {}};
}

config_result load_node_config(const std::string& file, const drivers::driver_catalog& drivers) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> in{std::fopen(file.c_str(), "rb"), std::fclose};
  auto unreadable = [&] {
    return config_result{{}, {{"", "cannot read " + file + ": " + std::strerror(errno)}}};
  };
  if (!in)
    return unreadable();
  std::string text;
  char buf[65536];
  while (auto n = std::fread(buf, 1, sizeof buf, in.get()))
    text.append(buf, n);
  if (std::ferror(in.get()))
    return unreadable();
  return parse_node_config(text, drivers);
}

} // namespace custodian
