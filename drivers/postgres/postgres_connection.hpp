#pragma once
// One libpq connection of the postgres driver. Every call is bounded by its
// deadline on the non-blocking socket (drivers/postgres/pg_round_trip.hpp);
// alive() and needs_reset() look at libpq's state and the socket without a
// round trip.

#include <libpq-fe.h>
#include <memory>
#include <optional>
#include <string>

#include "drivers/deadline.hpp"
#include "drivers/driver.hpp"

namespace custodian::drivers {

struct pgconn_deleter {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};
using pgconn_handle = std::unique_ptr<PGconn, pgconn_deleter>;

class postgres_connection final : public connection {
public:
  /// A connection that libpq connected: made non-blocking, its server notices
  /// watched, and, when a primary is required, checked not to be a standby by the
  /// connect's deadline.
  static driver_result<std::shared_ptr<postgres_connection>>
  open(pgconn_handle conn, bool require_primary, const deadline& until);

  /// The libpq connection, for the holder of a lease: valid on the holder's
  /// thread while it holds the lease (never after). It is in non-blocking mode
  /// (PQexec and PQexecParams still wait for their answer, without a bound of
  /// Custodian's). Pings leave it alone while it is out, and using it marks the
  /// session for a reset (ROLLBACK if needed, then DISCARD ALL) when the lease
  /// comes back; `lease.fail(reason)` reports a connection the holder found broken.
  PGconn* native();

  /// Use `open`.
  postgres_connection(pgconn_handle conn, bool require_primary);

protected:
  bool do_alive() override;
  bool do_needs_reset() override;
  driver_status do_ping(millis timeout) override;
  driver_result<nlohmann::json> do_exec(const nlohmann::json& request, millis timeout) override;
  driver_status do_reset(millis timeout) override;
  driver_status do_close(millis timeout) override;

private:
  static void on_notice(void* self, const PGresult* notice);

  /// Why the connection cannot be used, seen without a round trip: broken by an
  /// earlier call, closed by the server (its FATAL notice, or the socket's end;
  /// the socket is looked at only with `read_socket`).
  std::optional<driver_error> idle_failure(bool read_socket = true);
  /// `err`, with the server's last words when it ended the connection; a failure
  /// that breaks the connection is remembered, and every later call fails with it.
  driver_error failed(driver_error err);
  /// SELECT 1, or pg_is_in_recovery() when a primary is required.
  driver_status check_server(const deadline& until);

  pgconn_handle conn_;
  bool require_primary_;
  /// Why the connection broke; empty while it works.
  std::string broken_;
  /// What the server said (FATAL, or a 57P0x shutdown) before it closed the connection.
  std::optional<driver_error> goodbye_;
  /// The holder left session state behind through exec (SET, PREPARE, LISTEN, ...).
  bool session_changed_ = false;
};

} // namespace custodian::drivers
