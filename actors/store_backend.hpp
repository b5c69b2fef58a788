#pragma once
// The storage behind the state store, as a plain class: the rules (version
// numbering, idempotent re-puts, deletion, backup and restore, validation) live
// here once; a backend supplies transactions and the reads and writes of records.
// Every public call is one transaction: all of it is committed before it returns,
// or none of it. Template method: public entry points call the protected hooks,
// which throw `store_failure` on an I/O error (caught here, never across).

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "messages/store_kind.hpp"
#include "messages/store_messages.hpp"

namespace custodian {

struct state_store_config {
  store_kind kind = store_kind::sqlite;
  /// The SQLite file; its parent directory is created if missing.
  std::string path;
};

/// An I/O failure inside a backend hook.
class store_failure : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

class store_backend {
public:
  virtual ~store_backend();

  /// Stores `v` as its pool's next version (or a deletion record) and returns the
  /// version; see state_store_actor.
  caf::expected<uint32_t> put_config(config_version v);
  caf::expected<std::vector<config_version>> history(const std::string& pool);
  caf::expected<std::vector<config_version>> current_configs();

  caf::expected<void> apply(const state_updates& updates);
  caf::expected<state_updates> states();

  caf::expected<void> keep_quarantine(const quarantine_record& rec);
  caf::expected<void> release_quarantine(const std::string& resource);
  caf::expected<std::vector<quarantine_record>> quarantine();

  caf::expected<uint64_t> append_audit(audit_record rec);
  caf::expected<std::vector<audit_record>> audit(uint64_t since, uint32_t limit);

  /// The backup document (format "custodian-backup"), secrets redacted.
  caf::expected<std::string> backup(caf::timestamp created);
  /// Validates a backup document, then replaces configs and quarantine records by
  /// its own and appends its audit log.
  caf::expected<void> restore(const std::string& document);

  /// The schema version this build writes (PRAGMA user_version for SQLite).
  static constexpr int64_t schema_version = 1;

protected:
  virtual void begin_() = 0;
  virtual void commit_() = 0;
  /// Never throws: it runs while a failure is being reported.
  virtual void rollback_() noexcept = 0;

  virtual std::optional<config_version> latest_config_(const std::string& pool) = 0;
  virtual void insert_config_(const config_version& v) = 0;
  virtual std::vector<config_version> config_history_(const std::string& pool) = 0;
  /// Every version of every pool, by pool then version.
  virtual std::vector<config_version> all_configs_() = 0;
  virtual void clear_configs_() = 0;

  virtual void put_pool_state_(const pool_state_record& rec) = 0;
  virtual void put_resource_state_(const resource_state_record& rec) = 0;
  virtual void forget_resource_(const std::string& resource) = 0;
  /// Forgets the pool's state, its resources' states and its quarantine records.
  virtual void forget_pool_(const std::string& pool) = 0;
  virtual std::vector<pool_state_record> pool_states_() = 0;
  virtual std::vector<resource_state_record> resource_states_() = 0;

  virtual void put_quarantine_(const quarantine_record& rec) = 0;
  virtual void remove_quarantine_(const std::string& resource) = 0;
  virtual std::vector<quarantine_record> quarantine_records_() = 0;
  virtual void clear_quarantine_() = 0;

  /// Appends `rec` with the next seq and returns that seq.
  virtual uint64_t insert_audit_(const audit_record& rec) = 0;
  virtual std::vector<audit_record> audit_since_(uint64_t since, uint32_t limit) = 0;

private:
  template <class F>
  auto transact(F body) -> decltype(body());
};

/// Opens (and creates, or migrates) the store `cfg` names; an error of category
/// custodian (store_error) names the path and the cause.
caf::expected<std::unique_ptr<store_backend>> open_store_backend(const state_store_config& cfg);

} // namespace custodian
