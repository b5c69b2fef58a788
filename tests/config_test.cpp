// The node's config: every rule, every problem collected with its path, the
// canonical defaults (the same as the structs'), the driver catalog, redaction.

#include <algorithm>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "drivers/secrets.hpp"
#include "drivers/sim/sim_driver.hpp"
#include "runtime/config/config.hpp"
#include "runtime/config/pool_from_json.hpp"

using namespace custodian;
using json = nlohmann::json;

namespace {

const drivers::driver_catalog& catalog() {
  static const auto c = drivers::builtin_drivers();
  return c;
}

std::vector<std::string> texts(const std::vector<config_problem>& problems) {
  std::vector<std::string> out;
  for (const auto& p : problems)
    out.push_back(to_string(p));
  return out;
}

/// The problems of a whole config, as "path: message" lines.
std::vector<std::string> problems_of(const std::string& text) {
  auto result = parse_node_config(text, catalog());
  CHECK(result.config.has_value() == result.problems.empty());
  return texts(result.problems);
}

/// The problems of one pool's config given as JSON, validated as pools[0].
std::vector<std::string> pool_problems(const json& pool) {
  return problems_of(json{{"pools", json::array({pool})}}.dump());
}

bool has(const std::vector<std::string>& lines, const std::string& line) {
  return std::find(lines.begin(), lines.end(), line) != lines.end();
}

/// Checks that every one of `expected` is among `lines`.
void check_all(const std::vector<std::string>& lines, const std::vector<std::string>& expected) {
  for (const auto& line : expected)
    CHECK_MESSAGE(has(lines, line), "missing: ", line);
}

json pool(json extra = json::object()) {
  json p{{"name", "a"}, {"driver", "sim"}};
  p.update(extra);
  return p;
}

} // namespace

TEST_CASE("config: an empty object is a valid config with the node's defaults") {
  auto result = parse_node_config("{}", catalog());
  REQUIRE(result.config);
  CHECK(result.problems.empty());
  const auto& c = *result.config;
  node_config defaults;
  CHECK(c.name == defaults.name);
  CHECK(c.admin.bind == "127.0.0.1");
  CHECK(c.admin.port == 8080);
  CHECK(c.admin.token_env.empty());
  CHECK(c.cluster.port == 0);
  CHECK(c.store.kind == store_kind::sqlite);
  CHECK(c.store.path == "var/custodian.db");
  CHECK(c.logging.level == "info");
  CHECK(c.logging.format == "text");
  CHECK(c.pools.empty());
}

TEST_CASE("config: node settings are read") {
  auto result = parse_node_config(R"({"node": {"name": "n1", "admin": {"bind": "0.0.0.0",
    "port": 9000, "token_env": "CUSTODIAN_TOKEN"}, "cluster": {"port": 4242,
    "peers": ["10.0.0.2:4242", "[::1]:4243"]}}, "store": {"kind": "memory"},
    "logging": {"level": "debug", "format": "json"}, "pools": []})",
                                  catalog());
  REQUIRE(result.config);
  const auto& c = *result.config;
  CHECK(c.name == "n1");
  CHECK(c.admin.bind == "0.0.0.0");
  CHECK(c.admin.port == 9000);
  CHECK(c.admin.token_env == "CUSTODIAN_TOKEN");
  CHECK(c.cluster.port == 4242);
  CHECK(c.cluster.peers == std::vector<std::string>{"10.0.0.2:4242", "[::1]:4243"});
  CHECK(c.store.kind == store_kind::memory);
  CHECK(c.logging.level == "debug");
  CHECK(c.logging.format == "json");
}

TEST_CASE("config: every problem is collected, each with its path") {
  auto p = problems_of(R"({"node": {"admin": {"port": 70000}}, "logging": {"level": "loud"},
    "pools": [{"name": "a", "driver": "sim", "min_idle": -1, "max_size": 0,
               "health": {"healthy_threshold": 0, "unhealthy_threshold": 0}},
              {"name": "b", "driver": "sim", "lifo": "yes"}]})");
  CHECK(p.size() == 7);
  check_all(p, {"node.admin.port: must be ≤ 65535",
                "logging.level: must be one of: trace, debug, info, warn, error, critical, off",
                "pools[0].min_idle: must be ≥ 0", "pools[0].max_size: must be ≥ 1",
                "pools[0].health.healthy_threshold: must be ≥ 1",
                "pools[0].health.unhealthy_threshold: must be ≥ 1",
                "pools[1].lifo: must be true or false"});
}

