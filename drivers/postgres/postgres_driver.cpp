#include "drivers/postgres/postgres_driver.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <poll.h>
#include <utility>

#include "drivers/postgres/pg_errors.hpp"

namespace custodian::drivers {

namespace {

using keywords = std::vector<std::pair<std::string, std::string>>;

std::vector<std::string> split(const std::string& list) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    auto comma = list.find(',', start);
    out.push_back(
      list.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos)
      return out;
    start = comma + 1;
  }
}

std::string value_or_env(const postgres_settings& s, const std::string& keyword, const char* env) {
  auto v = s.target_value(keyword);
  if (v.empty())
    if (const char* e = std::getenv(env))
      v = e;
  return v;
}

void drop(keywords& kw, const std::string& keyword) {
  std::erase_if(kw, [&](const auto& e) { return e.first == keyword; });
}

/// The target with a numeric address (hostaddr) for every TCP host, resolved by
/// the deadline, so that libpq never calls the resolver itself; `host` stays for
/// TLS and the server's logs. A host that resolves to several addresses is listed
/// once per address (libpq tries them in turn).
driver_result<keywords> addressed(const postgres_settings& s, const deadline& until) {
  keywords kw = s.target;
  auto hosts_text = value_or_env(s, "host", "PGHOST");
  if (!s.target_value("hostaddr").empty() || hosts_text.empty())
    return kw; // numeric already, or the local socket
  auto hosts = split(hosts_text);
  auto ports = split(value_or_env(s, "port", "PGPORT"));
  if (ports.size() != 1 && ports.size() != hosts.size())
    return kw; // libpq names the mismatch
  std::string host_list, addr_list, port_list;
  auto add = [&](const std::string& host, const std::string& addr, const std::string& port) {
    auto sep = host_list.empty() && addr_list.empty() && port_list.empty() ? "" : ",";
    host_list += sep + host;
    addr_list += sep + addr;
    port_list += sep + port;
  };
  for (std::size_t i = 0; i < hosts.size(); ++i) {
    const auto& host = hosts[i];
    auto port = ports.size() == 1 ? ports[0] : ports[i];
    if (port.empty())
      port = "5432";
    if (host.empty() || host.front() == '/' || host.front() == '@') {
      add(host, "", port); // a Unix socket: nothing to resolve
      continue;
    }
    uint16_t number = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
    if (ec != std::errc{} || end != port.data() + port.size())
      return driver_error{driver_errc::refused,
                          "port " + port + " of " + host + " is not a number"};
    auto found = resolve(host, number, until);
    if (!found)
      return found.error();
    for (const auto& a : found.value())
      add(host, a.text, port);
  }
  drop(kw, "host");
  drop(kw, "hostaddr");
  drop(kw, "port");
  kw.emplace_back("host", host_list);
  kw.emplace_back("hostaddr", addr_list);
  kw.emplace_back("port", port_list);
  return kw;
}

/// What every session runs with: values whose text the driver reads (dates,
/// timestamps in UTC, bytea in hex), UTF8 for JSON, keepalives, and the
/// statement_timeout of the config. The driver's settings come last: they win.
void add_session_keywords(keywords& kw, const postgres_settings& s) {
  auto options = s.target_value("options");
  drop(kw, "options");
  options += " -c DateStyle=ISO -c TimeZone=UTC -c bytea_output=hex";
  if (s.statement_timeout.count() > 0)
    options += " -c statement_timeout=" + std::to_string(s.statement_timeout.count());
  kw.emplace_back("options", options);
  kw.emplace_back("client_encoding", "UTF8");
  kw.emplace_back("fallback_application_name", "custodian");
  kw.emplace_back("keepalives", s.keepalives_idle_s > 0 ? "1" : "0");
  if (s.keepalives_idle_s > 0) {
    kw.emplace_back("keepalives_idle", std::to_string(s.keepalives_idle_s));
    kw.emplace_back("keepalives_interval", std::to_string(s.keepalives_interval_s));
    kw.emplace_back("keepalives_count", std::to_string(s.keepalives_count));
  }
  kw.emplace_back("tcp_user_timeout", std::to_string(s.tcp_user_timeout.count()));
}

/// Drives PQconnectPoll on the socket until the connection is made or the
/// deadline passes.
driver_status poll_connect(PGconn* conn, const deadline& until, const std::string& target,
                           millis budget) {
  bool reached = false; // past the TCP connect: the server itself answered
  auto polling = PGRES_POLLING_WRITING;
  for (;;) {
    if (polling == PGRES_POLLING_OK)
      return done{};
    if (polling == PGRES_POLLING_FAILED || PQstatus(conn) == CONNECTION_BAD)
      return pg::connect_error(PQerrorMessage(conn), reached, target);
    switch (wait_for(PQsocket(conn), polling == PGRES_POLLING_READING ? POLLIN : POLLOUT, until)) {
    case fd_wait::timed_out:
      return driver_error{driver_errc::timeout, "connecting to " + target +
                                                  " took longer than the connect timeout (" +
                                                  std::to_string(budget.count()) + " ms)"};
    case fd_wait::failed:
      return driver_error{driver_errc::broken,
                          "connecting to " + target + ": poll failed: " + std::strerror(errno)};
    case fd_wait::ready:
      break;
    }
    auto before = PQstatus(conn);
    polling = PQconnectPoll(conn);
    reached = before != CONNECTION_STARTED && before != CONNECTION_NEEDED;
  }
}

} // namespace

postgres_driver::postgres_driver(postgres_settings settings) : settings_(std::move(settings)) {}

std::vector<config_problem> postgres_driver::problems_of(const nlohmann::json& driver_config) {
  return postgres_settings::problems_of(driver_config);
}

std::shared_ptr<postgres_driver> postgres_driver::from_config(const nlohmann::json& driver_config) {
  return std::make_shared<postgres_driver>(postgres_settings::from_config(driver_config));
}

std::string postgres_driver::name() const {
  return "postgres";
}

driver_result<std::shared_ptr<connection>> postgres_driver::do_connect(const std::string&,
                                                                       millis timeout) {
  auto budget = settings_.connect_budget(timeout);
  deadline until{budget};
  auto target = settings_.describe();
  auto password = settings_.password.resolve();
  if (!password)
    return password.error();
  auto kw = addressed(settings_, until);
  if (!kw)
    return kw.error();
  add_session_keywords(kw.value(), settings_);
  if (!password.value().empty())
    kw.value().emplace_back("password", std::move(password.value()));
  std::vector<const char*> keys, values;
  for (const auto& [k, v] : kw.value()) {
    keys.push_back(k.c_str());
    values.push_back(v.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  // expand_dbname 0: a dbname is a name, never a connection string.
  pgconn_handle conn{PQconnectStartParams(keys.data(), values.data(), 0)};
  // libpq keeps its own copy of the password; ours goes now.
  for (auto& [k, v] : kw.value())
    if (k == "password")
      std::fill(v.begin(), v.end(), '\0');
  if (!conn)
    return driver_error{driver_errc::exception, "libpq could not allocate a connection"};
  // Verbose messages carry the server's SQLSTATE, which classifies a failed connect.
  PQsetErrorVerbosity(conn.get(), PQERRORS_VERBOSE);
  if (auto made = poll_connect(conn.get(), until, target, budget); !made)
    return made.error();
  auto opened = postgres_connection::open(std::move(conn), settings_.require_primary, until);
  if (!opened)
    return opened.error();
  return std::shared_ptr<connection>{std::move(opened.value())};
}

} // namespace custodian::drivers
