#include "drivers/process/process_settings.hpp"

namespace custodian::drivers {

using json = nlohmann::json;

namespace {

std::string command_problem(const std::string& s) {
  if (s.empty())
    return "must not be empty";
  if (s.find('/') != std::string::npos && s.front() != '/')
    return "must be an absolute path or a name to find on PATH";
  return {};
}

std::string optional_command_problem(const std::string& s) {
  return s.empty() ? std::string{} : command_problem(s);
}

std::string absolute_path_problem(const std::string& s) {
  return s.empty() || s.front() == '/' ? std::string{} : "must be an absolute path";
}

std::string one_line_problem(const std::string& s) {
  return s.find('\n') == std::string::npos ? std::string{} : "must not contain a newline";
}

std::string variable_name_problem(const std::string& s) {
  return s.empty() ? "must not be empty" : schema::env_name_problem(s);
}

const schema::field& process_schema() {
  static const schema::field root = [] {
    using namespace schema;
    auto inherit = list("inherit_env", {text("", "", variable_name_problem)});
    inherit.fallback = json{"PATH", "HOME", "LANG", "TZ"};
    return object("", {
                        required(text("command", "", command_problem)),
                        list("args", {text("", "")}),
                        map("env", text("", "")),
                        inherit,
                        text("cwd", "", absolute_path_problem),
                        text("stderr_path", "", absolute_path_problem),
                        integer("stop_grace_ms", 2000, 0, max_ms),
                        integer("line_timeout_ms", 0, 0, max_ms),
                        integer("max_line_bytes", 1 << 20, 1, 1 << 30),
                        text("startup_line", "", one_line_problem),
                        object("health",
                               {
                                 text("command", "", optional_command_problem),
                                 list("args", {text("", "")}),
                                 integer("tcp_port", 0, 0, 65535),
                               },
                               kind::section),
                      });
  }();
  return root;
}

std::vector<std::string> strings_of(const json& list) {
  std::vector<std::string> out;
  for (const auto& item : list)
    out.push_back(item.get<std::string>());
  return out;
}

} // namespace

std::vector<config_problem> process_config_problems(const json& driver_config) {
  auto problems = schema::problems_of(driver_config, process_schema());
  if (!driver_config.is_object())
    return problems;
  // What the schema cannot say: variable names, and what a health check needs
  // (each looked at only where the schema found the right type).
  auto env = driver_config.find("env");
  if (env != driver_config.end() && env->is_object())
    for (const auto& [name, value] : env->items())
      if (auto why = variable_name_problem(name); !why.empty())
        problems.push_back({schema::join("env", name), "the variable's name " + why});
  auto health = driver_config.find("health");
  if (health != driver_config.end() && health->is_object()) {
    auto has = [&](const char* key, auto&& test) {
      auto i = health->find(key);
      return i != health->end() && test(*i);
    };
    bool command = has("command", [](const json& v) { return v.is_string() && v != ""; });
    bool port = has("tcp_port", [](const json& v) { return v.is_number_integer() && v != 0; });
    if (command && port)
      problems.push_back({"health", "command and tcp_port are exclusive"});
    else if (!command && !port)
      problems.push_back({"health", "needs command or tcp_port"});
    if (!command && has("args", [](const json& v) { return v.is_array() && !v.empty(); }))
      problems.push_back({"health.args", "needs health.command"});
  }
  return problems;
}

process_settings read_process_settings(const json& driver_config) {
  auto c = schema::canonical(driver_config, process_schema());
  process_settings s;
  s.command = c["command"];
  s.args = strings_of(c["args"]);
  for (const auto& [name, value] : c["env"].items())
    s.env[name] = value.get<std::string>();
  s.inherit_env = strings_of(c["inherit_env"]);
  s.cwd = c["cwd"];
  s.stderr_path = c["stderr_path"];
  s.stop_grace = millis{c["stop_grace_ms"].get<int64_t>()};
  s.line_timeout = millis{c["line_timeout_ms"].get<int64_t>()};
  s.max_line_bytes = c["max_line_bytes"].get<std::size_t>();
  s.startup_line = c["startup_line"];
  if (const auto& h = c["health"]; h.is_object()) {
    process_settings::health_check check;
    check.command = h["command"];
    check.args = strings_of(h["args"]);
    check.tcp_port = h["tcp_port"].get<uint16_t>();
    s.health = std::move(check);
  }
  return s;
}

} // namespace custodian::drivers
