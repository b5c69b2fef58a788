// The real custodiand, started as a child process from a config in a fresh
// temporary directory, driven through its admin HTTP API, signals and the real
// custodianctl. Sim driver only.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <httplib.h>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "tests/support/ctl_runner.hpp"
#include "tests/support/node_process.hpp"

using namespace custodian::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// A sim pool's config.
json sim_pool(const std::string& name, int min_idle, int max_size,
              json depends_on = json::array()) {
  json p{{"name", name}, {"driver", "sim"}, {"min_idle", min_idle}, {"max_size", max_size}};
  if (!depends_on.empty())
    p["depends_on"] = std::move(depends_on);
  return p;
}

json dep(const std::string& pool, const std::string& kind = "hard") {
  return json{{"pool", pool}, {"kind", kind}};
}

struct reply {
  int status = 0;
  std::string text;
  json body;
};

/// One custodiand in a directory of its own, on a free port, with HTTP helpers.
struct harness {
  temp_dir dir;
  int port = free_port();
  std::string config_path = dir.file("node.json");
  std::string log_path = dir.file("custodiand.log");
  std::unique_ptr<node_process> proc;
  /// The bearer token sent with mutations (empty: none).
  std::string token;
  /// Every response body seen, for the checks that a secret never shows.
  std::string seen;

  json config(json pools, json admin_extra = json::object()) const {
    json admin{{"bind", "127.0.0.1"}, {"port", port}};
    admin.merge_patch(admin_extra);
    return json{{"node", {{"name", "itest"}, {"admin", admin}}},
                {"store", {{"kind", "sqlite"}, {"path", dir.file("store.db")}}},
                {"logging", {{"level", "info"}, {"format", "text"}}},
                {"pools", std::move(pools)}};
  }

  void write(const json& cfg) const { write_file(config_path, cfg.dump(2)); }

  /// Starts the node from the written config; does not wait.
  node_process& spawn(std::vector<std::string> args = {}, std::vector<std::string> env = {}) {
    proc.reset();
    proc = std::make_unique<node_process>(CUSTODIAND, config_path, log_path, std::move(args),
                                          std::move(env));
    return *proc;
  }

  /// Starts the node and waits until it is ready.
  void start(std::vector<std::string> args = {}, std::vector<std::string> env = {}) {
    spawn(std::move(args), std::move(env));
    bool ready = proc->wait_ready(port);
    if (!ready) {
      auto code = proc->wait_exit(0ms);
      MESSAGE("custodiand (exit " << (code ? std::to_string(*code) : "none") << ") log:\n"
                                  << proc->log());
    }
    REQUIRE(ready);
  }

  /// SIGTERM and the exit code (nothing when it did not end in time).
  std::optional<int> stop(std::chrono::milliseconds within = 20s) {
    proc->signal(SIGTERM);
    return proc->wait_exit(within);
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port); }

  httplib::Client client() const {
    httplib::Client cli("127.0.0.1", port);
    cli.set_connection_timeout(2s);
    cli.set_read_timeout(30s);
    cli.set_write_timeout(10s);
    return cli;
  }

  httplib::Headers auth(const std::optional<std::string>& bearer) const {
    httplib::Headers h;
    auto t = bearer ? *bearer : token;
    if (!t.empty())
      h.emplace("Authorization", "Bearer " + t);
    return h;
  }

  reply answer(const httplib::Result& res) {
    reply r;
    if (!res)
      return r;
    r.status = res->status;
    r.text = res->body;
    seen += res->body;
    r.body = json::parse(res->body, nullptr, false);
    return r;
  }

  reply get(const std::string& path) {
    auto cli = client();
    return answer(cli.Get(path));
  }
  reply post(const std::string& path, const json& body = json::object(),
             std::optional<std::string> bearer = std::nullopt) {
    auto cli = client();
    return answer(cli.Post(path, auth(bearer), body.dump(), "application/json"));
  }
  reply patch(const std::string& path, const json& body,
              std::optional<std::string> bearer = std::nullopt) {
    auto cli = client();
    return answer(cli.Patch(path, auth(bearer), body.dump(), "application/json"));
  }
  reply del(const std::string& path, std::optional<std::string> bearer = std::nullopt) {
    auto cli = client();
    return answer(cli.Delete(path, auth(bearer)));
  }

  json pool(const std::string& name) {
    auto r = get("/api/v1/pools/" + name);
    REQUIRE_MESSAGE(r.status == 200, r.text);
    return r.body;
  }

  std::vector<std::string> pool_names() {
    auto r = get("/api/v1/pools");
    REQUIRE_MESSAGE(r.status == 200, r.text);
    std::vector<std::string> names;
    for (const auto& p : r.body.at("pools"))
      names.push_back(p.at("name").get<std::string>());
    return names;
  }

  json history(const std::string& name) {
    auto r = get("/api/v1/pools/" + name + "/config/history");
    REQUIRE_MESSAGE(r.status == 200, r.text);
    return r.body.at("versions");
  }

  /// Waits until every pool is active.
  bool all_active(std::chrono::milliseconds within = 10s) {
    return eventually(
      [&] {
        auto r = get("/api/v1/pools");
        if (r.status != 200)
          return false;
        return std::all_of(r.body.at("pools").begin(), r.body.at("pools").end(),
                           [](const json& p) { return p.at("state") == "active"; });
      },
      within);
  }
};

