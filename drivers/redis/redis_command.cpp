#include "drivers/redis/redis_command.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

#include "drivers/config_schema.hpp"

namespace custodian::drivers {

namespace {

using json = nlohmann::json;

const schema::field& request_schema() {
  static const schema::field s = schema::object("", {schema::required(schema::list("command"))});
  return s;
}

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

/// Commands whose first argument names what they do.
bool has_subcommands(const std::string& name) {
  static constexpr std::array<std::string_view, 10> containers = {
    "ACL",      "CLIENT", "CLUSTER", "COMMAND", "CONFIG",
    "FUNCTION", "MEMORY", "OBJECT",  "SCRIPT",  "XINFO"};
  return std::find(containers.begin(), containers.end(), name) != containers.end();
}

} // namespace

driver_result<std::vector<std::string>> command_of(const json& request) {
  auto problems = schema::problems_of(request, request_schema());
  std::vector<std::string> argv;
  if (problems.empty()) {
    const auto& items = request.at("command");
    if (items.empty())
      problems.push_back({"command", "must name a command"});
    for (std::size_t i = 0; i < items.size(); ++i) {
      const auto& item = items[i];
      if (item.is_string())
        argv.push_back(item.get<std::string>());
      else if (item.is_number_integer() || item.is_number_unsigned() || item.is_number_float())
        argv.push_back(item.dump());
      else
        problems.push_back({schema::index("command", i), "must be a string or a number"});
    }
  }
  if (problems.empty())
    return argv;
  std::string why = "bad request:";
  for (const auto& p : problems)
    why += " " + (p.path.empty() ? std::string{"request"} : p.path) + ": " + p.message + ";";
  why.pop_back();
  return driver_error{driver_errc::rejected, why};
}

std::string command_name(const std::vector<std::string>& argv) {
  if (argv.empty())
    return {};
  auto name = upper(argv[0]);
  if (argv.size() > 1 && has_subcommands(name))
    name += " " + upper(argv[1]);
  return name;
}

std::string refusal_of(const std::vector<std::string>& argv) {
  static const std::vector<std::pair<std::string_view, std::string_view>> refused = {
    {"SUBSCRIBE", "pushes messages instead of replies: use the native handle"},
    {"PSUBSCRIBE", "pushes messages instead of replies: use the native handle"},
    {"SSUBSCRIBE", "pushes messages instead of replies: use the native handle"},
    {"MONITOR", "streams every command instead of replying: use the native handle"},
    {"SYNC", "streams the dataset instead of replying"},
    {"PSYNC", "streams the dataset instead of replying"},
    {"CLIENT REPLY", "stops the replies exec waits for"},
    {"HELLO", "switches to a protocol this driver (hiredis 0.14, RESP2) does not read"},
    {"QUIT", "closes the connection: the pool closes connections"},
    {"RESET", "resets the connection: the pool resets it when the lease comes back"},
  };
  auto name = command_name(argv);
  for (const auto& [command, why] : refused)
    if (name == command)
      return name + " is not sent through exec: it " + std::string{why};
  return {};
}

} // namespace custodian::drivers
