#include "actors/memory_store.hpp"

#include <algorithm>
#include <utility>

namespace custodian {

namespace {

template <class Map>
auto values(const Map& m) {
  std::vector<typename Map::mapped_type> out;
  out.reserve(m.size());
  for (const auto& [key, value] : m)
    out.push_back(value);
  return out;
}

template <class Map, class Pred>
void erase_if_value(Map& m, Pred pred) {
  std::erase_if(m, [&](const auto& kv) { return pred(kv.second); });
}

} // namespace

void memory_store::begin_() {
  undo_ = undo{records_, audit_.size()};
}

void memory_store::commit_() {
  undo_.reset();
}

void memory_store::rollback_() noexcept {
  if (!undo_)
    return;
  records_ = std::move(undo_->saved);
  audit_.resize(undo_->audit_size);
  undo_.reset();
}

std::optional<config_version> memory_store::latest_config_(const std::string& pool) {
  auto i = records_.configs.find(pool);
  if (i == records_.configs.end())
    return std::nullopt;
  return i->second.back();
}

void memory_store::insert_config_(const config_version& v) {
  records_.configs[v.pool].push_back(v);
}

std::vector<config_version> memory_store::config_history_(const std::string& pool) {
  auto i = records_.configs.find(pool);
  return i == records_.configs.end() ? std::vector<config_version>{} : i->second;
}

std::vector<config_version> memory_store::all_configs_() {
  std::vector<config_version> out;
  for (const auto& [pool, versions] : records_.configs)
    out.insert(out.end(), versions.begin(), versions.end());
  return out;
}

void memory_store::clear_configs_() {
  records_.configs.clear();
}

void memory_store::put_pool_state_(const pool_state_record& rec) {
  records_.pools[rec.pool] = rec;
}

void memory_store::put_resource_state_(const resource_state_record& rec) {
  records_.resources[rec.resource] = rec;
}

void memory_store::forget_resource_(const std::string& resource) {
  records_.resources.erase(resource);
}

void memory_store::forget_pool_(const std::string& pool) {
  records_.pools.erase(pool);
  erase_if_value(records_.resources, [&](const auto& r) { return r.pool == pool; });
  erase_if_value(records_.quarantine, [&](const auto& q) { return q.pool == pool; });
}

std::vector<pool_state_record> memory_store::pool_states_() {
  return values(records_.pools);
}

std::vector<resource_state_record> memory_store::resource_states_() {
  return values(records_.resources);
}

void memory_store::put_quarantine_(const quarantine_record& rec) {
  records_.quarantine[rec.resource] = rec;
}

void memory_store::remove_quarantine_(const std::string& resource) {
  records_.quarantine.erase(resource);
}

std::vector<quarantine_record> memory_store::quarantine_records_() {
  return values(records_.quarantine);
}

void memory_store::clear_quarantine_() {
  records_.quarantine.clear();
}

uint64_t memory_store::insert_audit_(const audit_record& rec) {
  auto& added = audit_.emplace_back(rec);
  added.seq = audit_.size() == 1 ? 1 : audit_[audit_.size() - 2].seq + 1;
  return added.seq;
}

std::vector<audit_record> memory_store::audit_since_(uint64_t since, uint32_t limit) {
  auto first = std::upper_bound(audit_.begin(), audit_.end(), since,
                                [](uint64_t s, const audit_record& a) { return s < a.seq; });
  auto n = std::min<std::size_t>(limit, static_cast<std::size_t>(audit_.end() - first));
  return {first, first + static_cast<std::ptrdiff_t>(n)};
}

} // namespace custodian