/// The built custodianctl against the harness's node.
ctl_result ctl(const harness& h, std::vector<std::string> args) {
  args.insert(args.begin(), {"--url", h.url()});
  if (!h.token.empty())
    args.insert(args.begin() + 2, {"--token", h.token});
  return run_ctl(args, h.dir.file("ctl.err"));
}

std::ptrdiff_t index_of(const std::vector<std::string>& names, const std::string& name) {
  auto i = std::find(names.begin(), names.end(), name);
  REQUIRE_MESSAGE(i != names.end(), name);
  return i - names.begin();
}

} // namespace

TEST_CASE("a config with several problems exits 2 naming each JSON path and nothing listens") {
  harness h;
  auto bad = sim_pool("db", 4, 2);
  bad["max_sise"] = 3;
  auto cfg = h.config(json::array({bad, sim_pool("ok", 0, 2)}));
  cfg["store"]["knd"] = "memory";
  h.write(cfg);
  auto& p = h.spawn();
  auto code = p.wait_exit(10s);
  REQUIRE(code.has_value());
  CHECK(*code == 2);
  auto log = p.log();
  CHECK(contains(log, "is not a valid config"));
  CHECK(contains(log, "pools[0].max_size"));
  CHECK(contains(log, "pools[0].max_sise"));
  CHECK(contains(log, "did you mean \"max_size\""));
  CHECK(contains(log, "store.knd"));
  CHECK_FALSE(port_listening(h.port));
}

TEST_CASE(
  "a node from a demo-like config serves its pools in dependency order and drains on SIGTERM") {
  harness h;
  // Listed dependants first: the node must start and list them after what they need.
  auto gateway =
    sim_pool("api-gateway", 2, 4, json::array({dep("orders-cache"), dep("search", "soft")}));
  gateway["max_lifetime_ms"] = 60000;
  gateway["health"] = {{"interval_ms", 500}};
  auto cache = sim_pool("orders-cache", 2, 4, json::array({dep("orders-db")}));
  cache["health"] = {{"interval_ms", 500}, {"timeout_ms", 500}};
  auto search = sim_pool("search", 1, 2, json::array({dep("orders-db", "soft")}));
  auto db = sim_pool("orders-db", 3, 6);
  db["acquire_timeout_ms"] = 2000;
  db["quarantine"] = {{"consecutive_failures", 2}, {"base_ejection_ms", 4000}};
  h.write(h.config(json::array({gateway, cache, search, db})));
  h.start();

  REQUIRE(h.all_active());
  auto r = h.get("/api/v1/pools");
  REQUIRE(r.status == 200);
  std::vector<std::string> names;
  for (const auto& p : r.body.at("pools")) {
    names.push_back(p.at("name"));
    CHECK(p.at("state") == "active");
  }
  REQUIRE(names.size() == 4);
  CHECK(index_of(names, "orders-db") < index_of(names, "orders-cache"));
  CHECK(index_of(names, "orders-db") < index_of(names, "search"));
  CHECK(index_of(names, "orders-cache") < index_of(names, "api-gateway"));
  CHECK(index_of(names, "search") < index_of(names, "api-gateway"));

  // One exec so that the histogram has a sample.
  auto e = h.post("/api/v1/pools/orders-db/exec", {{"request", {{"q", 1}}}});
  CHECK_MESSAGE(e.status == 200, e.text);

  auto m = h.get("/metrics");
  REQUIRE(m.status == 200);
  for (const auto& name : names)
    CHECK_MESSAGE(contains(m.text, "custodian_pool_size{pool=\"" + name + "\"}"), name);
  CHECK(contains(m.text, "# TYPE custodian_pool_acquire_wait_seconds histogram"));
  CHECK(contains(m.text,
                 "custodian_pool_acquire_wait_seconds_bucket{pool=\"orders-db\",le=\"+Inf\"} 1"));
  CHECK(contains(m.text, "custodian_pool_acquire_wait_seconds_count{pool=\"orders-db\"} 1"));

  auto code = h.stop(20s);
  REQUIRE(code.has_value());
  CHECK(*code == 0);
  auto log = h.proc->log();
  CHECK(contains(log, "signal SIGTERM: draining the pools"));
  CHECK(contains(log, "shut down: 4 pools drained, 0 forced"));
  CHECK_FALSE(port_listening(h.port));
}

