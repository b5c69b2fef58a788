#pragma once
// The `mongodb` driver: each connection is a single-threaded mongoc client. exec
// runs one command (extended JSON) on the configured database and returns the
// server's reply; ping is {ping: 1}. Every call ends by its own deadline: the
// client's streams are the driver's (drivers/mongodb/mongodb_streams.hpp).

#include <memory>
#include <mongoc/mongoc.h>
#include <string>

#include <nlohmann/json.hpp>

#include "drivers/driver.hpp"
#include "drivers/mongodb/mongodb_config.hpp"

namespace custodian::drivers {

class deadline;
class mongodb_streams;

class mongodb_connection final : public connection {
public:
  /// Owns `client`, whose streams `streams` makes.
  mongodb_connection(mongoc_client_t* client, std::unique_ptr<mongodb_streams> streams,
                     std::string database);
  /// Destroys the client if close was never called (without waiting on the server).
  ~mongodb_connection() override;

  /// The client, for the holder of a lease, on its thread while it holds the
  /// lease. Its own commands wait at most the URI's socketTimeoutMS (libmongoc's
  /// default: 5 minutes) where the driver's calls wait their own timeout. A
  /// client is not shared between threads: pings leave it alone until the pool
  /// has it back (connection::lend_native).
  mongoc_client_t* native() {
    lend_native();
    return client_;
  }

protected:
  /// No stream's peer has hung up (a server restart, an idle connection killed).
  bool do_alive() override;
  driver_status do_ping(millis timeout) override;
  driver_result<nlohmann::json> do_exec(const nlohmann::json& request, millis timeout) override;
  /// Nothing to restore: a mongoc client keeps no state between commands that
  /// the next holder could inherit (sessions and cursors are the holder's to end).
  driver_status do_reset(millis timeout) override;
  driver_status do_close(millis timeout) override;

private:
  friend class mongodb_driver;

  /// Runs `command` on `database` within `until`: the reply, or the error as
  /// docs/drivers.md ("mongodb") classifies it.
  driver_result<nlohmann::json> run(const std::string& database, const bson_t& command,
                                    const deadline& until);
  void destroy_client(const deadline& until);

  mongoc_client_t* client_;
  std::unique_ptr<mongodb_streams> streams_;
  std::string database_;
};

class mongodb_driver final : public driver {
public:
  explicit mongodb_driver(mongodb_settings settings);

  /// Checks a driver_config (see mongodb_settings::problems_of).
  static std::vector<config_problem> problems_of(const nlohmann::json& driver_config);
  /// A driver for a valid driver_config; throws std::invalid_argument otherwise.
  static std::shared_ptr<mongodb_driver> from_config(const nlohmann::json& driver_config);

  std::string name() const override;

protected:
  /// A client, then {ping: 1}: the server answers (and accepts the credentials)
  /// within the connect timeout, or the connect fails.
  driver_result<std::shared_ptr<connection>> do_connect(const std::string& resource_id,
                                                        millis timeout) override;

private:
  mongodb_settings settings_;
};

} // namespace custodian::drivers