TEST_CASE("config: integers are JSON integers only") {
  for (auto bad : {json(1.5), json("5"), json(true), json(5.0), json(nullptr)})
    CHECK(has(pool_problems(pool({{"max_size", bad}})), "pools[0].max_size: must be an integer"));
  CHECK(pool_problems(pool({{"max_size", 5}})).empty());
  CHECK(has(pool_problems(pool({{"max_size", json(UINT64_MAX)}})),
            "pools[0].max_size: must be ≤ 100000"));
}

TEST_CASE("config: durations are bounded to 30 days") {
  CHECK(pool_problems(pool({{"lease_ttl_ms", 2'592'000'000LL}})).empty());
  CHECK(has(pool_problems(pool({{"lease_ttl_ms", 2'592'000'001LL}})),
            "pools[0].lease_ttl_ms: must be ≤ 2592000000"));
  CHECK(has(pool_problems(pool({{"health", {{"interval_ms", 0}}}})),
            "pools[0].health.interval_ms: must be ≥ 1"));
}

TEST_CASE("config: shares and percentages stay in their ranges") {
  auto p = pool_problems(pool({{"unhealthy_share", 0},
                               {"init", {{"backoff", {{"jitter", 1.5}}}}},
                               {"quarantine", {{"max_ejection_percent", 101}}},
                               {"autoscale", {{"low_watermark", -0.1}}}}));
  check_all(p, {"pools[0].unhealthy_share: must be in (0, 1]",
                "pools[0].init.backoff.jitter: must be in [0, 1]",
                "pools[0].quarantine.max_ejection_percent: must be in [0, 100]",
                "pools[0].autoscale.low_watermark: must be in [0, 1]"});
  CHECK(pool_problems(pool({{"unhealthy_share", 1}, {"quarantine", {{"max_ejection_percent", 0}}}}))
          .empty());
}

TEST_CASE("config: cross-field rules name both fields") {
  auto p =
    pool_problems(pool({{"min_idle", 4},
                        {"max_size", 2},
                        {"init", {{"backoff", {{"base_ms", 500}, {"max_ms", 100}}}}},
                        {"quarantine", {{"base_ejection_ms", 9000}, {"max_ejection_ms", 10}}},
                        {"autoscale", {{"low_watermark", 0.5}, {"high_watermark", 0.5}}}}));
  CHECK(p.size() == 4);
  check_all(p, {"pools[0].max_size: must be ≥ min_idle (4)",
                "pools[0].init.backoff.max_ms: must be ≥ base_ms (500)",
                "pools[0].quarantine.max_ejection_ms: must be ≥ base_ejection_ms (9000)",
                "pools[0].autoscale.high_watermark: must be > low_watermark (0.5)"});
  // A default counts: min_idle above the default max_size.
  CHECK(has(pool_problems(pool({{"min_idle", 9}})), "pools[0].max_size: must be ≥ min_idle (9)"));
}

TEST_CASE("config: unknown keys at every level, with a suggestion when one is close") {
  auto p = problems_of(R"({"nodes": {}, "node": {"admin": {"prot": 1}, "clutser": {}},
    "pools": [{"name": "a", "driver": "sim", "max_siz": 3, "MAX_SIZE": 4, "colour": "red",
               "init": {"backoff": {"jiter": 0.1}}, "health": {"intervall_ms": 5},
               "depends_on": [{"pool": "a", "knd": "soft"}]}]})");
  check_all(p, {"nodes: unknown key (did you mean \"node\"?)",
                "node.admin.prot: unknown key (did you mean \"port\"?)",
                "node.clutser: unknown key (did you mean \"cluster\"?)",
                "pools[0].max_siz: unknown key (did you mean \"max_size\"?)",
                "pools[0].MAX_SIZE: unknown key (did you mean \"max_size\"?)",
                "pools[0].colour: unknown key",
                "pools[0].init.backoff.jiter: unknown key (did you mean \"jitter\"?)",
                "pools[0].health.intervall_ms: unknown key (did you mean \"interval_ms\"?)",
                "pools[0].depends_on[0].knd: unknown key (did you mean \"kind\"?)"});
}

TEST_CASE("config: pool names are required, valid and unique") {
  auto p = problems_of(R"({"pools": [{"name": "a", "driver": "sim"}, {"driver": "sim"},
    {"name": "", "driver": "sim"}, {"name": "a", "driver": "sim"}, {"name": "a/b", "driver": "sim"},
    {"name": "zürich", "driver": "sim"}, {"name": "ok.name-1_x", "driver": "sim"}, {"name": 5, "driver": "sim"}]})");
  std::string invalid = ": must be 1 to 64 characters of A-Z a-z 0-9 _ . - (it appears in URLs "
                        "and metrics)";
  check_all(p, {"pools[1].name: required", "pools[2].name: must not be empty",
                "pools[3].name: \"a\" is a duplicate of pools[0]", "pools[4].name" + invalid,
                "pools[5].name" + invalid, "pools[7].name: must be a string"});
  CHECK(p.size() == 6);
  CHECK_FALSE(pool_problems(pool({{"name", std::string(65, 'x')}})).empty());
  CHECK(pool_problems(pool({{"name", std::string(64, 'x')}})).empty());
}

TEST_CASE("config: an unknown driver lists the known ones and driver problems have full paths") {
  CHECK(has(pool_problems(pool({{"driver", "simm"}})),
            "pools[0].driver: unknown driver \"simm\" (known: http, kafka, mongodb, postgres, "
            "process, redis, sim)"));
  CHECK(has(pool_problems(json{{"name", "a"}}), "pools[0].driver: required"));
  CHECK(has(pool_problems(pool({{"driver_config", {{"script", {{"ping_pattern", "+x"}}}}}})),
            "pools[0].driver_config.script.ping_pattern: must contain only '+' and '-'"));
  CHECK(has(pool_problems(pool({{"driver_config", {{"scrpt", {}}}}})),
            "pools[0].driver_config.scrpt: unknown key"));
  CHECK(
    has(pool_problems(pool({{"driver_config", 5}})), "pools[0].driver_config: must be an object"));
}

TEST_CASE("config: depends_on names pools of the same config, without self or cycles") {
  auto p = problems_of(R"({"pools": [
    {"name": "a", "driver": "sim", "depends_on": [{"pool": "b"}, {"pool": "a"}, {"pool": "b", "kind": "soft"}]},
    {"name": "b", "driver": "sim", "depends_on": [{"pool": "a", "kind": "weak"}, {"pool": "nope"}, {}]}]})");
  check_all(p, {"pools[0].depends_on[1].pool: a pool cannot depend on itself",
                "pools[0].depends_on[2].pool: \"b\" is a duplicate of depends_on[0]",
                "pools[1].depends_on[0].kind: must be one of: hard, soft",
                "pools[1].depends_on[1].pool: no pool named \"nope\" in this config",
                "pools[1].depends_on[2].pool: required", "pools: dependency cycle: a -> b -> a"});
  CHECK(problems_of(R"({"pools": [{"name": "a", "driver": "sim"},
    {"name": "b", "driver": "sim", "depends_on": [{"pool": "a", "kind": "soft"}]}]})")
          .empty());
}

TEST_CASE("config: store, logging and admin settings are checked") {
  auto p = problems_of(R"({"node": {"name": "", "admin": {"bind": "example.com", "token_env": "1X"},
    "cluster": {"port": 8080, "peers": ["nohost", "h:0", 5]}},
    "store": {"kind": "sqlite", "path": ""}, "logging": {"format": "xml"}})");
  check_all(p, {"node.name: must not be empty",
                "node.admin.bind: must be an IP address or \"localhost\"",
                "node.admin.token_env: must be the name of an environment variable "
                "([A-Za-z_][A-Za-z0-9_]*)",
                "node.cluster.port: must differ from node.admin.port",
                "node.cluster.peers[0]: must be \"host:port\" with a port from 1 to 65535",
                "node.cluster.peers[1]: must be \"host:port\" with a port from 1 to 65535",
                "node.cluster.peers[2]: must be a string",
                "store.path: must not be empty for a sqlite store",
                "logging.format: must be one of: text, json"});
  CHECK(has(problems_of(R"({"node": {"admin": {"bind": "0.0.0.0"}}})"),
            "node.admin.bind: a bind beyond loopback needs a token (set node.admin.token_env)"));
  CHECK(
    problems_of(R"({"node": {"admin": {"bind": "::1"}}, "store": {"kind": "memory", "path": ""}})")
      .empty());
  CHECK(problems_of(R"({"node": {"admin": {"bind": "localhost"}}})").empty());
}