TEST_CASE("with a token mutations need it and the token never shows and a public bind needs one") {
  const std::string secret = "itest-Secr3t-token-5f1c";
  {
    harness h;
    h.write(
      h.config(json::array({sim_pool("db", 1, 4)}), {{"token_env", "CUSTODIAN_ITEST_TOKEN"}}));
    h.start({}, {"CUSTODIAN_ITEST_TOKEN=" + secret});

    auto none = h.post("/api/v1/pools/db/resize", {{"max_size", 5}}, std::string{});
    CHECK(none.status == 401);
    CHECK(none.body["error"]["code"] == "unauthorized");
    auto wrong = h.post("/api/v1/pools/db/resize", {{"max_size", 5}}, std::string{"not-" + secret});
    CHECK(wrong.status == 401);
    auto wrong_patch = h.patch("/api/v1/pools/db", {{"max_size", 5}}, std::string{secret + "x"});
    CHECK(wrong_patch.status == 401);
    auto wrong_delete = h.del("/api/v1/pools/db", std::string{});
    CHECK(wrong_delete.status == 401);
    CHECK(h.pool("db").at("max_size") == 4);

    auto right = h.post("/api/v1/pools/db/resize", {{"max_size", 5}}, secret);
    CHECK_MESSAGE(right.status == 200, right.text);
    CHECK(right.body["max_size"] == 5);

    // Reads stay open.
    CHECK(h.get("/api/v1").status == 200);
    CHECK(h.get("/api/v1/pools").status == 200);
    CHECK(h.get("/api/v1/pools/db").status == 200);
    CHECK(h.get("/api/v1/events?since=0").status == 200);
    CHECK(h.get("/api/v1/backup").status == 200);
    CHECK(h.get("/metrics").status == 200);
    CHECK(h.get("/api/v1/pools/db/config/history").status == 200);

    CHECK(h.stop() == std::optional<int>{0});
    CHECK_FALSE(contains(h.seen, secret));
    CHECK_FALSE(contains(h.proc->log(), secret));
    CHECK_FALSE(contains(read_file(h.dir.file("store.db")), secret));
  }
  {
    harness h;
    h.write(h.config(json::array({sim_pool("db", 1, 4)}), {{"bind", "0.0.0.0"}}));
    auto& p = h.spawn();
    auto code = p.wait_exit(10s);
    REQUIRE(code.has_value());
    CHECK(*code == 2);
    INFO("custodiand's output: " << p.log());
    CHECK(contains(p.log(), "node.admin.bind"));
    CHECK(contains(p.log(), "a bind beyond loopback needs a token (set node.admin.token_env)"));
    CHECK_FALSE(port_listening(h.port));
  }
}

TEST_CASE("pools are created and deleted at run time and a hard dependency blocks a delete") {
  harness h;
  h.write(h.config(json::array({sim_pool("base", 1, 2)})));
  h.start();

  auto a = h.post("/api/v1/pools", sim_pool("alpha", 1, 3));
  REQUIRE_MESSAGE(a.status == 201, a.text);
  CHECK(a.body.at("name") == "alpha");
  CHECK(a.body.at("config_version") == 1);
  auto names = h.pool_names();
  CHECK(std::count(names.begin(), names.end(), "alpha") == 1);

  auto b = h.post("/api/v1/pools", sim_pool("beta", 1, 2, json::array({dep("alpha")})));
  REQUIRE_MESSAGE(b.status == 201, b.text);
  CHECK(h.pool("alpha").at("dependants") == json::array({"beta"}));

  auto twice = h.post("/api/v1/pools", sim_pool("alpha", 0, 1));
  CHECK(twice.status == 409);

  auto blocked = h.del("/api/v1/pools/alpha");
  CHECK(blocked.status == 409);
  CHECK(blocked.body["error"]["code"] == "conflict");
  CHECK_MESSAGE(contains(blocked.body["error"]["message"].get<std::string>(), "beta"),
                blocked.text);
  CHECK(h.pool("alpha").at("state") == "active");

  auto db = h.del("/api/v1/pools/beta");
  CHECK_MESSAGE(db.status == 200, db.text);
  CHECK(db.body["drained"] == true);
  auto da = h.del("/api/v1/pools/alpha");
  REQUIRE_MESSAGE(da.status == 200, da.text);
  CHECK(da.body["deleted"] == "alpha");
  CHECK(da.body["drained"] == true);
  CHECK(da.body["forced"] == false);
  CHECK(h.get("/api/v1/pools/alpha").status == 404);
  CHECK(h.pool_names() == std::vector<std::string>{"base"});

  auto versions = h.history("alpha");
  REQUIRE(versions.size() == 2);
  CHECK(versions[0]["version"] == 1);
  CHECK(versions[0]["source"] == "api");
  CHECK(versions[0]["config"]["max_size"] == 3);
  CHECK(versions[1]["version"] == 2);
  CHECK(versions[1]["deleted"] == true);
  CHECK(h.stop() == std::optional<int>{0});
}

