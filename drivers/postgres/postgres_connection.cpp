#include "drivers/postgres/postgres_connection.hpp"

#include <charconv>
#include <string_view>
#include <utility>

#include "drivers/config_schema.hpp"
#include "drivers/postgres/pg_errors.hpp"
#include "drivers/postgres/pg_round_trip.hpp"
#include "drivers/postgres/pg_values.hpp"

namespace custodian::drivers {

namespace {

using json = nlohmann::json;

const schema::field& request_schema() {
  static const schema::field s = [] {
    auto sql = schema::make("sql", schema::kind::string);
    sql.check = schema::non_empty_problem;
    return schema::object("", {schema::required(sql), schema::list("params")});
  }();
  return s;
}

/// "INSERT 0 1" as "INSERT", "CREATE TABLE" as itself.
std::string command_of(std::string_view tag) {
  for (;;) {
    auto space = tag.find_last_of(' ');
    if (space == std::string_view::npos)
      return std::string{tag};
    auto last = tag.substr(space + 1);
    if (last.empty() || last.find_first_not_of("0123456789") != std::string_view::npos)
      return std::string{tag};
    tag = tag.substr(0, space);
  }
}

int64_t rows_affected(const PGresult* r) {
  std::string_view n{PQcmdTuples(const_cast<PGresult*>(r))};
  int64_t v = 0;
  std::from_chars(n.data(), n.data() + n.size(), v);
  return v;
}

json response_of(const PGresult* r) {
  json columns = json::array();
  int fields = PQnfields(r);
  for (int f = 0; f < fields; ++f)
    columns.push_back({{"name", PQfname(r, f)}, {"type", pg::type_name(PQftype(r, f))}});
  json rows = json::array();
  for (int t = 0, n = PQntuples(r); t < n; ++t) {
    json row = json::array();
    for (int f = 0; f < fields; ++f)
      row.push_back(
        PQgetisnull(r, t, f)
          ? json(nullptr)
          : pg::field_value(PQftype(r, f),
                            {PQgetvalue(r, t, f), static_cast<size_t>(PQgetlength(r, t, f))}));
    rows.push_back(std::move(row));
  }
  return {{"command", command_of(PQcmdStatus(const_cast<PGresult*>(r)))},
          {"rows_affected", rows_affected(r)},
          {"columns", std::move(columns)},
          {"rows", std::move(rows)}};
}

/// Statements whose effect outlives the lease: the next holder must not inherit it.
bool changes_session(std::string_view command) {
  return command == "SET" || command == "PREPARE" || command == "LISTEN" ||
         command == "DECLARE CURSOR" || command == "LOAD";
}

/// The request's parameters as text; `rejected` naming the one that cannot be.
driver_result<pg::text_params> params_of(const json& request) {
  pg::text_params params;
  const auto& list = request.at("params");
  for (std::size_t i = 0; i < list.size(); ++i) {
    auto text = pg::param_text(list[i]);
    if (text && text->find('\0') != std::string::npos)
      return driver_error{driver_errc::rejected,
                          "params[" + std::to_string(i) + "] holds a NUL character"};
    params.push_back(std::move(text));
  }
  return params;
}

std::string with_budget(std::string message, millis timeout) {
  return message + " (" + std::to_string(timeout.count()) + " ms)";
}

} // namespace

postgres_connection::postgres_connection(pgconn_handle conn, bool require_primary)
    : conn_(std::move(conn)), require_primary_(require_primary) {
  // Verbose messages carry the SQLSTATE of the server's last words before it
  // closes the connection (statement errors are read from their fields).
  PQsetErrorVerbosity(conn_.get(), PQERRORS_VERBOSE);
  PQsetNoticeReceiver(conn_.get(), &postgres_connection::on_notice, this);
  if (PQsetnonblocking(conn_.get(), 1) != 0)
    broken_ =
      "cannot make the connection non-blocking: " + pg::one_line(PQerrorMessage(conn_.get()));
}

driver_result<std::shared_ptr<postgres_connection>>
postgres_connection::open(pgconn_handle conn, bool require_primary, const deadline& until) {
  auto opened = std::make_shared<postgres_connection>(std::move(conn), require_primary);
  if (!opened->broken_.empty())
    return driver_error{driver_errc::broken, opened->broken_};
  if (require_primary)
    if (auto checked = opened->check_server(until); !checked)
      return checked.error();
  return opened;
}

PGconn* postgres_connection::native() {
  lend_native();
  return conn_.get();
}

void postgres_connection::on_notice(void* self, const PGresult* notice) {
  // A backend that is terminated or shuts down says so while the connection is
  // idle (FATAL 57P01; WARNING 57P01 at an immediate shutdown), then closes it.
  const char* severity = PQresultErrorField(notice, PG_DIAG_SEVERITY_NONLOCALIZED);
  const char* sqlstate = PQresultErrorField(notice, PG_DIAG_SQLSTATE);
  bool fatal =
    severity && (std::string_view{severity} == "FATAL" || std::string_view{severity} == "PANIC");
  if (!fatal && !(sqlstate && std::string_view{sqlstate}.starts_with("57P")))
    return;
  auto* conn = static_cast<postgres_connection*>(self);
  auto err = pg::statement_error(notice, true, conn->require_primary_);
  conn->goodbye_ = err;
}

std::optional<driver_error> postgres_connection::idle_failure(bool read_socket) {
  if (!broken_.empty())
    return driver_error{driver_errc::broken, "the connection broke earlier: " + broken_};
  auto* conn = conn_.get();
  if (PQstatus(conn) != CONNECTION_OK)
    return failed(pg::connection_lost(PQerrorMessage(conn)));
  if (read_socket && peer_closed_or_spoke(PQsocket(conn))) {
    if (!PQconsumeInput(conn))
      return failed(pg::connection_lost(PQerrorMessage(conn)));
    PQisBusy(conn); // parses what came: a FATAL notice reaches on_notice
  }
  if (goodbye_)
    return failed({driver_errc::broken, "the server closed the connection"});
  return std::nullopt;
}

driver_error postgres_connection::failed(driver_error err) {
  if (err.code == driver_errc::broken && goodbye_)
    err = {goodbye_->code, goodbye_->message + "; " + err.message};
  if (breaks_connection(err) && broken_.empty())
    broken_ = err.message;
  return err;
}

driver_status postgres_connection::check_server(const deadline& until) {
  auto* conn = conn_.get();
  auto results = pg::round_trip(conn, require_primary_ ? "SELECT pg_is_in_recovery()" : "SELECT 1",
                                nullptr, until);
  if (!results)
    return failed(results.error());
  const PGresult* r = results.value().empty() ? nullptr : results.value().back().get();
  if (!r || PQresultStatus(r) != PGRES_TUPLES_OK)
    return failed(r ? pg::statement_error(r, PQstatus(conn) == CONNECTION_BAD, require_primary_)
                    : driver_error{driver_errc::broken, "the server sent no result"});
  if (require_primary_ && PQntuples(r) == 1 && std::string_view{PQgetvalue(r, 0, 0)} == "t")
    return failed({driver_errc::read_only,
                   "the server is a standby (pg_is_in_recovery()) and require_primary is set"});
  return done{};
}

bool postgres_connection::do_alive() {
  return !idle_failure();
}

bool postgres_connection::do_needs_reset() {
  return session_changed_ || PQtransactionStatus(conn_.get()) != PQTRANS_IDLE;
}

driver_status postgres_connection::do_ping(millis timeout) {
  if (auto gone = idle_failure())
    return *gone;
  deadline until{timeout};
  auto checked = check_server(until);
  if (!checked && checked.error().code == driver_errc::timeout)
    return driver_error{driver_errc::timeout, with_budget(checked.error().message, timeout)};
  return checked;
}

driver_result<json> postgres_connection::do_exec(const json& request, millis timeout) {
  if (auto problems = schema::problems_of(request, request_schema()); !problems.empty()) {
    std::string why;
    for (const auto& p : problems)
      why += (why.empty() ? "" : "; ") + (p.path.empty() ? "" : p.path + ": ") + p.message;
    return driver_error{driver_errc::rejected,
                        "exec takes {\"sql\": \"...\", \"params\": [...]}: " + why};
  }
  // A closed socket shows as the query's send or read failing, with the server's
  // last words all the same: no poll of its own before every exec.
  if (auto gone = idle_failure(false))
    return *gone;
  auto sql = request.at("sql").get<std::string>();
  std::optional<pg::text_params> params;
  if (request.contains("params")) {
    auto p = params_of(request);
    if (!p)
      return p.error();
    params = std::move(p.value());
  }
  deadline until{timeout};
  auto* conn = conn_.get();
  auto results = pg::round_trip(conn, sql, params ? &*params : nullptr, until);
  if (!results) {
    auto err = failed(results.error());
    if (err.code == driver_errc::timeout)
      err.message = with_budget(err.message, timeout);
    return err;
  }
  bool lost = PQstatus(conn) == CONNECTION_BAD;
  for (const auto& r : results.value()) {
    auto status = PQresultStatus(r.get());
    if (status == PGRES_FATAL_ERROR || status == PGRES_NONFATAL_ERROR ||
        status == PGRES_BAD_RESPONSE)
      return failed(pg::statement_error(r.get(), lost, require_primary_));
    if (status == PGRES_COPY_OUT)
      return driver_error{driver_errc::rejected,
                          "COPY TO STDOUT is not supported through exec (its rows were discarded)"};
    if (changes_session(command_of(PQcmdStatus(r.get()))))
      session_changed_ = true;
  }
  if (lost)
    return failed(pg::connection_lost(PQerrorMessage(conn)));
  if (results.value().empty())
    return driver_error{driver_errc::broken, "the server sent no result"};
  return response_of(results.value().back().get());
}

driver_status postgres_connection::do_reset(millis timeout) {
  if (auto gone = idle_failure())
    return *gone;
  deadline until{timeout};
  auto* conn = conn_.get();
  // A holder with the native handle may have left it blocking or a query running.
  PQsetnonblocking(conn, 1);
  if (PQisBusy(conn) || PQtransactionStatus(conn) == PQTRANS_ACTIVE)
    if (auto drained = pg::drain(conn, until); !drained)
      return failed(drained.error());
  auto status = PQtransactionStatus(conn);
  if (status == PQTRANS_UNKNOWN || status == PQTRANS_ACTIVE)
    return failed({driver_errc::broken, "the connection's transaction state is unknown"});
  // DISCARD ALL cannot run in a transaction block, nor in one string after ROLLBACK.
  for (const char* sql : {"ROLLBACK", "DISCARD ALL"}) {
    if (std::string_view{sql} == "ROLLBACK" && status == PQTRANS_IDLE)
      continue;
    auto results = pg::round_trip(conn, sql, nullptr, until);
    if (!results)
      return failed(results.error());
    // A session that cannot be cleaned is not handed out again: as if it were lost.
    for (const auto& r : results.value())
      if (PQresultStatus(r.get()) != PGRES_COMMAND_OK)
        return failed(pg::statement_error(r.get(), true, require_primary_));
  }
  while (PGnotify* n = PQnotifies(conn))
    PQfreemem(n);
  session_changed_ = false;
  return done{};
}

driver_status postgres_connection::do_close(millis) {
  // Non-blocking, PQfinish's goodbye to the server never waits on the socket.
  PQsetnonblocking(conn_.get(), 1);
  conn_.reset();
  return done{};
}

} // namespace custodian::drivers