TEST_CASE("config: invalid JSON, a non-object root and non-array pools are one problem each") {
  auto p = problems_of(R"({"pools": [)");
  REQUIRE(p.size() == 1);
  CHECK(p[0] == "invalid JSON at byte 12: parse error at line 1, column 12: syntax error while "
                "parsing value - unexpected end of input; expected '[', '{', or a literal");
  auto empty = problems_of("");
  REQUIRE(empty.size() == 1);
  CHECK(empty[0].starts_with("invalid JSON at byte 1: "));
  CHECK(problems_of("[]") == std::vector<std::string>{"must be an object"});
  CHECK(problems_of(R"({"pools": {}})") == std::vector<std::string>{"pools: must be an array"});
  CHECK(problems_of(std::string(100, '[') + std::string(100, ']')) ==
        std::vector<std::string>{"JSON nested deeper than 64 levels"});
}

TEST_CASE("config: health and quarantine are off unless present and present ones get defaults") {
  auto off = canonical_pool_config(pool({{"quarantine", nullptr}}));
  CHECK(off["health"].is_null());
  CHECK(off["quarantine"].is_null());
  auto on = canonical_pool_config(
    pool({{"health", json::object()}, {"quarantine", {{"max_attempts", 2}}}}));
  CHECK(on["health"]["interval_ms"] == 10'000);
  CHECK(on["health"]["on_acquire"] == false);
  CHECK(on["quarantine"]["max_attempts"] == 2);
  CHECK(on["quarantine"]["consecutive_failures"] == 5);
  auto cfg = make_pool_config(on, catalog());
  CHECK(cfg.health.has_value());
  REQUIRE(cfg.quarantine.has_value());
  CHECK(cfg.quarantine->policy.max_attempts == 2);
  CHECK_FALSE(make_pool_config(off, catalog()).health.has_value());
}

TEST_CASE("config: canonical pools have every key, validate again and are stable") {
  auto result = parse_node_config(R"({"pools": [{"name": "a", "driver": "sim",
    "init": {"backoff": {}}, "depends_on": [{"pool": "b"}]}, {"name": "b", "driver": "sim"}]})",
                                  catalog());
  REQUIRE(result.config);
  for (const auto& p : result.config->pools) {
    CHECK(validate_pool_config(p, "", catalog()).empty());
    CHECK(canonical_pool_config(p) == p);
    CHECK(p.size() == 20);
    CHECK(p["autoscale"]["enabled"] == false);
  }
  CHECK(result.config->pools[0]["depends_on"] == json::parse(R"([{"pool": "b", "kind": "hard"}])"));
  CHECK(result.config->pools[0]["init"]["backoff"]["base_ms"] == 100);
}