TEST_CASE("PATCH applies a hot change and a rolling driver change without failing requests and "
          "refuses a bad one") {
  harness h;
  auto work = sim_pool("work", 2, 4);
  h.write(h.config(json::array({work})));
  h.start();
  auto before = h.pool("work");
  auto version = before.at("config_version").get<int>();

  auto hot = h.patch("/api/v1/pools/work", {{"max_size", 6}});
  REQUIRE_MESSAGE(hot.status == 200, hot.text);
  CHECK(hot.body["applied"] == "hot");
  CHECK(hot.body["version"] == version + 1);
  CHECK(hot.body["changed"] == json::array({"max_size"}));
  auto after = h.pool("work");
  CHECK(after["max_size"] == 6);
  CHECK(after["config"]["max_size"] == 6);
  CHECK(after["config_version"] == version + 1);

  // Requests keep coming while the resources are replaced one by one.
  std::atomic<bool> done{false};
  std::atomic<int> ok{0};
  std::vector<std::string> failures;
  std::thread load([&] {
    httplib::Client cli("127.0.0.1", h.port);
    cli.set_read_timeout(10s);
    for (int i = 0; !done; ++i) {
      auto res = cli.Post("/api/v1/pools/work/exec", json{{"request", {{"i", i}}}}.dump(),
                          "application/json");
      if (res && res->status == 200) {
        ++ok;
        changes().bump();
      } else {
        failures.push_back(res ? std::to_string(res->status) + " " + res->body
                               : httplib::to_string(res.error()));
      }
    }
  });
  // Some requests before the change.
  CHECK(eventually([&] { return ok >= 5; }));
  auto rolling =
    h.patch("/api/v1/pools/work", {{"driver_config", {{"script", {{"exec_pattern", "+"}}}}}});
  CHECK_MESSAGE(rolling.status == 200, rolling.text);
  CHECK(rolling.body["applied"] == "rolling");
  CHECK(rolling.body["version"] == version + 2);
  auto replaced = [&] {
    auto p = h.pool("work");
    if (p["outdated"] != 0 || p["resources"].empty())
      return false;
    return std::none_of(p["resources"].begin(), p["resources"].end(),
                        [](const json& r) { return r["outdated"] == true; });
  };
  CHECK(eventually(replaced, 15s));
  int at_replace = ok;
  // And some after it.
  CHECK(eventually([&] { return ok >= at_replace + 5; }));
  done = true;
  load.join();
  CHECK_MESSAGE(failures.empty(), failures.size() << " failed, the first: " << failures.front());
  CHECK(ok >= 10); // 5 before the change and 5 after it, at least
  auto p = h.pool("work");
  CHECK(p["config"]["driver_config"]["script"]["exec_pattern"] == "+");
  CHECK(p["stats"]["failed"] == 0);

  auto bad = h.patch("/api/v1/pools/work", {{"max_size", 0}, {"acquire_timeout_ms", "soon"}});
  CHECK(bad.status == 400);
  CHECK(bad.body["error"]["code"] == "bad_config");
  REQUIRE(bad.body["error"]["problems"].is_array());
  CHECK(bad.body["error"]["problems"].size() >= 2);
  auto paths = bad.body["error"]["problems"].dump();
  CHECK(contains(paths, "max_size"));
  CHECK(contains(paths, "acquire_timeout_ms"));
  auto unchanged = h.pool("work");
  CHECK(unchanged["config_version"] == version + 2);
  CHECK(unchanged["max_size"] == 6);
  CHECK(h.history("work").size() == static_cast<std::size_t>(version + 2));
  CHECK(h.stop() == std::optional<int>{0});
}

