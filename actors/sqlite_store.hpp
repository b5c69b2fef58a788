#pragma once
// The state store in a SQLite file: WAL journal, synchronous=FULL, so a call that
// returned has reached the disk and survives a kill -9 or a power cut. The schema
// is versioned by PRAGMA user_version and migrated forward at open; a file of a
// newer schema is refused, not touched. Its calls block: only a detached actor
// (or a thread of its own) may make them.

#include <memory>
#include <string>
#include <unordered_map>

#include <caf/expected.hpp>

#include "actors/store_backend.hpp"

struct sqlite3;

namespace custodian {

class sqlite_statement;

class sqlite_store final : public store_backend {
public:
  /// Opens `path`, creating its parent directory and the file if missing;
  /// store_error naming the path and the cause otherwise.
  static caf::expected<std::unique_ptr<sqlite_store>> open(const std::string& path);

  ~sqlite_store() override;

  /// PRAGMA integrity_check's verdict: "ok", or the problems found.
  std::string integrity_check();

protected:
  void begin_() override;
  void commit_() override;
  void rollback_() noexcept override;

  std::optional<config_version> latest_config_(const std::string& pool) override;
  void insert_config_(const config_version& v) override;
  std::vector<config_version> config_history_(const std::string& pool) override;
  std::vector<config_version> all_configs_() override;
  void clear_configs_() override;

  void put_pool_state_(const pool_state_record& rec) override;
  void put_resource_state_(const resource_state_record& rec) override;
  void forget_resource_(const std::string& resource) override;
  void forget_pool_(const std::string& pool) override;
  std::vector<pool_state_record> pool_states_() override;
  std::vector<resource_state_record> resource_states_() override;

  void put_quarantine_(const quarantine_record& rec) override;
  void remove_quarantine_(const std::string& resource) override;
  std::vector<quarantine_record> quarantine_records_() override;
  void clear_quarantine_() override;

  uint64_t insert_audit_(const audit_record& rec) override;
  std::vector<audit_record> audit_since_(uint64_t since, uint32_t limit) override;

private:
  explicit sqlite_store(sqlite3* db);

  void setup();
  void migrate();
  /// Runs SQL without results (several statements allowed).
  void exec(const std::string& sql);
  /// The prepared statement of `sql`, kept for reuse (`sql` is a literal).
  sqlite_statement& prepare(const char* sql);

  sqlite3* db_;
  std::unordered_map<const char*, std::unique_ptr<sqlite_statement>> statements_;
};

} // namespace custodian
