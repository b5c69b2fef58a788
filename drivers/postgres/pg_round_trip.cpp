#include "drivers/postgres/pg_round_trip.hpp"

#include <cerrno>
#include <cstring>
#include <poll.h>
#include <system_error>
#include <thread>

#include "drivers/postgres/pg_errors.hpp"

namespace custodian::drivers::pg {

namespace {

driver_error lost(PGconn* conn) {
  return connection_lost(PQerrorMessage(conn));
}

driver_error past_deadline(PGconn* conn) {
  cancel_in_background(conn);
  return {driver_errc::timeout,
          "no answer by the deadline; the server was asked to cancel the query"};
}

/// Waits for `events` on the connection's socket, then takes in what arrived.
driver_status await_socket(PGconn* conn, short events, const deadline& until) {
  switch (wait_for(PQsocket(conn), events, until)) {
  case fd_wait::timed_out:
    return past_deadline(conn);
  case fd_wait::failed:
    return driver_error{driver_errc::broken, std::string{"poll failed: "} + std::strerror(errno)};
  case fd_wait::ready:
    break;
  }
  if (!PQconsumeInput(conn))
    return lost(conn);
  return done{};
}

/// Sends what libpq buffered; reads meanwhile, so that a server blocked writing
/// to us never blocks our writes.
driver_status flush(PGconn* conn, const deadline& until) {
  for (;;) {
    int pending = PQflush(conn);
    if (pending == 0)
      return done{};
    if (pending < 0)
      return lost(conn);
    if (auto s = await_socket(conn, POLLIN | POLLOUT, until); !s)
      return s;
  }
}

/// Until the next result (or the end of the results) can be taken without waiting.
driver_status await_result(PGconn* conn, const deadline& until) {
  while (PQisBusy(conn))
    if (auto s = await_socket(conn, POLLIN, until); !s)
      return s;
  return done{};
}

driver_status discard_copy_out(PGconn* conn, const deadline& until) {
  for (;;) {
    char* row = nullptr;
    int n = PQgetCopyData(conn, &row, 1);
    if (n > 0) {
      PQfreemem(row);
      continue;
    }
    if (n == -1)
      return done{}; // the COPY's own result follows
    if (n == -2)
      return lost(conn);
    if (auto s = await_socket(conn, POLLIN, until); !s)
      return s;
  }
}

driver_result<std::vector<result_ptr>> collect(PGconn* conn, const deadline& until) {
  std::vector<result_ptr> results;
  for (;;) {
    if (auto s = await_result(conn, until); !s)
      return s.error();
    result_ptr r{PQgetResult(conn)};
    if (!r)
      return results;
    switch (PQresultStatus(r.get())) {
    case PGRES_COPY_IN:
      // The server answers with an error that names the reason.
      if (PQputCopyEnd(conn, "COPY FROM STDIN is not supported through exec") != 1)
        return lost(conn);
      if (auto s = flush(conn, until); !s)
        return s.error();
      continue;
    case PGRES_COPY_OUT:
      if (auto s = discard_copy_out(conn, until); !s)
        return s.error();
      break;
    case PGRES_COPY_BOTH:
      return driver_error{driver_errc::broken, "the replication protocol is not supported"};
    default:
      break;
    }
    results.push_back(std::move(r));
  }
}

} // namespace

driver_result<std::vector<result_ptr>>
round_trip(PGconn* conn, const std::string& sql, const text_params* params, const deadline& until) {
  int sent = 0;
  if (params) {
    std::vector<const char*> values;
    values.reserve(params->size());
    for (const auto& p : *params)
      values.push_back(p ? p->c_str() : nullptr);
    sent = PQsendQueryParams(conn, sql.c_str(), static_cast<int>(values.size()), nullptr,
                             values.data(), nullptr, nullptr, 0);
  } else {
    sent = PQsendQuery(conn, sql.c_str());
  }
  if (!sent)
    return lost(conn);
  if (auto s = flush(conn, until); !s)
    return s.error();
  return collect(conn, until);
}

driver_status drain(PGconn* conn, const deadline& until) {
  if (auto s = flush(conn, until); !s)
    return s;
  auto results = collect(conn, until);
  if (!results)
    return results.error();
  return done{};
}

void cancel_in_background(PGconn* conn) {
  PGcancel* cancel = PQgetCancel(conn);
  if (!cancel)
    return;
  try {
    std::thread{[cancel] {
      char why[256];
      PQcancel(cancel, why, sizeof why); // best effort: the connection is replaced anyway
      PQfreeCancel(cancel);
    }}.detach();
  } catch (const std::system_error&) {
    PQfreeCancel(cancel); // no thread: no cancel, and the connection is replaced anyway
  }
}

} // namespace custodian::drivers::pg
