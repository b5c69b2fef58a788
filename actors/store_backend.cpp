#include "actors/store_backend.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <set>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "actors/memory_store.hpp"
#include "actors/record_json.hpp"
#include "actors/sqlite_store.hpp"
#include "messages/errors.hpp"
#include "messages/event_json.hpp"

namespace custodian {

using json = nlohmann::json;

namespace {

constexpr std::array<std::string_view, 4> sources{"file", "api", "reload", "restore"};

bool valid_source(std::string_view s) {
  return std::find(sources.begin(), sources.end(), s) != sources.end();
}

/// The JSON object `text` holds, or nothing.
std::optional<json> json_object(const std::string& text) {
  auto j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return std::nullopt;
  return j;
}

// Reading a backup document: each reader names the JSON path of what it rejects.

struct bad_document {
  std::string path;
  std::string what;
};

[[noreturn]] void reject(std::string path, std::string what) {
  throw bad_document{std::move(path), std::move(what)};
}

std::string at_key(const std::string& path, std::string_view key) {
  return path.empty() ? std::string{key} : path + "." + std::string{key};
}

std::string at_index(const std::string& path, std::size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

const json& field(const json& obj, const std::string& path, std::string_view key) {
  auto i = obj.find(key);
  if (i == obj.end())
    reject(at_key(path, key), "missing");
  return *i;
}

template <class Pred>
const json& field_of(const json& obj, const std::string& path, std::string_view key, Pred ok,
                     const char* expected) {
  const auto& v = field(obj, path, key);
  if (!ok(v))
    reject(at_key(path, key), std::string{"expected "} + expected);
  return v;
}

std::string text_of(const json& obj, const std::string& path, std::string_view key) {
  return field_of(
           obj, path, key, [](const json& v) { return v.is_string(); }, "a string")
    .get<std::string>();
}

bool flag_of(const json& obj, const std::string& path, std::string_view key) {
  return field_of(
           obj, path, key, [](const json& v) { return v.is_boolean(); }, "true or false")
    .get<bool>();
}

uint64_t count_of(const json& obj, const std::string& path, std::string_view key) {
  return field_of(
           obj, path, key, [](const json& v) { return v.is_number_unsigned(); },
           "an unsigned integer")
    .get<uint64_t>();
}

const json& list_of(const json& obj, const std::string& path, std::string_view key) {
  return field_of(
    obj, path, key, [](const json& v) { return v.is_array(); }, "an array");
}

const json& object_of(const json& obj, const std::string& path, std::string_view key) {
  return field_of(
    obj, path, key, [](const json& v) { return v.is_object(); }, "an object");
}

caf::timestamp time_of(const json& obj, const std::string& path, std::string_view key) {
  auto t = from_rfc3339(text_of(obj, path, key));
  if (!t)
    reject(at_key(path, key), "expected an RFC 3339 time (\"2026-11-30T13:49:16.000000Z\")");
  return *t;
}

void expect_object(const json& v, const std::string& path) {
  if (!v.is_object())
    reject(path, "expected an object");
}

/// What a restore writes, read and checked whole before anything is written.
struct restore_plan {
  std::vector<config_version> configs;
  std::vector<quarantine_record> quarantine;
  std::vector<audit_record> audit;
};

std::vector<config_version> read_versions(const json& entry, const std::string& path,
                                          const std::string& pool) {
  std::vector<config_version> out;
  const auto& versions = list_of(entry, path, "versions");
  auto vpath = at_key(path, "versions");
  if (versions.empty())
    reject(vpath, "a pool needs at least one version");
  for (std::size_t i = 0; i < versions.size(); ++i) {
    const auto& v = versions[i];
    auto p = at_index(vpath, i);
    expect_object(v, p);
    config_version cv;
    cv.pool = pool;
    if (count_of(v, p, "version") != i + 1)
      reject(at_key(p, "version"),
             "expected " + std::to_string(i + 1) + " (versions count from 1)");
    cv.version = static_cast<uint32_t>(i + 1);
    cv.ts = time_of(v, p, "ts");
    cv.source = text_of(v, p, "source");
    if (!valid_source(cv.source))
      reject(at_key(p, "source"), "expected file, api, reload or restore");
    cv.requester = text_of(v, p, "requester");
    cv.deleted = flag_of(v, p, "deleted");
    if (!cv.deleted)
      cv.config = object_of(v, p, "config").dump();
    out.push_back(std::move(cv));
  }
  return out;
}

restore_plan read_backup(const json& doc) {
  if (!doc.is_object())
    reject("", "a backup is a JSON object");
  if (text_of(doc, "", "format") != "custodian-backup")
    reject("format", "expected \"custodian-backup\"");
  auto schema = count_of(doc, "", "schema");
  if (schema < 1 || schema > static_cast<uint64_t>(store_backend::schema_version))
    reject("schema", "this build restores schema 1 to " +
                       std::to_string(store_backend::schema_version) + ", not " +
                       std::to_string(schema));
  time_of(doc, "", "created");
  list_of(doc, "", "pool_states"); // kept for reading, not restored: the live node owns it
  restore_plan plan;
  const auto& configs = list_of(doc, "", "configs");
  std::set<std::string> pools;
  for (std::size_t i = 0; i < configs.size(); ++i) {
    auto p = at_index("configs", i);
    expect_object(configs[i], p);
    auto pool = text_of(configs[i], p, "pool");
    if (pool.empty() || !pools.insert(pool).second)
      reject(at_key(p, "pool"), "expected a pool name not used before");
    auto versions = read_versions(configs[i], p, pool);
    plan.configs.insert(plan.configs.end(), versions.begin(), versions.end());
  }
  const auto& quarantine = list_of(doc, "", "quarantine");
  for (std::size_t i = 0; i < quarantine.size(); ++i) {
    const auto& q = quarantine[i];
    auto p = at_index("quarantine", i);
    expect_object(q, p);
    auto attempts = count_of(q, p, "attempts");
    if (attempts > std::numeric_limits<uint32_t>::max())
      reject(at_key(p, "attempts"), "too large");
    plan.quarantine.push_back(quarantine_record{
      text_of(q, p, "resource"), text_of(q, p, "pool"), text_of(q, p, "reason"),
      flag_of(q, p, "by_hand"), time_of(q, p, "since"), static_cast<uint32_t>(attempts)});
  }
  const auto& audit = list_of(doc, "", "audit");
  for (std::size_t i = 0; i < audit.size(); ++i) {
    const auto& a = audit[i];
    auto p = at_index("audit", i);
    expect_object(a, p);
    plan.audit.push_back(audit_record{0, time_of(a, p, "ts"), text_of(a, p, "requester"),
                                      text_of(a, p, "action"), text_of(a, p, "target"),
                                      object_of(a, p, "detail").dump()});
  }
  return plan;
}

json versions_json(std::vector<config_version>::const_iterator first,
                   std::vector<config_version>::const_iterator last) {
  auto out = json::array();
  for (; first != last; ++first)
    out.push_back({{"version", first->version},
                   {"ts", to_rfc3339(first->ts)},
                   {"source", first->source},
                   {"requester", first->requester},
                   {"deleted", first->deleted},
                   {"config", first->deleted ? json{} : redacted_object(first->config)}});
  return out;
}

} // namespace

store_backend::~store_backend() = default;

template <class F>
auto store_backend::transact(F body) -> decltype(body()) {
  try {
    begin_();
    auto result = body();
    if (result)
      commit_();
    else
      rollback_();
    return result;
  } catch (const store_failure& e) {
    rollback_();
    return make_error(errc::store_error, e.what());
  }
}

caf::expected<uint32_t> store_backend::put_config(config_version v) {
  if (v.pool.empty())
    return make_error(errc::bad_request, "a config version needs a pool name");
  if (!valid_source(v.source))
    return make_error(errc::bad_request, "config source \"" + v.source +
                                           "\" is not one of file, api, reload, restore");
  std::optional<json> config;
  if (!v.deleted && !(config = json_object(v.config)))
    return make_error(errc::bad_request, "the config of pool " + v.pool + " is not a JSON object");
  return transact([&]() -> caf::expected<uint32_t> {
    auto latest = latest_config_(v.pool);
    bool live = latest && !latest->deleted;
    if (v.deleted) {
      if (!live)
        return make_error(errc::not_found, "pool " + v.pool + " has no live config to delete");
      v.config.clear();
      forget_pool_(v.pool);
    } else if (live && json_object(latest->config) == config) {
      return latest->version; // the same config again: nothing new to keep
    }
    v.version = latest ? latest->version + 1 : 1;
    insert_config_(v);
    return v.version;
  });
}

caf::expected<std::vector<config_version>> store_backend::history(const std::string& pool) {
  return transact([&]() -> caf::expected<std::vector<config_version>> {
    auto versions = config_history_(pool);
    if (versions.empty())
      return make_error(errc::not_found, "pool " + pool + " has no stored config");
    return versions;
  });
}

caf::expected<std::vector<config_version>> store_backend::current_configs() {
  return transact([&]() -> caf::expected<std::vector<config_version>> {
    std::vector<config_version> out;
    auto all = all_configs_();
    for (std::size_t i = 0; i < all.size(); ++i) {
      bool latest = i + 1 == all.size() || all[i + 1].pool != all[i].pool;
      if (latest && !all[i].deleted)
        out.push_back(std::move(all[i]));
    }
    return out;
  });
}

caf::expected<void> store_backend::apply(const state_updates& updates) {
  return transact([&]() -> caf::expected<void> {
    for (const auto& p : updates.pools)
      put_pool_state_(p);
    for (const auto& r : updates.resources) {
      if (r.gone)
        forget_resource_(r.resource);
      else
        put_resource_state_(r);
    }
    return caf::unit;
  });
}

caf::expected<state_updates> store_backend::states() {
  return transact([&]() -> caf::expected<state_updates> {
    return state_updates{pool_states_(), resource_states_()};
  });
}

caf::expected<void> store_backend::keep_quarantine(const quarantine_record& rec) {
  if (rec.resource.empty())
    return make_error(errc::bad_request, "a quarantine record needs a resource id");
  return transact([&]() -> caf::expected<void> {
    put_quarantine_(rec);
    return caf::unit;
  });
}

caf::expected<void> store_backend::release_quarantine(const std::string& resource) {
  return transact([&]() -> caf::expected<void> {
    remove_quarantine_(resource);
    return caf::unit;
  });
}

caf::expected<std::vector<quarantine_record>> store_backend::quarantine() {
  return transact(
    [&]() -> caf::expected<std::vector<quarantine_record>> { return quarantine_records_(); });
}

caf::expected<uint64_t> store_backend::append_audit(audit_record rec) {
  if (rec.detail.empty())
    rec.detail = "{}";
  if (!json_object(rec.detail))
    return make_error(errc::bad_request, "the detail of an audit record is not a JSON object");
  return transact([&]() -> caf::expected<uint64_t> { return insert_audit_(rec); });
}

caf::expected<std::vector<audit_record>> store_backend::audit(uint64_t since, uint32_t limit) {
  return transact(
    [&]() -> caf::expected<std::vector<audit_record>> { return audit_since_(since, limit); });
}

caf::expected<std::string> store_backend::backup(caf::timestamp created) {
  return transact([&]() -> caf::expected<std::string> {
    auto configs = json::array();
    auto all = all_configs_();
    for (auto first = all.cbegin(); first != all.cend();) {
      auto last = std::find_if(first, all.cend(),
                               [&](const config_version& v) { return v.pool != first->pool; });
      configs.push_back({{"pool", first->pool}, {"versions", versions_json(first, last)}});
      first = last;
    }
    auto pools = json::array();
    for (const auto& p : pool_states_())
      pools.push_back(
        {{"pool", p.pool}, {"state", p.state}, {"health", p.health}, {"ts", to_rfc3339(p.ts)}});
    auto quarantine = json::array();
    for (const auto& q : quarantine_records_())
      quarantine.push_back({{"resource", q.resource},
                            {"pool", q.pool},
                            {"reason", q.reason},
                            {"by_hand", q.by_hand},
                            {"since", to_rfc3339(q.since)},
                            {"attempts", q.attempts}});
    auto audit = json::array();
    for (const auto& a : audit_since_(0, std::numeric_limits<uint32_t>::max()))
      audit.push_back(audit_json(a));
    json doc{{"format", "custodian-backup"},    {"schema", schema_version},
             {"created", to_rfc3339(created)},  {"configs", std::move(configs)},
             {"pool_states", std::move(pools)}, {"quarantine", std::move(quarantine)},
             {"audit", std::move(audit)}};
    return doc.dump(2);
  });
}

caf::expected<void> store_backend::restore(const std::string& document) {
  auto doc = json::parse(document, nullptr, false);
  if (doc.is_discarded())
    return make_error(errc::bad_request, "the backup is not JSON");
  restore_plan plan;
  try {
    plan = read_backup(doc);
  } catch (const bad_document& bad) {
    return make_error(errc::bad_request, "backup " +
                                           (bad.path.empty() ? std::string{"document"} : bad.path) +
                                           ": " + bad.what);
  }
  return transact([&]() -> caf::expected<void> {
    clear_configs_();
    for (const auto& v : plan.configs)
      insert_config_(v);
    clear_quarantine_();
    for (const auto& q : plan.quarantine)
      put_quarantine_(q);
    for (const auto& a : plan.audit)
      insert_audit_(a);
    return caf::unit;
  });
}

caf::expected<std::unique_ptr<store_backend>> open_store_backend(const state_store_config& cfg) {
  if (cfg.kind == store_kind::memory)
    return std::unique_ptr<store_backend>{std::make_unique<memory_store>()};
  auto store = sqlite_store::open(cfg.path);
  if (!store)
    return std::move(store.error());
  return std::unique_ptr<store_backend>{std::move(*store)};
}

} // namespace custodian