TEST_CASE("config: a lone pool's problems have paths without a prefix") {
  CHECK(texts(validate_pool_config(json{{"name", "a"}, {"driver", "sim"}, {"max_size", 0}}, "",
                                   catalog())) ==
        std::vector<std::string>{"max_size: must be ≥ 1"});
  CHECK(texts(validate_pool_config(json::array(), "", catalog())) ==
        std::vector<std::string>{"must be an object"});
  CHECK(texts(validate_pool_config(json::array(), "pools[3]", catalog())) ==
        std::vector<std::string>{"pools[3]: must be an object"});
}

TEST_CASE("config: canonical defaults are pool_config's") {
  auto c = make_pool_config(canonical_pool_config(pool()), catalog());
  pool_config d;
  CHECK(c.name == "a");
  REQUIRE(c.driver);
  CHECK(c.driver->name() == "sim");
  CHECK(c.min_idle == d.min_idle);
  CHECK(c.max_size == d.max_size);
  CHECK(c.acquire_timeout == d.acquire_timeout);
  CHECK(c.lease_ttl == d.lease_ttl);
  CHECK(c.max_lifetime == d.max_lifetime);
  CHECK(c.lifetime_jitter == d.lifetime_jitter);
  CHECK(c.idle_timeout == d.idle_timeout);
  CHECK(c.lifo == d.lifo);
  CHECK_FALSE(c.health.has_value());
  CHECK_FALSE(c.quarantine.has_value());
  CHECK(c.depends_on.empty());
  CHECK(c.unhealthy_share == d.unhealthy_share);
  CHECK(c.supervision.strategy == d.supervision.strategy);
  CHECK(c.supervision.max_restarts == d.supervision.max_restarts);
  CHECK(c.supervision.period == d.supervision.period);
  CHECK(c.drain_timeout == d.drain_timeout);
  CHECK(c.resource.init.timeout == d.resource.init.timeout);
  CHECK(c.resource.init.max_retries == d.resource.init.max_retries);
  CHECK(c.resource.init.backoff.base == d.resource.init.backoff.base);
  CHECK(c.resource.init.backoff.max == d.resource.init.backoff.max);
  CHECK(c.resource.init.backoff.jitter == d.resource.init.backoff.jitter);
  CHECK(c.resource.operation_timeout == d.resource.operation_timeout);
  CHECK(c.resource.cleanup_timeout == d.resource.cleanup_timeout);
  CHECK(c.resource.drain_timeout == d.resource.drain_timeout);

  auto on = make_pool_config(
    canonical_pool_config(pool({{"health", json::object()}, {"quarantine", json::object()}})),
    catalog());
  health_checker_config h;
  REQUIRE(on.health);
  CHECK(on.health->policy.interval == h.policy.interval);
  CHECK(on.health->policy.jitter == h.policy.jitter);
  CHECK(on.health->policy.healthy_threshold == h.policy.healthy_threshold);
  CHECK(on.health->policy.unhealthy_threshold == h.policy.unhealthy_threshold);
  CHECK(on.health->policy.degraded_latency == h.policy.degraded_latency);
  CHECK(on.health->timeout == h.timeout);
  CHECK(on.health->on_acquire == h.on_acquire);
  CHECK(on.health->bypass_window == h.bypass_window);
  quarantine_config q;
  REQUIRE(on.quarantine);
  CHECK(on.quarantine->policy.consecutive_failures == q.policy.consecutive_failures);
  CHECK(on.quarantine->policy.base_ejection == q.policy.base_ejection);
  CHECK(on.quarantine->policy.max_ejection == q.policy.max_ejection);
  CHECK(on.quarantine->policy.max_attempts == q.policy.max_attempts);
  CHECK(on.quarantine->policy.max_ejection_percent == q.policy.max_ejection_percent);
}