TEST_CASE("reads are answered while a change of pools waits on a pool") {
  harness h;
  auto slow = sim_pool("slow", 1, 1);
  slow["operation_timeout_ms"] = 300000;
  slow["drain_timeout_ms"] = 300000;
  slow["driver_config"] = {{"script", {{"hang_ms", {{"exec", 300000}}}}}};
  h.write(h.config(json::array({slow, sim_pool("other", 1, 2)})));
  h.start();
  REQUIRE(h.all_active());
  // An exec holds the pool's only resource until the node ends...
  std::thread exec([cli = h.client()]() mutable {
    cli.set_read_timeout(600s);
    cli.Post("/api/v1/pools/slow/exec",
             json{{"request", {{"q", 1}}}, {"timeout_ms", 300000}}.dump(), "application/json");
  });
  CHECK(eventually([&] { return h.pool("slow")["in_use"] == 1; }));
  // ...so a drain waits for it.
  std::atomic<bool> drain_answered{false};
  std::thread drain([&, cli = h.client()]() mutable {
    cli.set_read_timeout(600s);
    cli.Post("/api/v1/pools/slow/drain", "{}", "application/json");
    drain_answered = true;
  });
  CHECK(eventually([&] { return h.pool("slow")["state"] == "draining"; }));
  CHECK(h.get("/api/v1/pools").status == 200);
  CHECK(h.get("/api/v1").status == 200);
  CHECK(h.get("/metrics").status == 200);
  CHECK(h.pool("other")["state"] == "active");
  CHECK_FALSE(drain_answered);
  h.proc->signal(SIGKILL);
  CHECK(h.proc->wait_exit(10s) == std::optional<int>{128 + SIGKILL});
  exec.join();
  drain.join();
}

TEST_CASE("a reload with an invalid file changes nothing and a valid one applies") {
  harness h;
  auto good = json::array({sim_pool("a", 1, 4), sim_pool("b", 1, 2, json::array({dep("a")}))});
  h.write(h.config(good));
  h.start();
  auto versions = [&] {
    std::map<std::string, json> out;
    for (const auto& n : h.pool_names())
      out[n] = h.pool(n).at("config_version");
    return out;
  };
  auto before = versions();

  auto broken = good;
  broken[0]["max_size"] = 0;
  broken[1]["depends_on"] = json::array({dep("nowhere")});
  broken.push_back(sim_pool("c", 5, 1));
  h.write(h.config(broken));
  auto refused = h.post("/api/v1/config/reload");
  CHECK(refused.status == 400);
  CHECK(refused.body["error"]["code"] == "bad_config");
  REQUIRE_MESSAGE(refused.body["error"]["problems"].is_array(), refused.text);
  CHECK(refused.body["error"]["problems"].size() >= 2);
  CHECK(contains(refused.text, "pools[0].max_size"));
  CHECK(contains(refused.text, "pools[2].max_size"));
  CHECK(h.pool_names() == std::vector<std::string>{"a", "b"});
  CHECK(versions() == before);
  CHECK(h.pool("a")["max_size"] == 4);

  h.proc->signal(SIGHUP);
  CHECK(eventually([&] { return contains(h.proc->log(), "reload refused"); }));
  CHECK(h.get("/readyz").status == 200);
  CHECK(h.pool_names() == std::vector<std::string>{"a", "b"});
  CHECK(versions() == before);

  auto next = good;
  next[0]["max_size"] = 6;
  next.push_back(sim_pool("c", 1, 2));
  h.write(h.config(next));
  auto applied = h.post("/api/v1/config/reload");
  REQUIRE_MESSAGE(applied.status == 200, applied.text);
  auto results = applied.body["pools"];
  CHECK(results.size() == 2);
  CHECK(contains(results.dump(), R"({"applied":"created","name":"c"})"));
  CHECK(contains(results.dump(), R"({"applied":"hot","name":"a"})"));
  CHECK(h.pool("a")["max_size"] == 6);
  CHECK(h.pool("a")["config_version"] == before["a"].get<int>() + 1);
  CHECK(h.pool("b")["config_version"] == before["b"]);
  CHECK(h.all_active());
  CHECK(h.stop() == std::optional<int>{0});
}

