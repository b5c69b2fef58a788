// The state store: one behaviour suite run against both backends (memory and
// SQLite), then the SQLite file across reopening and kill -9, opening errors,
// and the actor's wiring.

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sqlite3.h>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

#include <caf/all.hpp>
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "actors/memory_store.hpp"
#include "actors/sqlite_store.hpp"
#include "actors/state_store.hpp"
#include "messages/errors.hpp"
#include "messages/type_registry.hpp"

using namespace custodian;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

/// A fresh directory, removed with everything in it.
struct temp_dir {
  fs::path path;

  temp_dir() {
    std::string tmpl = (fs::temp_directory_path() / "custodian-store-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }

  std::string file(const std::string& name) const { return (path / name).string(); }
};

template <class T>
T ok(caf::expected<T> x) {
  REQUIRE_MESSAGE(x, describe(x.error()));
  return std::move(*x);
}

void ok(const caf::expected<void>& x) {
  REQUIRE_MESSAGE(x, describe(x.error()));
}

/// The error of a call expected to fail (none if it succeeded).
template <class T>
caf::error error_of(const caf::expected<T>& x) {
  return x ? caf::error{} : x.error();
}

/// Whole milliseconds: what a backup's RFC 3339 times keep exactly.
caf::timestamp at(int64_t ms) {
  return caf::timestamp{std::chrono::milliseconds{ms}};
}

config_version version_of(std::string pool, json config, std::string source = "api",
                          int64_t ms = 1'000) {
  return config_version{std::move(pool), 0,    at(ms), std::move(source), "tester",
                        config.dump(),   false};
}

config_version deletion_of(std::string pool, int64_t ms = 9'000) {
  return config_version{std::move(pool), 0, at(ms), "api", "tester", "", true};
}

resource_state_record resource(std::string id, std::string pool, std::string state,
                               int64_t ms = 1'000) {
  return resource_state_record{std::move(id), std::move(pool), std::move(state),
                               "healthy",     at(ms),          false};
}

quarantine_record quarantined(std::string id, std::string pool, bool by_hand = false) {
  return quarantine_record{std::move(id), std::move(pool), "probes failed", by_hand, at(2'000), 1};
}

audit_record action(std::string what, json detail = json::object()) {
  return audit_record{0, at(3'000), "custodianctl", std::move(what), "orders-db", detail.dump()};
}

std::vector<std::string> pools_of(const std::vector<config_version>& vs) {
  std::vector<std::string> out;
  for (const auto& v : vs)
    out.push_back(v.pool + "@" + std::to_string(v.version));
  return out;
}

struct memory_backend {
  static std::unique_ptr<store_backend> open(const temp_dir&) {
    return std::make_unique<memory_store>();
  }
};

struct sqlite_backend {
  static std::unique_ptr<store_backend> open(const temp_dir& dir) {
    return ok(sqlite_store::open(dir.file("state/store.db")));
  }
};

} // namespace

TYPE_TO_STRING_AS("memory store", memory_backend);
TYPE_TO_STRING_AS("SQLite store", sqlite_backend);

namespace {

template <class Kind>
struct store_fixture {
  temp_dir dir;
  std::unique_ptr<store_backend> store = Kind::open(dir);
};

/// Configs of two pools, a quarantine record and two audit records, one of each
/// with a secret.
void fill(store_backend& s) {
  ok(s.put_config(version_of("orders-db", {{"max_size", 4}}, "file", 1'000)));
  ok(s.put_config(version_of(
    "orders-db", {{"max_size", 8}, {"driver_config", {{"password", "s3cret"}}}}, "api", 2'000)));
  ok(s.put_config(version_of("cache", {{"max_size", 2}}, "file", 1'500)));
  ok(s.keep_quarantine(quarantined("orders-db-3", "orders-db", true)));
  ok(s.append_audit(action("resize", {{"max_size", 8}})));
  ok(s.append_audit(action("update", {{"driver_config", {{"API_TOKEN", "t0ken"}}}})));
}

} // namespace

TEST_CASE_TEMPLATE("config versions count from 1 per pool and keep their history", Kind,
                   memory_backend, sqlite_backend) {
  store_fixture<Kind> f;
  CHECK(ok(f.store->put_config(version_of("orders-db", {{"max_size", 4}}, "file"))) == 1);
  CHECK(ok(f.store->put_config(version_of("cache", {{"max_size", 2}}, "file"))) == 1);
  CHECK(ok(f.store->put_config(version_of("orders-db", {{"max_size", 8}}, "reload", 2'000))) == 2);
  auto history = ok(f.store->history("orders-db"));
  REQUIRE(history.size() == 2);
  CHECK(history[0] == config_version{"orders-db", 1, at(1'000), "file", "tester",
                                     json{{"max_size", 4}}.dump(), false});
  CHECK(history[1].version == 2);
  CHECK(history[1].source == "reload");
  CHECK(json::parse(history[1].config) == json{{"max_size", 8}});
  CHECK(pools_of(ok(f.store->current_configs())) ==
        std::vector<std::string>{"cache@1", "orders-db@2"});
}

TEST_CASE_TEMPLATE("putting the latest config again replies its version and writes nothing", Kind,
                   memory_backend, sqlite_backend) {
  store_fixture<Kind> f;
  ok(f.store->put_config(version_of("orders-db", {{"max_size", 4}, {"min_idle", 1}})));
  CHECK(ok(f.store->put_config(version_of("orders-db", {{"max_size", 4}, {"min_idle", 1}}))) == 1);
  // The same JSON written differently is the same config.
  auto v = version_of("orders-db", {});
  v.config = R"({ "min_idle": 1,   "max_size": 4 })";
  CHECK(ok(f.store->put_config(v)) == 1);
  CHECK(ok(f.store->history("orders-db")).size() == 1);
}

TEST_CASE_TEMPLATE("a deleted pool leaves the current configs and keeps its history", Kind,
                   memory_backend, sqlite_backend) {
  store_fixture<Kind> f;
  ok(f.store->put_config(version_of("orders-db", {{"max_size", 4}})));
  ok(f.store->put_config(version_of("cache", {{"max_size", 2}})));
  ok(f.store->apply(state_updates{
    {{"orders-db", "active", "healthy", at(1'000)}, {"cache", "active", "healthy", at(1'000)}},
    {resource("orders-db-1", "orders-db", "idle"), resource("cache-1", "cache", "idle")}}));
  ok(f.store->keep_quarantine(quarantined("orders-db-2", "orders-db")));
  ok(f.store->keep_quarantine(quarantined("cache-2", "cache")));

  CHECK(ok(f.store->put_config(deletion_of("orders-db"))) == 2);

  CHECK(pools_of(ok(f.store->current_configs())) == std::vector<std::string>{"cache@1"});
  auto history = ok(f.store->history("orders-db"));
  REQUIRE(history.size() == 2);
  CHECK(history[1].deleted);
  CHECK(history[1].config.empty());
  auto states = ok(f.store->states());
  REQUIRE(states.pools.size() == 1);
  CHECK(states.pools[0].pool == "cache");
  REQUIRE(states.resources.size() == 1);
  CHECK(states.resources[0].resource == "cache-1");
  auto q = ok(f.store->quarantine());
  REQUIRE(q.size() == 1);
  CHECK(q[0].resource == "cache-2");

  auto again = f.store->put_config(deletion_of("orders-db"));
  CHECK(is(error_of(again), errc::not_found));
  // Created again, the pool goes on from its last version.
  CHECK(ok(f.store->put_config(version_of("orders-db", {{"max_size", 4}}))) == 3);
  CHECK(pools_of(ok(f.store->current_configs())) ==
        std::vector<std::string>{"cache@1", "orders-db@3"});
}

TEST_CASE_TEMPLATE("a config that is not a JSON object or comes from an unknown source is refused",
                   Kind, memory_backend, sqlite_backend) {
  store_fixture<Kind> f;
  auto not_json = version_of("orders-db", {});
  not_json.config = "{max_size: 4";
  CHECK(is(error_of(f.store->put_config(not_json)), errc::bad_request));
  CHECK(
    is(error_of(f.store->put_config(version_of("orders-db", json::array()))), errc::bad_request));
  CHECK(is(error_of(f.store->put_config(version_of("orders-db", json::object(), "ftp"))),
           errc::bad_request));
  CHECK(is(error_of(f.store->put_config(version_of("", json::object()))), errc::bad_request));
  CHECK(is(error_of(f.store->history("orders-db")), errc::not_found));
  CHECK(is(error_of(f.store->put_config(deletion_of("orders-db"))), errc::not_found));
}

TEST_CASE_TEMPLATE("a batch of state updates keeps the latest state of each pool and resource",
                   Kind, memory_backend, sqlite_backend) {
  store_fixture<Kind> f;
  state_updates batch;
  batch.pools = {{"orders-db", "initializing", "unknown", at(1'000)},
                 {"orders-db", "active", "healthy", at(1'100)}};
  for (int i = 0; i < 100; ++i)
    batch.resources.push_back(resource("orders-db-" + std::to_string(i), "orders-db", "ready"));
  batch.resources.push_back(resource("orders-db-7", "orders-db", "in_use", 1'200));
  ok(f.store->apply(batch));

  state_updates later;
  later.resources = {resource("orders-db-8", "orders-db", "terminated", 1'300)};
  later.resources[0].gone = true;
  ok(f.store->apply(later));

  auto states = ok(f.store->states());
  REQUIRE(states.pools.size() == 1);
  CHECK(states.pools[0] == pool_state_record{"orders-db", "active", "healthy", at(1'100)});
  CHECK(states.resources.size() == 99);
  auto r7 = std::find_if(states.resources.begin(), states.resources.end(),
                         [](const auto& r) { return r.resource == "orders-db-7"; });
  REQUIRE(r7 != states.resources.end());
  CHECK(*r7 == resource("orders-db-7", "orders-db", "in_use", 1'200));
  CHECK(std::none_of(states.resources.begin(), states.resources.end(),
                     [](const auto& r) { return r.resource == "orders-db-8"; }));
}

TEST_CASE_TEMPLATE("quarantine records are kept, replaced and released", Kind, memory_backend,
                   sqlite_backend) {
  store_fixture<Kind> f;
  ok(f.store->keep_quarantine(quarantined("db-2", "orders-db")));
  ok(f.store->keep_quarantine(quarantined("db-1", "orders-db", true)));
  auto later = quarantined("db-2", "orders-db");
  later.attempts = 3;
  ok(f.store->keep_quarantine(later));
  CHECK(ok(f.store->quarantine()) ==
        std::vector<quarantine_record>{quarantined("db-1", "orders-db", true), later});
  ok(f.store->release_quarantine("db-1"));
  ok(f.store->release_quarantine("never-there"));
  CHECK(ok(f.store->quarantine()) == std::vector<quarantine_record>{later});
}

TEST_CASE_TEMPLATE("the audit log lists the records after a seq, at most limit of them", Kind,
                   memory_backend, sqlite_backend) {
  store_fixture<Kind> f;
  for (int i = 1; i <= 5; ++i)
    CHECK(ok(f.store->append_audit(action("act-" + std::to_string(i)))) == uint64_t(i));
  auto page = ok(f.store->audit(2, 2));
  REQUIRE(page.size() == 2);
  CHECK(page[0].seq == 3);
  CHECK(page[0].action == "act-3");
  CHECK(page[1].seq == 4);
  CHECK(ok(f.store->audit(4, 100)).size() == 1);
  CHECK(ok(f.store->audit(5, 100)).empty());
  CHECK(is(error_of(f.store->append_audit(action("x", json::array()))), errc::bad_request));
}

TEST_CASE_TEMPLATE("a backup holds every record and redacts secrets", Kind, memory_backend,
                   sqlite_backend) {
  store_fixture<Kind> f;
  fill(*f.store);
  ok(f.store->apply(state_updates{{{"cache", "active", "healthy", at(1'000)}}, {}}));
  auto text = ok(f.store->backup(at(5'000)));
  CHECK(text.find("s3cret") == std::string::npos);
  CHECK(text.find("t0ken") == std::string::npos);
  auto doc = json::parse(text);
  CHECK(doc["format"] == "custodian-backup");
  CHECK(doc["schema"] == store_backend::schema_version);
  CHECK(doc["created"] == "1970-01-01T00:00:05.000000Z");
  REQUIRE(doc["configs"].size() == 2);
  CHECK(doc["configs"][0]["pool"] == "cache");
  const auto& orders = doc["configs"][1]["versions"];
  REQUIRE(orders.size() == 2);
  CHECK(orders[1]["config"]["driver_config"]["password"] == "<redacted>");
  CHECK(orders[1]["source"] == "api");
  CHECK(doc["pool_states"][0]["pool"] == "cache");
  CHECK(doc["quarantine"][0]["resource"] == "orders-db-3");
  CHECK(doc["quarantine"][0]["by_hand"] == true);
  REQUIRE(doc["audit"].size() == 2);
  CHECK(doc["audit"][1]["detail"]["driver_config"]["API_TOKEN"] == "<redacted>");
}

TEST_CASE_TEMPLATE("a restored backup replaces configs and quarantine and appends the audit log",
                   Kind, memory_backend, sqlite_backend) {
  store_fixture<Kind> from;
  fill(*from.store);
  auto backup = ok(from.store->backup(at(5'000)));

  store_fixture<Kind> to;
  ok(to.store->put_config(version_of("legacy", {{"max_size", 1}})));
  ok(to.store->keep_quarantine(quarantined("legacy-1", "legacy")));
  ok(to.store->append_audit(action("before")));
  ok(to.store->restore(backup));

  CHECK(is(error_of(to.store->history("legacy")), errc::not_found));
  CHECK(pools_of(ok(to.store->current_configs())) ==
        std::vector<std::string>{"cache@1", "orders-db@2"});
  auto history = ok(to.store->history("orders-db"));
  auto original = ok(from.store->history("orders-db"));
  REQUIRE(history.size() == 2);
  CHECK(history[0] == original[0]);
  CHECK(json::parse(history[1].config)["driver_config"]["password"] == "<redacted>");
  CHECK(ok(to.store->quarantine()) == ok(from.store->quarantine()));
  auto audit = ok(to.store->audit(0, 100));
  REQUIRE(audit.size() == 3);
  CHECK(audit[0].action == "before");
  CHECK(audit[1].seq == 2);
  CHECK(audit[1].action == "resize");
  CHECK(audit[2].action == "update");
  // Backed up again, it is the same document but for the appended audit record.
  auto again = json::parse(ok(to.store->backup(at(5'000))));
  again["audit"].erase(0);
  auto first = json::parse(backup);
  for (auto* doc : {&again, &first})
    for (auto& a : (*doc)["audit"])
      a.erase("seq");
  CHECK(again["configs"] == first["configs"]);
  CHECK(again["quarantine"] == first["quarantine"]);
  CHECK(again["audit"] == first["audit"]);
}

TEST_CASE_TEMPLATE("a malformed backup is refused naming its JSON path and changes nothing", Kind,
                   memory_backend, sqlite_backend) {
  store_fixture<Kind> f;
  fill(*f.store);
  auto good = json::parse(ok(f.store->backup(at(5'000))));
  auto before = ok(f.store->backup(at(5'000)));

  auto refused = [&](const std::string& doc, const std::string& says) {
    auto r = f.store->restore(doc);
    REQUIRE_FALSE(r);
    CHECK(is(r.error(), errc::bad_request));
    CHECK_MESSAGE(describe(r.error()).find(says) != std::string::npos, describe(r.error()));
  };
  refused("{not json", "not JSON");
  refused("[]", "backup document: a backup is a JSON object");
  auto bad = good;
  bad["format"] = "tarball";
  refused(bad.dump(), "backup format: expected \"custodian-backup\"");
  bad = good;
  bad["schema"] = store_backend::schema_version + 1;
  refused(bad.dump(), "backup schema:");
  bad = good;
  bad["configs"][1]["versions"][1]["version"] = 7;
  refused(bad.dump(), "backup configs[1].versions[1].version: expected 2");
  bad = good;
  bad["configs"][0]["versions"][0].erase("source");
  refused(bad.dump(), "backup configs[0].versions[0].source: missing");
  bad = good;
  bad["configs"][0]["versions"][0]["config"] = "max_size=2";
  refused(bad.dump(), "backup configs[0].versions[0].config: expected an object");
  bad = good;
  bad["quarantine"][0]["since"] = "yesterday";
  refused(bad.dump(), "backup quarantine[0].since: expected an RFC 3339 time");
  bad = good;
  bad["audit"][1]["detail"] = 3;
  refused(bad.dump(), "backup audit[1].detail: expected an object");

  CHECK(ok(f.store->backup(at(5'000))) == before);
}

TEST_CASE("a reopened SQLite store holds everything that was written") {
  temp_dir dir;
  auto path = dir.file("node/state.db");
  {
    auto store = ok(sqlite_store::open(path));
    fill(*store);
    ok(store->apply(state_updates{{{"cache", "active", "healthy", at(1'000)}},
                                  {resource("cache-1", "cache", "idle")}}));
  }
  auto store = ok(sqlite_store::open(path));
  auto mirror = std::make_unique<memory_store>();
  fill(*mirror);
  ok(mirror->apply(state_updates{{{"cache", "active", "healthy", at(1'000)}},
                                 {resource("cache-1", "cache", "idle")}}));
  CHECK(ok(store->backup(at(0))) == ok(mirror->backup(at(0))));
  CHECK(ok(store->states()) == ok(mirror->states()));
  CHECK(ok(store->history("orders-db")) == ok(mirror->history("orders-db")));
  CHECK(store->integrity_check() == "ok");
}

TEST_CASE("a store that cannot be opened gives an error naming the path and the cause") {
  temp_dir dir;
  auto refusal = [](const std::string& path) {
    auto s = sqlite_store::open(path);
    REQUIRE_FALSE(s);
    CHECK(is(s.error(), errc::store_error));
    auto text = describe(s.error());
    CHECK_MESSAGE(text.find(path) != std::string::npos, text);
    return text;
  };
  std::ofstream{dir.file("plain-file")} << "not a directory";
  CHECK(refusal(dir.file("plain-file/store.db")).find("cannot create the directory") !=
        std::string::npos);

  std::ofstream{dir.file("notes.db")} << std::string(4096, 'x');
  CHECK(refusal(dir.file("notes.db")).find("not a database") != std::string::npos);

  auto newer = dir.file("newer.db");
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(newer.c_str(), &db) == SQLITE_OK);
  CHECK(sqlite3_exec(db, "PRAGMA user_version=99", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
  CHECK(refusal(newer).find("schema version 99 is newer") != std::string::npos);

  CHECK(describe(error_of(sqlite_store::open(""))).find("no path given") != std::string::npos);
}

TEST_CASE("a new SQLite store is created with the current schema in WAL mode") {
  temp_dir dir;
  auto path = dir.file("a/b/c/store.db");
  ok(sqlite_store::open(path));
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  auto pragma = [db](const char* sql) {
    sqlite3_stmt* s = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, sql, -1, &s, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(s) == SQLITE_ROW);
    std::string out = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    return out;
  };
  CHECK(pragma("PRAGMA user_version") == std::to_string(store_backend::schema_version));
  CHECK(pragma("PRAGMA journal_mode") == "wal");
  sqlite3_close(db);
}

// kill -9 of a writer at random moments: every write it saw acknowledged is in
// the file afterwards, the file passes integrity_check, and a batch is in whole
// or not at all. The child uses the plain backend (no actor system after fork).

namespace {

constexpr int crash_batch = 50;

/// Write number i, of one of four kinds.
bool crash_write(store_backend& s, uint64_t i) {
  auto n = std::to_string(i);
  switch (i % 4) {
  case 0:
    return static_cast<bool>(s.put_config(version_of("pool-" + std::to_string(i % 3), {{"n", i}})));
  case 1: {
    state_updates batch;
    for (int k = 0; k < crash_batch; ++k)
      batch.resources.push_back(resource("r" + n + "-" + std::to_string(k), "pool", "ready"));
    return static_cast<bool>(s.apply(batch));
  }
  case 2:
    return static_cast<bool>(s.append_audit(action("a" + n)));
  default:
    return static_cast<bool>(s.keep_quarantine(quarantined("q" + n, "pool")));
  }
}

[[noreturn]] void crash_child(const std::string& path, int out) {
  auto store = sqlite_store::open(path);
  if (!store)
    _exit(2);
  for (uint64_t i = 0;; ++i) {
    if (!crash_write(**store, i))
      _exit(3);
    if (write(out, &i, sizeof i) != sizeof i)
      _exit(4);
  }
}

/// What a store holds, as the numbers of the writes that made it.
struct written {
  std::set<uint64_t> writes;
  /// Resources of each batch found, by write number: all or none of each.
  std::map<uint64_t, int> batch_sizes;

  explicit written(store_backend& s) {
    for (int p = 0; p < 3; ++p) {
      auto history = s.history("pool-" + std::to_string(p));
      for (const auto& v : history ? *history : std::vector<config_version>{})
        writes.insert(json::parse(v.config)["n"].get<uint64_t>());
    }
    for (const auto& r : ok(s.states()).resources) {
      auto n = std::stoull(r.resource.substr(1, r.resource.find('-') - 1));
      writes.insert(n);
      ++batch_sizes[n];
    }
    for (const auto& a : ok(s.audit(0, 1'000'000)))
      writes.insert(std::stoull(a.action.substr(1)));
    for (const auto& q : ok(s.quarantine()))
      writes.insert(std::stoull(q.resource.substr(1)));
  }
};

/// Reads one acknowledgement; false at the end of the pipe.
bool read_ack(int in, uint64_t& n) {
  auto* p = reinterpret_cast<char*>(&n);
  std::size_t got = 0;
  while (got < sizeof n) {
    auto r = read(in, p + got, sizeof n - got);
    if (r <= 0)
      return false;
    got += static_cast<std::size_t>(r);
  }
  return true;
}

} // namespace

TEST_CASE("acknowledged writes to the store survive kill -9 at random moments") {
  auto seed = std::random_device{}();
  CAPTURE(seed);
  std::mt19937 rng{seed};
  std::uniform_int_distribution<int> kill_after{1, 40};
  for (int run = 0; run < 20; ++run) {
    CAPTURE(run);
    temp_dir dir;
    auto path = dir.file("store.db");
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    auto child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      close(fds[0]);
      crash_child(path, fds[1]);
    }
    close(fds[1]);
    auto acks_before_kill = kill_after(rng);
    std::vector<uint64_t> acked;
    uint64_t n = 0;
    // Acknowledgements written before the kill are still read after it.
    while (read_ack(fds[0], n)) {
      acked.push_back(n);
      if (acked.size() == static_cast<std::size_t>(acks_before_kill))
        kill(child, SIGKILL);
    }
    close(fds[0]);
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    REQUIRE_MESSAGE(WIFSIGNALED(status), "the writer ended by itself, status " << status);

    auto store = ok(sqlite_store::open(path));
    CHECK(store->integrity_check() == "ok");
    written found{*store};
    for (auto a : acked)
      CHECK_MESSAGE(found.writes.count(a) == 1, "acknowledged write " << a << " was lost");
    for (auto [batch, size] : found.batch_sizes)
      CHECK_MESSAGE(size == crash_batch, "batch " << batch << " is in part");
  }
}

TEST_CASE("the state store actor replies once written and reports errors as custodian errors") {
  struct config : caf::actor_system_config {
    config() { register_message_types(*this); }
  } cfg;
  caf::actor_system sys{cfg};
  temp_dir dir;
  auto store =
    spawn_state_store(sys, state_store_config{store_kind::sqlite, dir.file("node/store.db")});
  REQUIRE_MESSAGE(store, describe(store.error()));
  caf::scoped_actor self{sys};
  // The actor is detached: a blocking request from the test's thread is fine.
  auto ask = [&]<class T>(T, auto... xs) {
    caf::expected<T> out{make_error(errc::timeout, "no reply")};
    self->request(*store, caf::infinite, xs...)
      .receive([&](T& x) { out = std::move(x); }, [&](caf::error& e) { out = std::move(e); });
    return out;
  };
  using ok_t = caf::ok_atom;
  using put = caf::put_atom;
  using get = caf::get_atom;
  CHECK(ok(ask(uint32_t{}, put::value, version_of("orders-db", {{"max_size", 4}}))) == 1);
  ok(ask(ok_t{}, put::value, state_updates{{}, {resource("orders-db-1", "orders-db", "idle")}}));
  ok(ask(ok_t{}, put::value, quarantined("orders-db-2", "orders-db")));
  CHECK(ok(ask(uint64_t{}, put::value, action("resize"))) == 1);
  CHECK(is(error_of(ask(uint32_t{}, put::value, version_of("orders-db", json::array()))),
           errc::bad_request));
  CHECK(is(error_of(ask(std::vector<config_version>{}, history_atom::value, std::string{"nope"})),
           errc::not_found));
  CHECK(is(error_of(ask(ok_t{}, restore_atom::value, std::string{"{}"})), errc::bad_request));

  CHECK(pools_of(ok(ask(std::vector<config_version>{}, get::value, config_atom::value))) ==
        std::vector<std::string>{"orders-db@1"});
  CHECK(ok(ask(state_updates{}, get::value, state_atom::value)).resources.size() == 1);
  CHECK(ok(ask(std::vector<quarantine_record>{}, get::value, quarantine_atom::value)).size() == 1);
  CHECK(
    ok(ask(std::vector<audit_record>{}, get::value, audit_atom::value, uint64_t{0}, uint32_t{10}))
      .size() == 1);
  auto backup = ok(ask(std::string{}, backup_atom::value));
  ok(ask(ok_t{}, restore_atom::value, backup));
  ok(ask(ok_t{}, release_atom::value, std::string{"orders-db-2"}));
  CHECK(ok(ask(uint32_t{}, put::value, deletion_of("orders-db"))) == 2);
  self->send_exit(*store, caf::exit_reason::user_shutdown);
}

TEST_CASE("spawning a state store at an unopenable path returns the store error") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  temp_dir dir;
  std::ofstream{dir.file("plain-file")} << "x";
  auto store =
    spawn_state_store(sys, state_store_config{store_kind::sqlite, dir.file("plain-file/s.db")});
  REQUIRE_FALSE(store);
  CHECK(is(store.error(), errc::store_error));
  auto memory = spawn_state_store(sys, state_store_config{store_kind::memory, ""});
  REQUIRE(memory);
  caf::anon_send_exit(*memory, caf::exit_reason::user_shutdown);
}