TEST_CASE("config: make_pool_config fills every field from the JSON") {
  using std::chrono::milliseconds;
  auto c = make_pool_config(
    canonical_pool_config(json::parse(R"({"name": "db", "driver": "sim", "min_idle": 2,
      "max_size": 4, "acquire_timeout_ms": 10, "max_lifetime_ms": 11, "idle_timeout_ms": 12,
      "lease_ttl_ms": 13, "drain_timeout_ms": 14, "operation_timeout_ms": 15,
      "cleanup_timeout_ms": 16, "unhealthy_share": 0.25, "lifo": false,
      "init": {"timeout_ms": 17, "max_retries": 7, "backoff": {"base_ms": 18, "max_ms": 19, "jitter": 0.5}},
      "health": {"interval_ms": 20, "timeout_ms": 21, "healthy_threshold": 4,
                 "unhealthy_threshold": 5, "degraded_latency_ms": 22, "on_acquire": true,
                 "bypass_window_ms": 23},
      "quarantine": {"consecutive_failures": 6, "base_ejection_ms": 24, "max_ejection_ms": 25,
                     "max_attempts": 8, "max_ejection_percent": 12.5},
      "supervision": {"strategy": "rest_for_one", "max_restarts": 9, "period_ms": 26},
      "depends_on": [{"pool": "x"}, {"pool": "y", "kind": "soft"}]})")),
    catalog());
  CHECK(c.name == "db");
  CHECK(c.min_idle == 2);
  CHECK(c.max_size == 4);
  CHECK(c.acquire_timeout == milliseconds{10});
  CHECK(c.max_lifetime == milliseconds{11});
  CHECK(c.idle_timeout == milliseconds{12});
  CHECK(c.lease_ttl == milliseconds{13});
  CHECK(c.drain_timeout == milliseconds{14});
  CHECK(c.resource.operation_timeout == milliseconds{15});
  CHECK(c.resource.cleanup_timeout == milliseconds{16});
  CHECK(c.unhealthy_share == 0.25);
  CHECK_FALSE(c.lifo);
  CHECK(c.resource.init.timeout == milliseconds{17});
  CHECK(c.resource.init.max_retries == 7);
  CHECK(c.resource.init.backoff.base == milliseconds{18});
  CHECK(c.resource.init.backoff.max == milliseconds{19});
  CHECK(c.resource.init.backoff.jitter == 0.5);
  REQUIRE(c.health);
  CHECK(c.health->policy.interval == milliseconds{20});
  CHECK(c.health->timeout == milliseconds{21});
  CHECK(c.health->policy.healthy_threshold == 4);
  CHECK(c.health->policy.unhealthy_threshold == 5);
  CHECK(c.health->policy.degraded_latency == milliseconds{22});
  CHECK(c.health->on_acquire);
  CHECK(c.health->bypass_window == milliseconds{23});
  REQUIRE(c.quarantine);
  CHECK(c.quarantine->policy.consecutive_failures == 6);
  CHECK(c.quarantine->policy.base_ejection == milliseconds{24});
  CHECK(c.quarantine->policy.max_ejection == milliseconds{25});
  CHECK(c.quarantine->policy.max_attempts == 8);
  CHECK(c.quarantine->policy.max_ejection_percent == 12.5);
  CHECK(c.supervision.strategy == restart_strategy::rest_for_one);
  CHECK(c.supervision.max_restarts == 9);
  CHECK(c.supervision.period == milliseconds{26});
  REQUIRE(c.depends_on.size() == 2);
  CHECK(c.depends_on[0].pool == "x");
  CHECK(c.depends_on[0].kind == dependency_kind::hard);
  CHECK(c.depends_on[1].kind == dependency_kind::soft);
  for (auto [name, strategy] : {std::pair{"one_for_one", restart_strategy::one_for_one},
                                std::pair{"one_for_all", restart_strategy::one_for_all}})
    CHECK(make_pool_config(canonical_pool_config(pool({{"supervision", {{"strategy", name}}}})),
                           catalog())
            .supervision.strategy == strategy);
}