TEST_CASE("after kill -9 the node recovers pools and quarantines and reports drift") {
  harness h;
  h.write(h.config(json::array({sim_pool("filed", 1, 4)})));
  h.start();

  REQUIRE(h.post("/api/v1/pools", sim_pool("made", 2, 4)).status == 201);
  auto patched = h.patch("/api/v1/pools/made", {{"max_size", 5}});
  REQUIRE_MESSAGE(patched.status == 200, patched.text);
  CHECK(patched.body["version"] == 2);
  auto resources = h.pool("made")["resources"];
  REQUIRE(resources.size() >= 1);
  auto victim = resources[0]["id"].get<std::string>();
  auto q = h.post("/api/v1/resources/" + victim + "/quarantine", {{"reason", "bad disk"}});
  REQUIRE_MESSAGE(q.status == 200, q.text);
  CHECK(h.pool("made")["quarantine"].dump().find(victim) != std::string::npos);
  REQUIRE(h.patch("/api/v1/pools/filed", {{"max_size", 7}}).status == 200);

  h.proc->signal(SIGKILL);
  REQUIRE(h.proc->wait_exit(10s) == std::optional<int>{128 + SIGKILL});

  h.start();
  auto made = h.pool("made");
  CHECK(made["config_version"] == 2);
  CHECK(made["max_size"] == 5);
  CHECK(made["config"]["max_size"] == 5);
  auto filed = h.pool("filed");
  CHECK(filed["max_size"] == 4); // the file wins
  auto status = h.get("/api/v1");
  REQUIRE(status.status == 200);
  REQUIRE(status.body["drift"].size() == 1);
  CHECK(status.body["drift"][0]["pool"] == "filed");
  CHECK(contains(status.body["drift"][0]["message"].get<std::string>(), "max_size"));
  CHECK(contains(status.body["drift"][0]["message"].get<std::string>(), "the file wins"));
  auto quarantined = [&] {
    auto p = h.pool("made");
    for (const auto& e : p["quarantine"])
      if (e["resource"] == victim)
        return contains(e["reason"].get<std::string>(), "bad disk");
    return false;
  };
  CHECK(eventually(quarantined));
  auto made_history = h.history("made");
  REQUIRE(made_history.size() == 2);
  CHECK(made_history[1]["config"]["max_size"] == 5);
  auto filed_history = h.history("filed");
  REQUIRE(filed_history.size() == 3); // the file, the PATCH, the file again
  CHECK(filed_history[1]["config"]["max_size"] == 7);
  CHECK(filed_history[2]["config"]["max_size"] == 4);

  // Now the store wins: change the pool again and restart preferring it.
  REQUIRE(h.patch("/api/v1/pools/filed", {{"max_size", 8}}).status == 200);
  CHECK(h.stop() == std::optional<int>{0});
  h.start({"--prefer-stored-config"});
  CHECK(h.pool("filed")["max_size"] == 8);
  auto again = h.get("/api/v1");
  REQUIRE(again.body["drift"].size() == 1);
  CHECK(contains(again.body["drift"][0]["message"].get<std::string>(), "the stored config wins"));
  CHECK(h.pool("made")["max_size"] == 5);
  CHECK(eventually(quarantined));
  CHECK(h.stop() == std::optional<int>{0});
}

TEST_CASE("custodianctl drives the real node") {
  harness h;
  h.token = "ctl-Secr3t-token-9a2e";
  h.write(
    h.config(json::array({sim_pool("db", 1, 4), sim_pool("cache", 1, 2, json::array({dep("db")}))}),
             {{"token_env", "CUSTODIAN_ITEST_TOKEN"}}));
  h.start({}, {"CUSTODIAN_ITEST_TOKEN=" + h.token});

  auto status = ctl(h, {"status"});
  CHECK_MESSAGE(status.code == 0, status.err);
  CHECK(contains(status.out, "itest"));

  auto pools = ctl(h, {"pools"});
  CHECK_MESSAGE(pools.code == 0, pools.err);
  CHECK(contains(pools.out, "db"));
  CHECK(contains(pools.out, "cache"));
  CHECK(contains(pools.out, "active"));

  auto resize = ctl(h, {"resize", "db", "--max-size", "6"});
  CHECK_MESSAGE(resize.code == 0, resize.err);
  CHECK(h.pool("db")["max_size"] == 6);

  auto del = ctl(h, {"delete", "db"});
  CHECK(del.code == 1);
  CHECK_MESSAGE(contains(del.err, "conflict"), del.err);
  CHECK(h.pool("db")["state"] == "active");

  // The documented --json form of events is the server's answer: {"events": [...]}.
  auto events = ctl(h, {"--json", "events", "--since", "0"});
  CHECK_MESSAGE(events.code == 0, events.err);
  auto parsed = json::parse(events.out, nullptr, false);
  REQUIRE_MESSAGE(parsed.is_object(), events.out);
  auto list = parsed["events"];
  REQUIRE(list.size() > 3);
  uint64_t last = 0;
  for (const auto& ev : list) {
    CHECK(ev["seq"].get<uint64_t>() > last);
    last = ev["seq"].get<uint64_t>();
    CHECK(ev.contains("kind"));
    CHECK(ev.contains("ts"));
  }
  auto table = ctl(h, {"events", "--since", "0"});
  CHECK(table.code == 0);
  CHECK(std::count(table.out.begin(), table.out.end(), '\n') == static_cast<long>(list.size()));

  // A secret cannot get into a sim pool's config at all: the driver refuses unknown keys.
  auto with_password = sim_pool("vault", 0, 1);
  with_password["driver_config"] = {{"password", "hunter2"}};
  auto refused = h.post("/api/v1/pools", with_password);
  CHECK(refused.status == 400);
  CHECK(contains(refused.text, "driver_config.password"));
  CHECK_FALSE(contains(refused.text, "hunter2"));

  auto backup = ctl(h, {"backup"});
  CHECK_MESSAGE(backup.code == 0, backup.err);
  auto doc = json::parse(backup.out, nullptr, false);
  CHECK(doc.is_object());
  CHECK(contains(backup.out, "\"db\""));
  CHECK_FALSE(contains(backup.out, h.token));
  CHECK_FALSE(contains(backup.out, "hunter2"));

  auto no_token = ctl(h, {"--token", "", "resize", "db", "--max-size", "5"});
  CHECK(no_token.code == 1);
  CHECK(contains(no_token.err, "unauthorized"));

  CHECK(h.stop() == std::optional<int>{0});
  CHECK_FALSE(contains(h.proc->log(), h.token));
  CHECK_FALSE(contains(h.proc->log(), "hunter2"));
}

