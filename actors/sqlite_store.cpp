#include "actors/sqlite_store.hpp"

#include <array>
#include <filesystem>
#include <sqlite3.h>
#include <system_error>
#include <utility>

#include "messages/errors.hpp"

namespace custodian {

namespace {

/// Migration i takes a file from schema version i to i + 1.
constexpr std::array<const char*, store_backend::schema_version> migrations{
  R"sql(
CREATE TABLE config_versions (
  pool TEXT NOT NULL, version INTEGER NOT NULL, ts INTEGER NOT NULL, source TEXT NOT NULL,
  requester TEXT NOT NULL, config TEXT NOT NULL, deleted INTEGER NOT NULL,
  PRIMARY KEY (pool, version)) WITHOUT ROWID;
CREATE TABLE pool_states (
  pool TEXT PRIMARY KEY, state TEXT NOT NULL, health TEXT NOT NULL, ts INTEGER NOT NULL);
CREATE TABLE resource_states (
  resource TEXT PRIMARY KEY, pool TEXT NOT NULL, state TEXT NOT NULL, health TEXT NOT NULL,
  ts INTEGER NOT NULL);
CREATE INDEX resource_states_by_pool ON resource_states (pool);
CREATE TABLE quarantine (
  resource TEXT PRIMARY KEY, pool TEXT NOT NULL, reason TEXT NOT NULL, by_hand INTEGER NOT NULL,
  since INTEGER NOT NULL, attempts INTEGER NOT NULL);
CREATE TABLE audit (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, ts INTEGER NOT NULL, requester TEXT NOT NULL,
  action TEXT NOT NULL, target TEXT NOT NULL, detail TEXT NOT NULL);
)sql",
};

[[noreturn]] void fail(sqlite3* db, const std::string& what) {
  throw store_failure(what + ": " + sqlite3_errmsg(db));
}

} // namespace

/// A prepared statement: bind, step through the rows; reset for the next use.
class sqlite_statement {
public:
  sqlite_statement(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr) != SQLITE_OK)
      fail(db_, std::string{"preparing "} + sql);
  }

  ~sqlite_statement() { sqlite3_finalize(stmt_); }

  sqlite_statement(const sqlite_statement&) = delete;
  sqlite_statement& operator=(const sqlite_statement&) = delete;

  template <class... Ts>
  sqlite_statement& bind(const Ts&... xs) {
    sqlite3_reset(stmt_);
    [[maybe_unused]] int i = 0;
    (bind_one(++i, xs), ...);
    return *this;
  }

  /// True while there is a row to read; resets the statement when done.
  bool step() {
    auto rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW)
      return true;
    sqlite3_reset(stmt_);
    if (rc != SQLITE_DONE)
      fail(db_, std::string{"running "} + sqlite3_sql(stmt_));
    return false;
  }

  /// Runs the statement to its end, ignoring rows.
  void run() {
    while (step()) {
    }
  }

  int64_t integer(int col) { return sqlite3_column_int64(stmt_, col); }

  std::string text(int col) {
    auto p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    return p ? std::string{p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col))}
             : std::string{};
  }

  caf::timestamp time(int col) { return caf::timestamp{caf::timespan{integer(col)}}; }

  /// Every remaining row, each read by `read`.
  template <class Read>
  auto rows(Read read) {
    std::vector<decltype(read(*this))> out;
    while (step())
      out.push_back(read(*this));
    return out;
  }

private:
  void check(int rc) {
    if (rc != SQLITE_OK)
      fail(db_, "binding a parameter");
  }
  void bind_one(int i, const std::string& s) {
    check(sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT));
  }
  void bind_one(int i, int64_t n) { check(sqlite3_bind_int64(stmt_, i, n)); }
  void bind_one(int i, uint64_t n) { bind_one(i, static_cast<int64_t>(n)); }
  void bind_one(int i, uint32_t n) { bind_one(i, static_cast<int64_t>(n)); }
  void bind_one(int i, bool b) { bind_one(i, int64_t{b ? 1 : 0}); }
  void bind_one(int i, caf::timestamp ts) { bind_one(i, int64_t{ts.time_since_epoch().count()}); }

  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

