#pragma once
// The `postgres` driver (libpq): connections to a PostgreSQL server opened with a
// non-blocking connect bounded by the connect timeout, the host resolved within
// it too (libpq's PQconnectPoll ignores connect_timeout, and getaddrinfo has no
// bound). docs/drivers.md, "## postgres", has its driver_config, exec shapes and
// error classes.

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "drivers/driver.hpp"
#include "drivers/postgres/postgres_connection.hpp"
#include "drivers/postgres/postgres_settings.hpp"

namespace custodian::drivers {

class postgres_driver final : public driver {
public:
  /// An embedding application may build the settings itself, with a
  /// `secret_source::from_provider` password, say.
  explicit postgres_driver(postgres_settings settings);

  static std::vector<config_problem> problems_of(const nlohmann::json& driver_config);
  /// A driver for a driver_config that `problems_of` accepted.
  static std::shared_ptr<postgres_driver> from_config(const nlohmann::json& driver_config);

  std::string name() const override;
  const postgres_settings& settings() const { return settings_; }

protected:
  driver_result<std::shared_ptr<connection>> do_connect(const std::string& resource_id,
                                                        millis timeout) override;

private:
  postgres_settings settings_;
};

} // namespace custodian::drivers
