#pragma once
// One query on a non-blocking libpq connection, bounded by a deadline: send,
// flush and read with poll() waits on the connection's socket (libpq's own calls
// would wait for ever). Past the deadline the server is asked to cancel the query
// and the connection's state is unknown: it must not be used again.

#include <libpq-fe.h>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "drivers/deadline.hpp"
#include "drivers/driver.hpp"

namespace custodian::drivers::pg {

struct result_deleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using result_ptr = std::unique_ptr<PGresult, result_deleter>;

using text_params = std::vector<std::optional<std::string>>;

/// Runs `sql` and returns every result it produced, in order (one per statement;
/// a failed statement's result ends the list). With `params` it is one statement
/// of the extended protocol, its parameters in text format ($1, $2, ...; nullopt is
/// NULL); without, the simple protocol, where several statements may be sent at
/// once. COPY FROM STDIN is refused to the server; COPY TO STDOUT's rows are
/// discarded and its result kept, for the caller to refuse. `timeout` when the
/// deadline passes (the server was asked to cancel), `broken` when the connection
/// fails.
driver_result<std::vector<result_ptr>> round_trip(PGconn* conn, const std::string& sql,
                                                  const text_params* params, const deadline& until);

/// Reads and drops the results of a query that is still running on `conn` (one
/// a holder sent through the native handle), by the deadline.
driver_status drain(PGconn* conn, const deadline& until);

/// Asks the server to cancel what runs on `conn`. PQcancel blocks (it connects to
/// the server), so it runs on a thread of its own that nobody waits for: the caller
/// is bound by its deadline, the cancel by the kernel's connect timeout to the
/// address the connection already uses.
void cancel_in_background(PGconn* conn);

} // namespace custodian::drivers::pg
