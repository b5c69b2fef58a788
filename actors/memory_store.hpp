#pragma once
// The state store in memory: for tests and throwaway nodes. Nothing survives the
// process. A transaction keeps a copy of the records to roll back to (the audit
// log, append-only, is cut back to its length instead of copied).

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "actors/store_backend.hpp"

namespace custodian {

class memory_store final : public store_backend {
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
  struct records {
    std::map<std::string, std::vector<config_version>> configs;
    std::map<std::string, pool_state_record> pools;
    std::map<std::string, resource_state_record> resources;
    std::map<std::string, quarantine_record> quarantine;
  };

  struct undo {
    records saved;
    std::size_t audit_size = 0;
  };

  records records_;
  std::vector<audit_record> audit_;
  std::optional<undo> undo_;
};

} // namespace custodian