TEST_CASE("config: an unreadable file is one problem naming the file and the reason") {
  auto result = load_node_config("/nonexistent/custodian.json", catalog());
  CHECK_FALSE(result.config);
  CHECK(
    texts(result.problems) ==
    std::vector<std::string>{"cannot read /nonexistent/custodian.json: No such file or directory"});
  auto dir = load_node_config("/", catalog());
  REQUIRE(dir.problems.size() == 1);
  CHECK(dir.problems[0].message == "cannot read /: Is a directory");
}

TEST_CASE("config: the driver catalog finds, lists, validates and makes drivers") {
  auto c = drivers::builtin_drivers();
  CHECK(c.names() == std::vector<std::string>{"http", "kafka", "mongodb", "postgres", "process",
                                              "redis", "sim"});
  CHECK(c.find("nosuch") == nullptr);
  auto sim = c.find("sim");
  REQUIRE(sim);
  CHECK(sim->validate(json::object()).empty());
  using problem = drivers::driver_config_problem;
  CHECK(sim->validate(json::parse(R"({"resources": {"r1": {"fail_connects": -1}}})")) ==
        std::vector<problem>{{"resources.r1.fail_connects", "must be a non-negative integer"}});
  CHECK(sim->validate(json::array()) == std::vector<problem>{{"", "must be an object"}});
  CHECK(sim->make(json::object())->name() == "sim");
  c.add("other", {[](const json&) { return std::vector<problem>{}; },
                  [](const json&) { return std::make_shared<drivers::sim_driver>(); }});
  CHECK(c.names() == std::vector<std::string>{"http", "kafka", "mongodb", "other", "postgres",
                                              "process", "redis", "sim"});
}

TEST_CASE("config: secrets are redacted at any depth, env variable names are kept") {
  auto in = json::parse(R"({"host": "db", "password": "p", "Token": {"x": 1},
    "nested": [{"api_key": "k", "apikey": "k", "db_password": "p", "CLIENT_SECRET": "s",
                "auth_token": "t", "private_key": "pk", "passwd": "p", "credentials": ["c"],
                "secret": 1, "ssh_key": "k", "password_env": "PGPASSWORD", "token_env": "T",
                "keys": 3, "tokens": 2, "user": "u", "sasl.password": "p", "ssl.key.pem": "k",
                "ssl-key-password": "p", "password_file": "/run/pg", "ssl.key.location": "/k"}]})");
  auto out = drivers::redact_secrets(in);
  CHECK(out["host"] == "db");
  CHECK(out["password"] == "<redacted>");
  CHECK(out["Token"] == "<redacted>");
  const auto& n = out["nested"][0];
  for (auto key :
       {"api_key", "apikey", "db_password", "CLIENT_SECRET", "auth_token", "private_key", "passwd",
        "credentials", "secret", "ssh_key", "sasl.password", "ssl.key.pem", "ssl-key-password"})
    CHECK_MESSAGE(n[key] == "<redacted>", key);
  CHECK(n["password_file"] == "/run/pg");
  CHECK(n["ssl.key.location"] == "/k");
  CHECK(n["password_env"] == "PGPASSWORD");
  CHECK(n["token_env"] == "T");
  CHECK(n["keys"] == 3);
  CHECK(n["tokens"] == 2);
  CHECK(n["user"] == "u");
}
