// The node's plans when configs meet (runtime/node/config_plan.hpp): how a pool
// takes a new config, the file against the store at start, a reload and a
// restore against the running pools. Plain functions, no actor system.

#include <optional>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "drivers/driver_catalog.hpp"
#include "runtime/config/config.hpp"
#include "runtime/node/config_plan.hpp"

using namespace custodian;
using nlohmann::json;

namespace {

const drivers::driver_catalog& catalog() {
  static const auto c = drivers::builtin_drivers();
  return c;
}

/// A valid pool's canonical config, with `extra` merged in.
json pool(const std::string& name, json extra = json::object()) {
  json p{{"name", name}, {"driver", "sim"}};
  p.merge_patch(extra);
  return canonical_pool_config(p);
}

json depending_on(const std::string& name, const std::string& on, const std::string& kind) {
  return pool(name, {{"depends_on", {{{"pool", on}, {"kind", kind}}}}});
}

std::vector<std::string> names_of(const std::vector<json>& configs) {
  std::vector<std::string> out;
  for (const auto& c : configs)
    out.push_back(c.at("name").get<std::string>());
  return out;
}

} // namespace

TEST_CASE("a new config is unchanged, hot, or rolling when the driver or its config changes") {
  struct row {
    const char* what;
    json before;
    json after;
    config_change how;
    std::vector<std::string> changed;
  };
  auto base = pool("db");
  auto without_health = base;
  without_health.erase("health");
  const std::vector<row> table = {
    {"the same", base, base, config_change::unchanged, {}},
    {"a size", base, pool("db", {{"max_size", 9}}), config_change::hot, {"max_size"}},
    {"the driver's config",
     base,
     [&] {
       auto p = base;
       p["driver_config"] = {{"resources", 2}};
       return p;
     }(),
     config_change::rolling,
     {"driver_config"}},
    {"the driver and a size",
     base,
     [&] {
       auto p = pool("db", {{"max_size", 9}});
       p["driver"] = "other";
       return p;
     }(),
     config_change::rolling,
     {"driver", "max_size"}},
    {"a key left out, listed after the new config's",
     without_health,
     [&] {
       auto p = base;
       p.erase("health");
       p.erase("quarantine");
       p["min_idle"] = 3;
       return p;
     }(),
     config_change::hot,
     {"min_idle", "quarantine"}},
  };
  for (const auto& r : table) {
    CAPTURE(r.what);
    auto plan = plan_change(r.before, r.after);
    CHECK(plan.how == r.how);
    CHECK(plan.changed == r.changed);
  }
  CHECK(to_string(config_change::unchanged) == "unchanged");
  CHECK(to_string(config_change::hot) == "hot");
  CHECK(to_string(config_change::rolling) == "rolling");
}

TEST_CASE("the dependencies once changed name a missing pool or a cycle") {
  struct row {
    const char* what;
    running_pools running;
    std::map<std::string, std::optional<json>> changes;
    std::optional<std::string> problem;
  };
  running_pools db_and_app = {{"db", {pool("db"), pool_origin::file}},
                              {"app", {depending_on("app", "db", "hard"), pool_origin::file}}};
  const std::vector<row> table = {
    {"a new pool on a running one",
     {{"db", {pool("db"), pool_origin::file}}},
     {{"app", depending_on("app", "db", "soft")}},
     std::nullopt},
    {"a pool on one that does not run",
     {},
     {{"app", depending_on("app", "db", "hard")}},
     "pool app depends on db, which is not a pool"},
    {"deleting what another depends on",
     db_and_app,
     {{"db", std::nullopt}},
     "pool app depends on db, which is not a pool"},
    {"a cycle",
     db_and_app,
     {{"db", depending_on("db", "app", "soft")}},
     "dependency cycle: app -> db -> app"},
    {"deleting both", db_and_app, {{"db", std::nullopt}, {"app", std::nullopt}}, std::nullopt},
  };
  for (const auto& r : table) {
    CAPTURE(r.what);
    CHECK(dependency_problem(r.running, r.changes) == r.problem);
  }
}