TEST_CASE("the audit log lists operator actions by seq through the API and custodianctl") {
  harness h;
  h.token = "audit-Secr3t-token-77b1";
  h.write(h.config(json::array({sim_pool("db", 1, 4)}), {{"token_env", "CUSTODIAN_ITEST_TOKEN"}}));
  h.start({}, {"CUSTODIAN_ITEST_TOKEN=" + h.token});
  // A body the node keeps as the action's detail: a secret-named key in it is redacted.
  const std::string secret = "audit-body-Secr3t-41c9";
  REQUIRE(h.post("/api/v1/pools/db/resize", {{"max_size", 5}, {"api_token", secret}}).status ==
          200);
  REQUIRE(h.post("/api/v1/pools/db/suspend").status == 200);
  REQUIRE(h.post("/api/v1/pools/db/resume").status == 200);
  h.proc->signal(SIGHUP);
  auto audit = [&](const std::string& query = "") {
    auto r = h.get("/api/v1/audit" + query);
    REQUIRE_MESSAGE(r.status == 200, r.text);
    return r.body.at("audit");
  };
  REQUIRE(eventually([&] { return audit().size() == 4; }));

  auto all = audit();
  std::vector<std::string> actions;
  uint64_t last = 0;
  for (const auto& a : all) {
    actions.push_back(a.at("action"));
    CHECK(a.at("seq").get<uint64_t>() > last);
    last = a.at("seq").get<uint64_t>();
    CHECK(contains(a.at("ts").get<std::string>(), "T"));
  }
  CHECK(actions == std::vector<std::string>{"resize", "suspend", "resume", "reload"});
  CHECK(all[0].at("target") == "db");
  CHECK(all[0].at("requester").get<std::string>().rfind("api 127.0.0.1:", 0) == 0);
  CHECK(all[0].at("detail") == json{{"max_size", 5}, {"api_token", "<redacted>"}});
  CHECK(all[3].at("requester") == "sighup");
  CHECK(all[3].at("target") == h.config_path);

  // Pages: after a seq, at most limit.
  auto page = audit("?since=" + std::to_string(all[0].at("seq").get<uint64_t>()) + "&limit=2");
  REQUIRE(page.size() == 2);
  CHECK(page[0] == all[1]);
  CHECK(page[1] == all[2]);
  CHECK(audit("?since=" + std::to_string(last)).empty());
  auto bad = h.get("/api/v1/audit?since=-3");
  CHECK(bad.status == 400);
  CHECK(bad.body["error"]["code"] == "bad_request");
  CHECK(bad.body["error"]["path"] == "since");

  auto table = ctl(h, {"audit"});
  CHECK_MESSAGE(table.code == 0, table.err);
  CHECK(table.out.rfind("SEQ  TS", 0) == 0);
  CHECK(std::count(table.out.begin(), table.out.end(), '\n') == 5);
  CHECK(contains(table.out, "{\"api_token\":\"<redacted>\",\"max_size\":5}"));
  auto as_json = ctl(h, {"--json", "audit", "--limit", "1"});
  CHECK_MESSAGE(as_json.code == 0, as_json.err);
  CHECK(json::parse(as_json.out) == json{{"audit", json::array({all[0]})}});

  CHECK(h.stop() == std::optional<int>{0});
  CHECK_FALSE(contains(h.seen, secret));
  CHECK_FALSE(contains(table.out + as_json.out, secret));
  CHECK_FALSE(contains(h.proc->log(), secret));
}

TEST_CASE("a backup restores a pool deleted after it") {
  harness h;
  h.write(h.config(json::array({sim_pool("base", 1, 2)})));
  h.start();
  auto made = sim_pool("made", 1, 3);
  made["acquire_timeout_ms"] = 1234;
  REQUIRE(h.post("/api/v1/pools", made).status == 201);
  auto backup = h.get("/api/v1/backup");
  REQUIRE(backup.status == 200);
  REQUIRE(backup.body.is_object());

  REQUIRE(h.del("/api/v1/pools/made").status == 200);
  CHECK(h.get("/api/v1/pools/made").status == 404);

  auto restored = h.post("/api/v1/restore", backup.body);
  REQUIRE_MESSAGE(restored.status == 200, restored.text);
  CHECK(contains(restored.text, R"({"applied":"created","name":"made"})"));
  CHECK(h.all_active());
  auto p = h.pool("made");
  CHECK(p["config"]["acquire_timeout_ms"] == 1234);
  CHECK(p["max_size"] == 3);
  CHECK(h.pool("base")["state"] == "active");
  CHECK(h.stop() == std::optional<int>{0});
}

