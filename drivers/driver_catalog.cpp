#include "drivers/driver_catalog.hpp"

#include <stdexcept>

#include "drivers/http/http_driver.hpp"
#include "drivers/kafka/kafka_driver.hpp"
#include "drivers/mongodb/mongodb_driver.hpp"
#include "drivers/postgres/postgres_driver.hpp"
#include "drivers/process/process_driver.hpp"
#include "drivers/redis/redis_driver.hpp"
#include "drivers/sim/sim_driver.hpp"

namespace custodian::drivers {

void driver_catalog::add(const std::string& name, driver_entry entry) {
  entries_[name] = std::move(entry);
}

const driver_entry* driver_catalog::find(const std::string& name) const {
  auto i = entries_.find(name);
  return i != entries_.end() ? &i->second : nullptr;
}

std::vector<std::string> driver_catalog::names() const {
  std::vector<std::string> result;
  for (const auto& [name, entry] : entries_)
    result.push_back(name);
  return result;
}

namespace {

/// Splits the sim's "driver_config.key.path: why" into ("key.path", "why").
driver_config_problem split_sim_problem(const std::string& what) {
  constexpr std::string_view root = "driver_config";
  auto colon = what.find(": ");
  auto path = what.substr(0, colon);
  auto message = colon == std::string::npos ? std::string{} : what.substr(colon + 2);
  if (path.starts_with(root))
    path.erase(0, path.size() > root.size() ? root.size() + 1 : root.size());
  return {path, message};
}

} // namespace

driver_catalog builtin_drivers() {
  driver_catalog catalog;
  catalog.add("sim", {[](const nlohmann::json& cfg) -> std::vector<driver_config_problem> {
                        try {
                          sim_driver::from_config(cfg);
                          return {};
                        } catch (const std::invalid_argument& ex) {
                          return {split_sim_problem(ex.what())};
                        }
                      },
                      [](const nlohmann::json& cfg) -> std::shared_ptr<driver> {
                        return sim_driver::from_config(cfg);
                      }});
  catalog.add("redis", {redis_driver::problems_of, [](const nlohmann::json& cfg) {
                          return std::shared_ptr<driver>{redis_driver::from_config(cfg)};
                        }});
  catalog.add("process", {process_driver::problems_of, [](const nlohmann::json& cfg) {
                            return std::shared_ptr<driver>{process_driver::from_config(cfg)};
                          }});
  catalog.add("kafka", {kafka_driver::problems_of, [](const nlohmann::json& cfg) {
                          return std::shared_ptr<driver>{kafka_driver::from_config(cfg)};
                        }});
  catalog.add("http", {http_driver::problems_of, [](const nlohmann::json& cfg) {
                         return std::shared_ptr<driver>{http_driver::from_config(cfg)};
                       }});
  catalog.add("mongodb", {mongodb_driver::problems_of, [](const nlohmann::json& cfg) {
                            return std::shared_ptr<driver>{mongodb_driver::from_config(cfg)};
                          }});
  catalog.add("postgres", {postgres_driver::problems_of, [](const nlohmann::json& cfg) {
                             return std::shared_ptr<driver>{postgres_driver::from_config(cfg)};
                           }});
  return catalog;
}

} // namespace custodian::drivers