TEST_CASE("at start the file wins over a differing stored config unless the stored is preferred") {
  auto file_db = pool("db", {{"max_size", 4}});
  auto stored_db = pool("db", {{"max_size", 9}, {"min_idle", 2}});
  auto invalid = stored_db;
  invalid["max_size"] = 0;
  struct row {
    const char* what;
    std::vector<stored_pool> stored;
    bool prefer_stored;
    json started;
    std::vector<std::string> drift;
  };
  const auto differs = std::string{"the stored config (version 3) differs from the file in "
                                   "max_size, min_idle; the "};
  const std::vector<row> table = {
    {"nothing stored", {}, false, file_db, {}},
    {"the same stored", {{"db", 3, file_db.dump()}}, false, file_db, {}},
    {"a different one stored",
     {{"db", 3, stored_db.dump()}},
     false,
     file_db,
     {differs + "file wins"}},
    {"a different one stored, preferred",
     {{"db", 3, stored_db.dump()}},
     true,
     stored_db,
     {differs + "stored config wins"}},
    {"a different one stored, preferred but no longer valid",
     {{"db", 3, invalid.dump()}},
     true,
     file_db,
     {differs + "file wins"}},
    {"damaged text stored", {{"db", 3, "{not json"}}, true, file_db, {}},
  };
  for (const auto& r : table) {
    CAPTURE(r.what);
    auto plan = plan_start({file_db}, r.stored, r.prefer_stored, catalog());
    REQUIRE(plan.pools.size() == 1);
    CHECK(plan.pools[0].config == r.started);
    CHECK(plan.pools[0].origin == pool_origin::file);
    std::vector<std::string> drift;
    for (const auto& d : plan.drift) {
      CHECK(d.pool == "db");
      drift.push_back(d.message);
    }
    CHECK(drift == r.drift);
  }
}

TEST_CASE("at start a stored API pool lives on with its version if still valid, after the file's") {
  auto plan = plan_start({pool("z-file"), pool("a-file")},
                         {{"old", 7, pool("old").dump()},
                          {"broken", 2, R"({"name":"broken","driver":"nope"})"},
                          {"damaged", 4, "{"},
                          {"api", 5, pool("api").dump()}},
                         false, catalog());
  std::vector<std::string> started;
  for (const auto& p : plan.pools)
    started.push_back(p.config.at("name").get<std::string>());
  CHECK(started == std::vector<std::string>{"z-file", "a-file", "api", "old"});
  CHECK(plan.pools[2].origin == pool_origin::api);
  CHECK(plan.pools[2].version == 5);
  CHECK(plan.pools[3].version == 7);
  REQUIRE(plan.drift.size() == 2);
  CHECK(plan.drift[0].pool == "broken");
  CHECK(plan.drift[1].pool == "damaged");
  for (const auto& d : plan.drift)
    CHECK(d.message == "the stored config is no longer valid; the pool is not started");
}

TEST_CASE(
  "a reload creates the file's new pools, updates those that run, deletes the file's gone") {
  running_pools running = {{"kept", {pool("kept"), pool_origin::file}},
                           {"adopted", {pool("adopted"), pool_origin::api}},
                           {"api-only", {pool("api-only"), pool_origin::api}},
                           {"gone", {pool("gone"), pool_origin::file}}};
  auto plan = plan_reload({pool("new"), pool("kept", {{"max_size", 5}}), pool("adopted")}, running);
  CHECK_FALSE(plan.problem);
  CHECK(names_of(plan.create) == std::vector<std::string>{"new"});
  CHECK(names_of(plan.update) == std::vector<std::string>{"adopted", "kept"});
  CHECK(plan.update[1].at("max_size") == 5);
  CHECK(plan.remove == std::vector<std::string>{"gone"});
}

TEST_CASE("a reload that would break a dependency plans nothing and says why") {
  running_pools running = {{"db", {pool("db"), pool_origin::file}},
                           {"app", {depending_on("app", "db", "hard"), pool_origin::api}}};
  auto plan = plan_reload({pool("other")}, running);
  CHECK(plan.problem == "pool app depends on db, which is not a pool");
  CHECK(plan.create.empty());
  CHECK(plan.update.empty());
  CHECK(plan.remove.empty());
}

TEST_CASE("a restore creates the pools that do not run, updates those that do, refuses bad ones") {
  running_pools running = {{"db", {pool("db"), pool_origin::file}}};
  auto steps = plan_restore({{"db", 4, pool("db", {{"max_size", 3}}).dump()},
                             {"cache", 2, pool("cache").dump()},
                             {"bad", 1, R"({"name":"bad","driver":"sim","max_size":0})"},
                             {"damaged", 1, "{"}},
                            running, catalog());
  REQUIRE(steps.size() == 4);
  CHECK(steps[0].pool == "db");
  CHECK(steps[0].kind == restore_step::update);
  CHECK(steps[0].config == pool("db", {{"max_size", 3}}));
  CHECK(steps[1].pool == "cache");
  CHECK(steps[1].kind == restore_step::create);
  CHECK(steps[1].version == 2);
  CHECK(steps[1].config == pool("cache"));
  CHECK(steps[2].kind == restore_step::refuse);
  CHECK(steps[2].problem.rfind("max_size: ", 0) == 0);
  CHECK(steps[3].kind == restore_step::refuse);
  CHECK(steps[3].problem == "config: not JSON");
}