namespace {

// Readers of rows, in the column order of the SELECTs below.

config_version read_config(sqlite_statement& s) {
  return config_version{s.text(0),        static_cast<uint32_t>(s.integer(1)),
                        s.time(2),        s.text(3),
                        s.text(4),        s.text(5),
                        s.integer(6) != 0};
}

pool_state_record read_pool_state(sqlite_statement& s) {
  return pool_state_record{s.text(0), s.text(1), s.text(2), s.time(3)};
}

resource_state_record read_resource_state(sqlite_statement& s) {
  return resource_state_record{s.text(0), s.text(1), s.text(2), s.text(3), s.time(4), false};
}

quarantine_record read_quarantine(sqlite_statement& s) {
  return quarantine_record{s.text(0),         s.text(1), s.text(2),
                           s.integer(3) != 0, s.time(4), static_cast<uint32_t>(s.integer(5))};
}

audit_record read_audit(sqlite_statement& s) {
  return audit_record{
    static_cast<uint64_t>(s.integer(0)), s.time(1), s.text(2), s.text(3), s.text(4), s.text(5)};
}

} // namespace

caf::expected<std::unique_ptr<sqlite_store>> sqlite_store::open(const std::string& path) {
  auto refuse = [&](const std::string& why) {
    return make_error(errc::store_error, "cannot open the state store " + path + ": " + why);
  };
  if (path.empty())
    return refuse("no path given");
  auto parent = std::filesystem::path{path}.parent_path();
  std::error_code ec;
  if (!parent.empty() && !std::filesystem::is_directory(parent, ec) &&
      !std::filesystem::create_directories(parent, ec))
    return refuse("cannot create the directory " + parent.string() + ": " + ec.message());
  sqlite3* db = nullptr;
  auto rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  // The store owns the handle even when opening failed: SQLite wants it closed.
  std::unique_ptr<sqlite_store> store{new sqlite_store(db)};
  if (rc != SQLITE_OK)
    return refuse(db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  try {
    store->setup();
  } catch (const store_failure& e) {
    return refuse(e.what());
  }
  return store;
}

sqlite_store::sqlite_store(sqlite3* db) : db_(db) {}

sqlite_store::~sqlite_store() {
  statements_.clear(); // finalized before the connection closes
  sqlite3_close(db_);
}

std::string sqlite_store::integrity_check() {
  std::string verdict;
  auto& s = prepare("PRAGMA integrity_check");
  while (s.step())
    verdict += (verdict.empty() ? "" : "; ") + s.text(0);
  return verdict;
}

void sqlite_store::setup() {
  // Another process holding the write lock is waited for, not failed at once.
  sqlite3_busy_timeout(db_, 5'000);
  auto& mode = prepare("PRAGMA journal_mode=WAL");
  auto journal = mode.rows([](sqlite_statement& s) { return s.text(0); });
  if (journal.empty() || journal.front() != "wal")
    throw store_failure("the file refuses the WAL journal");
  exec("PRAGMA synchronous=FULL");
  migrate();
}

void sqlite_store::migrate() {
  auto versions =
    prepare("PRAGMA user_version").rows([](sqlite_statement& s) { return s.integer(0); });
  auto v = versions.empty() ? 0 : versions.front();
  if (v > schema_version)
    throw store_failure("its schema version " + std::to_string(v) + " is newer than this build's " +
                        std::to_string(schema_version) + " (written by a newer custodiand)");
  for (; v < schema_version; ++v) {
    begin_();
    try {
      exec(migrations[static_cast<std::size_t>(v)]);
      exec("PRAGMA user_version=" + std::to_string(v + 1));
      commit_();
    } catch (const store_failure&) {
      rollback_();
      throw;
    }
  }
}

void sqlite_store::exec(const std::string& sql) {
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK)
    fail(db_, "running " + sql.substr(0, 60));
}

sqlite_statement& sqlite_store::prepare(const char* sql) {
  auto& s = statements_[sql];
  if (!s)
    s = std::make_unique<sqlite_statement>(db_, sql);
  return *s;
}

void sqlite_store::begin_() {
  // IMMEDIATE takes the write lock now, so no statement inside waits for it.
  prepare("BEGIN IMMEDIATE").run();
}

void sqlite_store::commit_() {
  prepare("COMMIT").run();
}

void sqlite_store::rollback_() noexcept {
  // Fails only when no transaction is open (BEGIN failed): nothing to undo then.
  sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

std::optional<config_version> sqlite_store::latest_config_(const std::string& pool) {
  auto rows = prepare("SELECT pool, version, ts, source, requester, config, deleted "
                      "FROM config_versions WHERE pool = ? ORDER BY version DESC LIMIT 1")
                .bind(pool)
                .rows(read_config);
  if (rows.empty())
    return std::nullopt;
  return std::move(rows.front());
}

void sqlite_store::insert_config_(const config_version& v) {
  prepare("INSERT INTO config_versions VALUES (?, ?, ?, ?, ?, ?, ?)")
    .bind(v.pool, v.version, v.ts, v.source, v.requester, v.config, v.deleted)
    .run();
}

std::vector<config_version> sqlite_store::config_history_(const std::string& pool) {
  return prepare("SELECT pool, version, ts, source, requester, config, deleted "
                 "FROM config_versions WHERE pool = ? ORDER BY version")
    .bind(pool)
    .rows(read_config);
}

std::vector<config_version> sqlite_store::all_configs_() {
  return prepare("SELECT pool, version, ts, source, requester, config, deleted "
                 "FROM config_versions ORDER BY pool, version")
    .bind()
    .rows(read_config);
}

void sqlite_store::clear_configs_() {
  prepare("DELETE FROM config_versions").bind().run();
}

void sqlite_store::put_pool_state_(const pool_state_record& rec) {
  prepare("INSERT OR REPLACE INTO pool_states VALUES (?, ?, ?, ?)")
    .bind(rec.pool, rec.state, rec.health, rec.ts)
    .run();
}

void sqlite_store::put_resource_state_(const resource_state_record& rec) {
  prepare("INSERT OR REPLACE INTO resource_states VALUES (?, ?, ?, ?, ?)")
    .bind(rec.resource, rec.pool, rec.state, rec.health, rec.ts)
    .run();
}

void sqlite_store::forget_resource_(const std::string& resource) {
  prepare("DELETE FROM resource_states WHERE resource = ?").bind(resource).run();
}

void sqlite_store::forget_pool_(const std::string& pool) {
  prepare("DELETE FROM pool_states WHERE pool = ?").bind(pool).run();
  prepare("DELETE FROM resource_states WHERE pool = ?").bind(pool).run();
  prepare("DELETE FROM quarantine WHERE pool = ?").bind(pool).run();
}

std::vector<pool_state_record> sqlite_store::pool_states_() {
  return prepare("SELECT pool, state, health, ts FROM pool_states ORDER BY pool")
    .bind()
    .rows(read_pool_state);
}

std::vector<resource_state_record> sqlite_store::resource_states_() {
  return prepare("SELECT resource, pool, state, health, ts FROM resource_states ORDER BY resource")
    .bind()
    .rows(read_resource_state);
}

void sqlite_store::put_quarantine_(const quarantine_record& rec) {
  prepare("INSERT OR REPLACE INTO quarantine VALUES (?, ?, ?, ?, ?, ?)")
    .bind(rec.resource, rec.pool, rec.reason, rec.by_hand, rec.since, rec.attempts)
    .run();
}

void sqlite_store::remove_quarantine_(const std::string& resource) {
  prepare("DELETE FROM quarantine WHERE resource = ?").bind(resource).run();
}

std::vector<quarantine_record> sqlite_store::quarantine_records_() {
  return prepare("SELECT resource, pool, reason, by_hand, since, attempts "
                 "FROM quarantine ORDER BY resource")
    .bind()
    .rows(read_quarantine);
}

void sqlite_store::clear_quarantine_() {
  prepare("DELETE FROM quarantine").bind().run();
}

uint64_t sqlite_store::insert_audit_(const audit_record& rec) {
  prepare("INSERT INTO audit (ts, requester, action, target, detail) VALUES (?, ?, ?, ?, ?)")
    .bind(rec.ts, rec.requester, rec.action, rec.target, rec.detail)
    .run();
  return static_cast<uint64_t>(sqlite3_last_insert_rowid(db_));
}

std::vector<audit_record> sqlite_store::audit_since_(uint64_t since, uint32_t limit) {
  return prepare("SELECT seq, ts, requester, action, target, detail FROM audit "
                 "WHERE seq > ? ORDER BY seq LIMIT ?")
    .bind(since, limit)
    .rows(read_audit);
}

} // namespace custodian
