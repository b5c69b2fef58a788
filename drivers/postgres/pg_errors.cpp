#include "drivers/postgres/pg_errors.hpp"

#include <algorithm>
#include <cctype>
#include <optional>

namespace custodian::drivers::pg {

namespace {

bool is_sqlstate(std::string_view s) {
  return s.size() == 5 && std::all_of(s.begin(), s.end(), [](unsigned char c) {
           return std::isdigit(c) || std::isupper(c);
         });
}

struct server_report {
  std::string severity;
  std::string sqlstate;
  std::string message;
};

/// The first "SEVERITY:  SQLSTATE: message" of a verbose libpq message.
std::optional<server_report> find_report(std::string_view text) {
  for (auto pos = text.find(":  "); pos != std::string_view::npos;
       pos = text.find(":  ", pos + 1)) {
    auto code = text.substr(pos + 3, 5);
    if (!is_sqlstate(code) || text.substr(pos + 8, 2) != ": ")
      continue;
    auto word_start = text.find_last_of(" \n\t", pos);
    word_start = word_start == std::string_view::npos ? 0 : word_start + 1;
    auto line_end = text.find('\n', pos + 10);
    return server_report{
      std::string{text.substr(word_start, pos - word_start)}, std::string{code},
      std::string{text.substr(pos + 10, line_end == std::string_view::npos ? std::string_view::npos
                                                                           : line_end - pos - 10)}};
  }
  return std::nullopt;
}

std::string field(const PGresult* r, int code) {
  const char* v = PQresultErrorField(r, code);
  return v ? v : "";
}

} // namespace

driver_errc statement_class(std::string_view sqlstate, bool require_primary) {
  if (sqlstate == "25006")
    return require_primary ? driver_errc::read_only : driver_errc::rejected;
  if (sqlstate.starts_with("08"))
    return driver_errc::broken;
  if (sqlstate == "57P01" || sqlstate == "57P02" || sqlstate == "57P03")
    return driver_errc::unavailable;
  return driver_errc::rejected;
}

driver_errc connect_class(std::string_view sqlstate) {
  if (sqlstate.starts_with("28") || sqlstate == "3D000" || sqlstate == "42501")
    return driver_errc::auth;
  if (sqlstate.starts_with("53") || sqlstate.starts_with("57P0"))
    return driver_errc::unavailable;
  if (sqlstate == "08004")
    return driver_errc::refused;
  return driver_errc::broken;
}

driver_error statement_error(const PGresult* result, bool connection_lost, bool require_primary) {
  auto sqlstate = field(result, PG_DIAG_SQLSTATE);
  if (sqlstate.empty()) // made by libpq itself: the connection failed
    return {driver_errc::broken, one_line(PQresultErrorMessage(result))};
  auto severity = field(result, PG_DIAG_SEVERITY_NONLOCALIZED);
  auto message = (severity.empty() ? "ERROR" : severity) + " " + sqlstate + ": " +
                 field(result, PG_DIAG_MESSAGE_PRIMARY);
  if (auto detail = field(result, PG_DIAG_MESSAGE_DETAIL); !detail.empty())
    message += "; DETAIL: " + detail;
  auto code = statement_class(sqlstate, require_primary);
  if (code == driver_errc::rejected && connection_lost)
    code = driver_errc::broken;
  return {code, message};
}

driver_error connect_error(const std::string& libpq_message, bool reached_server,
                           const std::string& target) {
  auto where = " (connecting to " + target + ")";
  if (auto report = find_report(libpq_message))
    return {connect_class(report->sqlstate),
            report->severity + " " + report->sqlstate + ": " + report->message + where};
  return {reached_server ? driver_errc::broken : driver_errc::refused,
          one_line(libpq_message) + where};
}

driver_error connection_lost(std::string_view libpq_message) {
  auto report = find_report(libpq_message);
  if (!report)
    return {driver_errc::broken, one_line(libpq_message)};
  auto code = statement_class(report->sqlstate, false);
  return {code == driver_errc::rejected ? driver_errc::broken : code,
          report->severity + " " + report->sqlstate + ": " + report->message +
            "; the server closed the connection"};
}

std::string one_line(std::string_view text) {
  std::string out;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    auto line =
      text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    start = end == std::string_view::npos ? text.size() : end + 1;
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.front())))
      line.remove_prefix(1);
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back())))
      line.remove_suffix(1);
    if (line.empty() || line.starts_with("LOCATION:"))
      continue;
    out += (out.empty() ? "" : "; ") + std::string{line};
  }
  return out;
}

} // namespace custodian::drivers::pg
