#pragma once
// The redis driver (hiredis 0.14). It connects the socket itself within the
// connect deadline (name resolution included), AUTHenticates (as `username` when
// set), SELECTs `db` and PINGs; every later command runs non-blocking under its
// call's deadline. A connection whose call failed on the wire (a timeout, a drop)
// is never used again: the pool replaces it.

#include <atomic>
#include <hiredis/hiredis.h>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "drivers/config_schema.hpp"
#include "drivers/driver.hpp"
#include "drivers/redis/redis_session.hpp"
#include "drivers/redis/redis_settings.hpp"
#include "drivers/redis/redis_wire.hpp"

namespace custodian::drivers {

class redis_connection final : public connection {
public:
  /// `native_timeout` bounds each read and write of the application's own calls.
  redis_connection(context_ptr ctx, std::shared_ptr<const redis_settings> settings,
                   millis native_timeout);

  /// The hiredis context, for the holder of a lease, on the holder's thread while
  /// it holds the lease. It is in blocking mode (redisCommand works as documented),
  /// each read and write bounded by command_timeout_ms or, without it, by the
  /// connect timeout. hiredis writes with write(2): an application using it ignores
  /// SIGPIPE. Asking for it has the connection reset when the lease comes back.
  redisContext* native();

  /// AUTH, SELECT and PING on a fresh connection (connect runs it).
  driver_status handshake(const std::string& password, const deadline& until, millis budget);

protected:
  bool do_alive() override;
  bool do_needs_reset() override;
  driver_status do_ping(millis timeout) override;
  driver_result<nlohmann::json> do_exec(const nlohmann::json& request, millis timeout) override;
  /// RESET (which also ends a MULTI, a subscription, MONITOR, CLIENT REPLY OFF,
  /// tracking, and deauthenticates), then AUTH and SELECT again: one round trip.
  driver_status do_reset(millis timeout) override;
  driver_status do_close(millis timeout) override;

private:
  /// Ready for one of the driver's calls: non-blocking again if the application
  /// used the handle, and never after a failure on the wire.
  driver_status usable();
  /// Sends `commands` at once and checks each reply in order.
  driver_status pipeline(const std::vector<std::vector<std::string>>& commands,
                         const std::string& password_source, const deadline& until, millis budget);
  /// Sends one command and reads its reply.
  driver_result<reply_ptr> round_trip(const std::vector<std::string>& argv, const deadline& until,
                                      millis budget);
  /// AUTH (when there is a password), SELECT (when db is not 0), PING.
  std::vector<std::vector<std::string>> handshake_commands(const std::string& password) const;
  /// Marks the connection failed (never used again) and says why, naming the server.
  driver_error lost(const driver_error& err, const std::string& what, millis budget);

  context_ptr ctx_;
  std::shared_ptr<const redis_settings> settings_;
  millis native_timeout_;
  session_state session_;
  bool failed_ = false;
  std::string failed_why_;
  std::atomic<bool> blocking_{false};
};

class redis_driver final : public driver {
public:
  explicit redis_driver(redis_settings settings);

  /// Every problem of a driver_config (redis_settings::problems_of).
  static std::vector<config_problem> problems_of(const nlohmann::json& driver_config);
  /// A driver for a valid driver_config; throws std::invalid_argument listing the
  /// problems of an invalid one.
  static std::shared_ptr<redis_driver> from_config(const nlohmann::json& driver_config);

  std::string name() const override;
  const redis_settings& settings() const { return *settings_; }

protected:
  driver_result<std::shared_ptr<connection>> do_connect(const std::string& resource_id,
                                                        millis timeout) override;

private:
  std::shared_ptr<const redis_settings> settings_;
};

} // namespace custodian::drivers