TEST_CASE("a kill -9 in the middle of changes loses none that were acknowledged") {
  // Two writers change the node at once; the node is killed after a number of
  // acknowledgements that changes from round to round. Whatever was acknowledged
  // must be there after the restart.
  for (int round = 0; round < 3; ++round) {
    harness h;
    h.write(h.config(json::array()));
    h.start();
    REQUIRE(h.post("/api/v1/pools", sim_pool("hot", 0, 2)).status == 201);
    std::mutex mtx;
    std::vector<int> acked_versions; // of "hot", as the PATCHes answered them
    std::vector<std::string> acked_pools;
    std::atomic<int> acks{0};
    std::atomic<bool> stop{false};
    auto kill_after = 4 + round * 5;
    std::thread patcher{[&] {
      auto cli = h.client();
      for (int size = 3; !stop; ++size) {
        auto res =
          cli.Patch("/api/v1/pools/hot", json{{"max_size", size}}.dump(), "application/json");
        if (!res || res->status != 200)
          return; // the node is gone
        std::lock_guard<std::mutex> guard{mtx};
        acked_versions.push_back(json::parse(res->body).at("version").get<int>());
        ++acks;
        changes().bump();
      }
    }};
    std::thread creator{[&] {
      auto cli = h.client();
      for (int i = 0; !stop; ++i) {
        auto name = "made-" + std::to_string(i);
        auto res = cli.Post("/api/v1/pools", sim_pool(name, 0, 1).dump(), "application/json");
        if (!res || res->status != 201)
          return;
        std::lock_guard<std::mutex> guard{mtx};
        acked_pools.push_back(name);
        ++acks;
        changes().bump();
      }
    }};
    CHECK(eventually([&] { return acks >= kill_after; }, 20s));
    h.proc->signal(SIGKILL);
    stop = true;
    patcher.join();
    creator.join();
    REQUIRE(h.proc->wait_exit(10s) == std::optional<int>{128 + SIGKILL});

    h.start();
    auto names = h.pool_names();
    for (const auto& name : acked_pools)
      CHECK_MESSAGE(std::find(names.begin(), names.end(), name) != names.end(),
                    "acknowledged pool " << name << " is gone");
    auto history = h.history("hot");
    std::vector<int> kept;
    for (const auto& v : history)
      kept.push_back(v.at("version").get<int>());
    for (int v : acked_versions)
      CHECK_MESSAGE(std::find(kept.begin(), kept.end(), v) != kept.end(),
                    "acknowledged version " << v << " is gone");
    if (!acked_versions.empty())
      CHECK(h.pool("hot")["config_version"].get<int>() >= acked_versions.back());
    CHECK(h.stop() == std::optional<int>{0});
  }
}

TEST_CASE("the node's /metrics passes promtool check metrics with every family sampled") {
  harness h;
  auto db = sim_pool("db", 2, 4);
  db["health"] = {{"interval_ms", 50}, {"timeout_ms", 500}};
  db["driver_config"] = {{"script", {{"check_pattern", "+~"}, {"exec_pattern", "-"}}}};
  h.write(h.config(json::array({db, sim_pool("cache", 1, 2, json::array({dep("db", "soft")}))})));
  h.start();
  REQUIRE(h.all_active());
  // A rejected exec, and probes that pass and pass degraded.
  CHECK(h.post("/api/v1/pools/db/exec", {{"request", {{"q", 1}}}}).status != 200);
  reply m;
  CHECK(eventually(
    [&] {
      m = h.get("/metrics");
      return m.status == 200 &&
             !contains(m.text,
                       "custodian_health_probes_total{pool=\"db\",result=\"degraded\"} 0\n");
    },
    10s));
  CHECK(contains(m.text, "custodian_exec_total{pool=\"db\",outcome=\"rejected\"} 1\n"));

  auto path = h.dir.file("metrics.txt");
  write_file(path, m.text);
  auto lint =
    run_shell("promtool check metrics < " + shell_quoted(path), h.dir.file("promtool.err"));
  REQUIRE_MESSAGE(lint.code != 127,
                  "promtool is missing: scripts/install-deps.sh --tests installs it");
  CHECK_MESSAGE(lint.code == 0, "promtool exit " << lint.code << ":\n" << lint.out << lint.err);
  CHECK_MESSAGE(lint.out + lint.err == "", lint.out << lint.err);
  CHECK(h.stop() == std::optional<int>{0});
}
