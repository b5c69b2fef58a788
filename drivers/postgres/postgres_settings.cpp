#include "drivers/postgres/postgres_settings.hpp"

#include <algorithm>
#include <cctype>
#include <climits>
#include <libpq-fe.h>
#include <map>
#include <memory>

namespace custodian::drivers {

namespace {

using json = nlohmann::json;

const schema::field& postgres_schema() {
  static const schema::field s = schema::object(
    "", {
          schema::optional_text("conninfo", schema::non_empty_problem),
          schema::text("host", "127.0.0.1", schema::non_empty_problem),
          schema::integer("port", 5432, 1, 65535),
          schema::optional_text("dbname", schema::non_empty_problem),
          schema::optional_text("user", schema::non_empty_problem),
          schema::optional_text("password"),
          schema::optional_text("password_env", schema::env_name_problem),
          schema::optional_text("password_file", schema::non_empty_problem),
          schema::choice("sslmode", "prefer",
                         {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}),
          schema::optional_text("application_name", schema::non_empty_problem),
          schema::integer("connect_timeout_ms", 0, 0, schema::max_ms),
          // The server keeps statement_timeout in an int of milliseconds.
          schema::integer("statement_timeout_ms", 0, 0, INT_MAX),
          schema::integer("keepalives_idle_s", 5, 0, 86'400),
          schema::integer("keepalives_interval_s", 2, 1, 3'600),
          schema::integer("keepalives_count", 3, 1, 127),
          schema::integer("tcp_user_timeout_ms", 10'000, 0, INT_MAX),
          schema::boolean("require_primary", false),
        });
  return s;
}

/// The keys that name the server when there is no conninfo.
const std::vector<std::string>& discrete_keys() {
  static const std::vector<std::string> keys{"host", "port",    "dbname",
                                             "user", "sslmode", "application_name"};
  return keys;
}

/// libpq keywords the driver sets itself, with the driver_config key to use instead.
const std::map<std::string, std::string>& driver_owned_keywords() {
  static const std::map<std::string, std::string> owned{
    {"connect_timeout", "connect_timeout_ms"},
    {"keepalives", "keepalives_idle_s (0: off)"},
    {"keepalives_idle", "keepalives_idle_s"},
    {"keepalives_interval", "keepalives_interval_s"},
    {"keepalives_count", "keepalives_count"},
    {"tcp_user_timeout", "tcp_user_timeout_ms"},
    {"client_encoding", "nothing: the driver speaks UTF8"},
  };
  return owned;
}

struct options_deleter {
  void operator()(PQconninfoOption* o) const { PQconninfoFree(o); }
};
using parsed_options = std::unique_ptr<PQconninfoOption, options_deleter>;

bool mentions_password(const std::string& text) {
  std::string lower = text;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower.find("password") != std::string::npos;
}

/// The conninfo parsed by libpq, or why it is not valid. libpq's message quotes
/// pieces of the text: it is left out when the text may hold a password.
parsed_options parse_conninfo(const std::string& conninfo, std::string& why) {
  char* err = nullptr;
  parsed_options parsed{PQconninfoParse(conninfo.c_str(), &err)};
  if (!parsed) {
    why = "is not a connection string (key=value pairs or a postgresql:// URI)";
    if (err && !mentions_password(conninfo))
      why += ": " + std::string{err};
    while (!why.empty() && why.back() == '\n')
      why.pop_back();
  }
  PQfreemem(err);
  return parsed;
}

void check_conninfo(const json& cfg, std::vector<config_problem>& out) {
  for (const auto& key : discrete_keys())
    if (cfg.contains(key))
      out.push_back({key, "conninfo and " + key +
                            " are exclusive: name the server either with conninfo or with "
                            "host, port, dbname, user, sslmode and application_name"});
  std::string why;
  auto parsed = parse_conninfo(cfg.at("conninfo").get<std::string>(), why);
  if (!parsed) {
    out.push_back({"conninfo", why});
    return;
  }
  for (auto* o = parsed.get(); o->keyword; ++o) {
    if (!o->val)
      continue;
    std::string keyword{o->keyword};
    if (keyword == "password" || keyword == "passfile")
      out.push_back({"conninfo", "must not hold " + keyword +
                                   " (it would not be redacted): use password_env, "
                                   "password_file or password"});
    else if (auto owned = driver_owned_keywords().find(keyword);
             owned != driver_owned_keywords().end())
      out.push_back({"conninfo", keyword + " is the driver's: set " + owned->second});
  }
}

std::vector<std::pair<std::string, std::string>> target_of_conninfo(const std::string& conninfo) {
  std::string why;
  auto parsed = parse_conninfo(conninfo, why);
  std::vector<std::pair<std::string, std::string>> target;
  for (auto* o = parsed.get(); o && o->keyword; ++o)
    if (o->val)
      target.emplace_back(o->keyword, o->val);
  return target;
}

std::vector<std::pair<std::string, std::string>> target_of_keys(const json& c) {
  std::vector<std::pair<std::string, std::string>> target{
    {"host", c.at("host").get<std::string>()},
    {"port", std::to_string(c.at("port").get<int>())},
    {"sslmode", c.at("sslmode").get<std::string>()}};
  for (const char* key : {"dbname", "user", "application_name"})
    if (c.at(key).is_string())
      target.emplace_back(key, c.at(key).get<std::string>());
  return target;
}

} // namespace

std::vector<config_problem> postgres_settings::problems_of(const json& cfg) {
  auto out = schema::problems_of(cfg, postgres_schema());
  if (!cfg.is_object())
    return out;
  for (auto& p : secret_source::problems_of(cfg, "password"))
    out.push_back(std::move(p));
  if (cfg.contains("conninfo") && cfg.at("conninfo").is_string())
    check_conninfo(cfg, out);
  return out;
}

postgres_settings postgres_settings::from_config(const json& cfg) {
  auto c = schema::canonical(cfg, postgres_schema());
  postgres_settings s;
  s.target = c.at("conninfo").is_string() ? target_of_conninfo(c.at("conninfo").get<std::string>())
                                          : target_of_keys(c);
  s.password = secret_source::from_config(cfg, "password");
  s.connect_timeout = millis{c.at("connect_timeout_ms").get<int64_t>()};
  s.statement_timeout = millis{c.at("statement_timeout_ms").get<int64_t>()};
  s.keepalives_idle_s = c.at("keepalives_idle_s").get<int64_t>();
  s.keepalives_interval_s = c.at("keepalives_interval_s").get<int64_t>();
  s.keepalives_count = c.at("keepalives_count").get<int64_t>();
  s.tcp_user_timeout = millis{c.at("tcp_user_timeout_ms").get<int64_t>()};
  s.require_primary = c.at("require_primary").get<bool>();
  return s;
}

millis postgres_settings::connect_budget(millis given) const {
  return connect_timeout.count() > 0 ? std::min(given, connect_timeout) : given;
}

std::string postgres_settings::target_value(const std::string& keyword) const {
  // The last one wins, as in libpq.
  for (auto i = target.rbegin(); i != target.rend(); ++i)
    if (i->first == keyword)
      return i->second;
  return {};
}

std::string postgres_settings::describe() const {
  auto host = target_value("host");
  auto port = target_value("port");
  auto out = host.empty()                          ? std::string{"the local socket"}
             : host.find(':') != std::string::npos ? "[" + host + "]"
                                                   : host;
  if (!port.empty())
    out += ":" + port;
  if (auto db = target_value("dbname"); !db.empty())
    out += "/" + db;
  if (auto user = target_value("user"); !user.empty())
    out += " as " + user;
  return out;
}

} // namespace custodian::drivers
