#pragma once
// PostgreSQL's failures as driver errors (docs/drivers.md, "## postgres"): the
// SQLSTATE decides the class, the server's own words are the message.

#include <libpq-fe.h>
#include <string>
#include <string_view>

#include "drivers/driver.hpp"

namespace custodian::drivers::pg {

/// The class of a statement's SQLSTATE: a request error (`rejected`) leaves the
/// connection usable; class 08 is `broken`; 57P01-57P03 (shutdown, crash, startup)
/// `unavailable`; 25006 (read-only transaction) `read_only` when a primary is
/// required, else a request error.
driver_errc statement_class(std::string_view sqlstate, bool require_primary);

/// The class of a SQLSTATE that ended a connect attempt: 28xxx, 3D000 (no such
/// database) and 42501 (no CONNECT privilege) are `auth`; 53xxx (too many
/// connections) and 57P0x (starting up, shutting down) `unavailable`; 08004 (the
/// server rejected the connection) `refused`; anything else `broken`.
driver_errc connect_class(std::string_view sqlstate);

/// The error of a failed statement: "ERROR 42601: syntax error at or near ..."
/// (plus the server's DETAIL). `connection_lost`: the connection ended with it,
/// so a request error becomes `broken`.
driver_error statement_error(const PGresult* result, bool connection_lost, bool require_primary);

/// The error of a failed connect from libpq's message in verbose form (which
/// carries the server's SQLSTATE): "FATAL 28P01: password authentication failed
/// for user ..." naming `target`. Without a SQLSTATE it is `refused` when the
/// server was never reached (nothing listens, no route), else `broken`.
driver_error connect_error(const std::string& libpq_message, bool reached_server,
                           const std::string& target);

/// The error of a connection that ended, from libpq's message in verbose form:
/// the server's last words when it said why ("FATAL 57P01: terminating connection
/// due to administrator command", `unavailable`), else `broken`.
driver_error connection_lost(std::string_view libpq_message);

/// libpq's message on one line: trailing newlines dropped, lines joined with "; ",
/// verbose LOCATION lines left out.
std::string one_line(std::string_view libpq_message);

} // namespace custodian::drivers::pg
