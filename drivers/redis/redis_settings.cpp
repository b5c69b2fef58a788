#include "drivers/redis/redis_settings.hpp"

#include <algorithm>
#include <climits>

namespace custodian::drivers {

namespace {

using json = nlohmann::json;

const schema::field& redis_schema() {
  static const schema::field s =
    schema::object("", {
                         schema::text("host", "127.0.0.1", schema::non_empty_problem),
                         schema::integer("port", 6379, 1, 65535),
                         schema::integer("db", 0, 0, INT_MAX),
                         schema::text("username", ""),
                         schema::optional_text("password"),
                         schema::optional_text("password_env", schema::env_name_problem),
                         schema::optional_text("password_file", schema::non_empty_problem),
                         schema::integer("connect_timeout_ms", 0, 0, schema::max_ms),
                         schema::integer("command_timeout_ms", 0, 0, schema::max_ms),
                       });
  return s;
}

millis capped(millis given, millis cap) {
  return cap.count() > 0 ? std::min(given, cap) : given;
}

} // namespace

std::vector<config_problem> redis_settings::problems_of(const json& cfg) {
  auto out = schema::problems_of(cfg, redis_schema());
  if (!cfg.is_object())
    return out;
  for (auto& p : secret_source::problems_of(cfg, "password"))
    out.push_back(std::move(p));
  if (cfg.contains("username") && secret_source::from_config(cfg, "password").empty())
    out.push_back({"username", "needs password, password_env or password_file"});
  return out;
}

redis_settings redis_settings::from_config(const json& cfg) {
  auto c = schema::canonical(cfg, redis_schema());
  redis_settings s;
  s.host = c.at("host").get<std::string>();
  s.port = c.at("port").get<uint16_t>();
  s.db = c.at("db").get<int64_t>();
  s.username = c.at("username").get<std::string>();
  s.password = secret_source::from_config(cfg, "password");
  s.connect_timeout = millis{c.at("connect_timeout_ms").get<int64_t>()};
  s.command_timeout = millis{c.at("command_timeout_ms").get<int64_t>()};
  return s;
}

millis redis_settings::connect_budget(millis given) const {
  return capped(given, connect_timeout);
}

millis redis_settings::command_budget(millis given) const {
  return capped(given, command_timeout);
}

std::string redis_settings::address() const {
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

} // namespace custodian::drivers
