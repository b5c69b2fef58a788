// custodianctl: the command-line client of a node's admin HTTP API (docs/api.md).

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <httplib.h>
#include <iostream>
#include <iterator>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/cli/ctl_table.hpp"

namespace {

using json = nlohmann::json;
using custodian::ctl::cell;
using custodian::ctl::object_table;
using custodian::ctl::table;

constexpr const char* usage_text =
  R"(usage: custodianctl [--url URL] [--token T] [--json] COMMAND [ARGS]

commands:
  status                                 node, pools, drift and event counters
  pools                                  every pool in summary
  pool NAME                              one pool: resources, quarantine, dependencies
  create FILE|-                          add a pool from its JSON config
  update NAME FILE|-                     apply a JSON merge patch to a pool's config
  delete NAME [--force]                  drain and remove a pool (--force: stop it at once)
  drain NAME | suspend NAME | resume NAME
  resize NAME [--min-idle N] [--max-size N]
  exec NAME REQUEST_JSON [--timeout-ms N]
                                         run a driver request on a leased resource
  quarantine ID [--reason R]             isolate a resource
  release ID                             give a quarantined resource back
  maintain ID                            put a resource into maintenance
  events [--since N] [--limit N] [--follow]
                                         events after SEQ N; --follow streams new ones
  audit [--since N] [--limit N]          operator actions after SEQ N, oldest first
  history NAME                           a pool's config versions
  reload                                 reread the node's config file
  backup [FILE]                          write a backup (to stdout without FILE)
  restore FILE|-                         restore a backup

options:
  --url URL     the node's admin API (default: $CUSTODIAN_URL, else http://127.0.0.1:8080)
  --token T     bearer token for mutations (default: $CUSTODIAN_TOKEN)
  --json        print the server's JSON instead of tables

exit codes:
  0  success
  1  the server refused the request (its error is printed to stderr)
  2  usage error
  3  cannot connect to the server
)";

/// Ends the program with `code` after printing `message` to stderr.
struct exit_with {
  int code;
  std::string message;
};

[[noreturn]] void usage_error(const std::string& message) {
  throw exit_with{2, "error: " + message + "\n(see custodianctl --help)"};
}

struct options {
  std::string url;
  std::string token;
  bool json = false;
  std::vector<std::string> args; // the command and its positional arguments
  std::map<std::string, std::string> flags;
};

// Flags and whether they take a value.
const std::map<std::string, bool> known_flags = {
  {"--url", true},      {"--token", true},    {"--json", false},      {"--force", false},
  {"--min-idle", true}, {"--max-size", true}, {"--timeout-ms", true}, {"--reason", true},
  {"--since", true},    {"--limit", true},    {"--follow", false},    {"--help", false},
};

options parse_args(int argc, char** argv) {
  options opts;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h")
      arg = "--help";
    if (arg.size() < 2 || arg.rfind("--", 0) != 0) {
      opts.args.push_back(arg);
      continue;
    }
    auto flag = known_flags.find(arg);
    if (flag == known_flags.end())
      usage_error("unknown option " + arg);
    if (!flag->second) {
      opts.flags[arg] = "";
    } else if (i + 1 < argc) {
      opts.flags[arg] = argv[++i];
    } else {
      usage_error(arg + " needs a value");
    }
  }
  auto env = [](const char* name) {
    const char* value = std::getenv(name);
    return value ? std::string(value) : std::string();
  };
  opts.url = opts.flags.count("--url") ? opts.flags["--url"] : env("CUSTODIAN_URL");
  if (opts.url.empty())
    opts.url = "http://127.0.0.1:8080";
  opts.token = opts.flags.count("--token") ? opts.flags["--token"] : env("CUSTODIAN_TOKEN");
  opts.json = opts.flags.count("--json") > 0;
  return opts;
}

uint64_t number_flag(const options& opts, const std::string& name) {
  const auto& text = opts.flags.at(name);
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos)
    usage_error(name + " must be a non-negative integer");
  try {
    return std::stoull(text);
  } catch (const std::out_of_range&) {
    usage_error(name + " is too large");
  }
}

/// "?since=N[&limit=N]" of a paged read from --since (default 0) and --limit.
std::string page_query(const options& opts) {
  std::string query =
    "?since=" + std::to_string(opts.flags.count("--since") ? number_flag(opts, "--since") : 0);
  if (opts.flags.count("--limit"))
    query += "&limit=" + std::to_string(number_flag(opts, "--limit"));
  return query;
}

std::string read_input(const std::string& file) {
  if (file == "-")
    return {std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
  std::ifstream in(file, std::ios::binary);
  if (!in)
    usage_error("cannot read " + file);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

json parse_json(const std::string& text, const std::string& what) {
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    usage_error(what + " is not valid JSON (at byte " + std::to_string(e.byte) + ")");
  }
}

/// The admin API over HTTP: every answer is JSON, refusals end the program.
class api {
public:
  explicit api(const options& opts) : url_(opts.url), cli_(checked(opts.url)) {
    cli_.set_connection_timeout(std::chrono::seconds(5));
    cli_.set_read_timeout(std::chrono::seconds(60));
    headers_.emplace("User-Agent", std::string("custodianctl/") + CUSTODIAN_VERSION);
    if (!opts.token.empty())
      headers_.emplace("Authorization", "Bearer " + opts.token);
  }

  json get(const std::string& path) { return answer(cli_.Get(path, headers_)); }
  json post(const std::string& path, const json& body = json::object()) {
    return answer(cli_.Post(path, headers_, body.dump(), "application/json"));
  }
  json patch(const std::string& path, const json& body) {
    return answer(cli_.Patch(path, headers_, body.dump(), "application/json"));
  }
  json del(const std::string& path) { return answer(cli_.Delete(path, headers_)); }

  /// Streams server-sent events, calling `on_data` with each event's data line,
  /// until the server ends the stream.
  void follow(const std::string& path, const std::function<void(const std::string&)>& on_data) {
    std::string buffer;
    int status = 0;
    std::string error_body;
    auto result = cli_.Get(
      path, headers_,
      [&](const httplib::Response& res) {
        status = res.status;
        return true;
      },
      [&](const char* data, std::size_t size) {
        if (status >= 400) {
          error_body.append(data, size);
          return true;
        }
        buffer.append(data, size);
        for (std::size_t end; (end = buffer.find("\n\n")) != std::string::npos;) {
          std::istringstream frame(buffer.substr(0, end));
          buffer.erase(0, end + 2);
          for (std::string line; std::getline(frame, line);)
            if (line.rfind("data: ", 0) == 0)
              on_data(line.substr(6));
        }
        return true;
      });
    if (!result)
      unreachable(result.error());
    if (status >= 400)
      refused(status, error_body);
  }

private:
  static std::string checked(const std::string& url) {
    static const std::regex form(R"(https?://([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?/?)");
    if (!std::regex_match(url, form))
      usage_error("--url must look like http://HOST[:PORT], not " + url);
    return url.back() == '/' ? url.substr(0, url.size() - 1) : url;
  }

  [[noreturn]] void unreachable(httplib::Error error) const {
    throw exit_with{3, "error: cannot connect to " + url_ + ": " + httplib::to_string(error)};
  }

  [[noreturn]] static void refused(int status, const std::string& body) {
    auto parsed = json::parse(body, nullptr, false);
    if (!parsed.is_object() || !parsed.contains("error") || !parsed["error"].is_object())
      throw exit_with{1, "error: http_" + std::to_string(status) + ": " +
                           body.substr(0, body.find('\n'))};
    const auto& error = parsed["error"];
    std::string message = "error: " + cell(error.value("code", json("error"))) + ": " +
                          cell(error.value("message", json("")));
    for (const auto& problem : error.value("problems", json::array()))
      message += "\n  " + cell(problem.value("path", json())) + ": " +
                 cell(problem.value("message", json()));
    throw exit_with{1, message};
  }

  json answer(const httplib::Result& result) const {
    if (!result)
      unreachable(result.error());
    if (result->status >= 400)
      refused(result->status, result->body);
    auto body = json::parse(result->body, nullptr, false);
    if (body.is_discarded())
      throw exit_with{1, "error: bad_response: the server's answer is not JSON"};
    return body;
  }

  std::string url_;
  httplib::Client cli_;
  httplib::Headers headers_;
};

// --- output ------------------------------------------------------------------

void print_pools(const json& pools) {
  object_table({"NAME", "DRIVER", "STATE", "HEALTH", "AVAILABILITY", "SIZE", "IDLE", "IN_USE",
                "WAITERS", "QUARANTINED"},
               {"/name", "/driver", "/state", "/health", "/availability/level", "/size", "/idle",
                "/in_use", "/waiters", "/quarantined"},
               pools)
    .print(std::cout);
}

void print_fields(const json& object, const std::vector<std::string>& keys) {
  table t({"", ""});
  for (const auto& key : keys)
    if (object.contains(key))
      t.add({key, cell(object[key])});
  std::ostringstream out;
  t.print(out);
  // Skips the empty header line.
  std::cout << out.str().substr(out.str().find('\n') + 1);
}

std::string event_line(const json& ev) {
  auto field = [&](const char* key) { return cell(ev.value(key, json())); };
  return field("seq") + " " + field("ts") + " " + field("kind") + " " + field("pool") + " " +
         field("resource") + " " + field("from") + " -> " + field("to");
}

void print_pool(const json& p) {
  print_fields(p, {"name", "driver", "state", "health", "size", "idle", "in_use", "waiters",
                   "quarantined", "degraded", "min_idle", "max_size", "config_version"});
  auto availability = p.value("availability", json::object());
  std::cout << "availability    " << cell(availability.value("level", json()));
  if (auto root = cell(availability.value("root_cause", json())); root != "-")
    std::cout << " (root cause " << root << ": " << cell(availability.value("reason", json()))
              << ")";
  std::cout << "\n";
  std::vector<std::string> deps;
  for (const auto& d : p.value("depends_on", json::array()))
    deps.push_back(cell(d.value("pool", json())) + " (" + cell(d.value("kind", json())) + ")");
  std::ostringstream joined;
  for (std::size_t i = 0; i < deps.size(); ++i)
    joined << (i ? ", " : "") << deps[i];
  std::cout << "depends on      " << (deps.empty() ? "-" : joined.str()) << "\n";
  std::cout << "dependants      " << cell(p.value("dependants", json::array())) << "\n";
  if (p.contains("resources")) {
    std::cout << "\n";
    object_table({"RESOURCE", "STATE", "HEALTH", "LEASED", "QUARANTINED"},
                 {"/id", "/state", "/health", "/leased", "/quarantined"}, p["resources"])
      .print(std::cout);
  }
  if (!p.value("quarantine", json::array()).empty()) {
    std::cout << "\n";
    object_table({"QUARANTINED", "REASON", "SINCE", "ATTEMPTS", "NEXT_ATTEMPT"},
                 {"/resource", "/reason", "/since", "/attempts", "/next_attempt"}, p["quarantine"])
      .print(std::cout);
  }
}

// --- commands ----------------------------------------------------------------

struct command {
  std::size_t min_args; // positional arguments after the command's name
  std::size_t max_args;
  std::set<std::string> flags;
  std::function<void(api&, const options&, const std::vector<std::string>&)> run;
};

/// Runs a request; prints its JSON with --json, else what `human` makes of it.
void show(const options& opts, const json& body, const std::function<void(const json&)>& human) {
  if (opts.json)
    std::cout << body.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
  else
    human(body);
}

std::map<std::string, command> commands() {
  using args = const std::vector<std::string>&;
  std::map<std::string, command> c;
  c["status"] = {0, 0, {}, [](api& a, const options& o, args) {
                   show(o, a.get("/api/v1"), [](const json& s) {
                     print_fields(s, {"node", "version", "uptime_s", "ready"});
                     auto events = s.value("events", json::object());
                     std::cout << "events    last_seq " << cell(events.value("last_seq", json()))
                               << ", dropped " << cell(events.value("dropped", json())) << "\n\n";
                     print_pools(s.value("pools", json::array()));
                     for (const auto& d : s.value("drift", json::array()))
                       std::cout << "drift: " << cell(d.value("pool", json())) << ": "
                                 << cell(d.value("message", json())) << "\n";
                   });
                 }};
  c["pools"] = {0, 0, {}, [](api& a, const options& o, args) {
                  show(o, a.get("/api/v1/pools"),
                       [](const json& b) { print_pools(b.value("pools", json())); });
                }};
  c["pool"] = {1, 1, {}, [](api& a, const options& o, args x) {
                 show(o, a.get("/api/v1/pools/" + x[0]), print_pool);
               }};
  c["create"] = {1, 1, {}, [](api& a, const options& o, args x) {
                   auto config = parse_json(read_input(x[0]), x[0]);
                   show(o, a.post("/api/v1/pools", config), [](const json& p) {
                     std::cout << "created pool " << cell(p.value("name", json())) << "\n";
                   });
                 }};
  c["update"] = {2, 2, {}, [](api& a, const options& o, args x) {
                   auto patch = parse_json(read_input(x[1]), x[1]);
                   show(o, a.patch("/api/v1/pools/" + x[0], patch), [&](const json& r) {
                     std::cout << "updated pool " << x[0] << ": version "
                               << cell(r.value("version", json())) << ", applied "
                               << cell(r.value("applied", json())) << ", changed "
                               << cell(r.value("changed", json())) << "\n";
                   });
                 }};
  c["delete"] = {1, 1, {"--force"}, [](api& a, const options& o, args x) {
                   auto path =
                     "/api/v1/pools/" + x[0] + (o.flags.count("--force") ? "?force=true" : "");
                   show(o, a.del(path), [&](const json& r) {
                     std::cout << "deleted pool " << x[0]
                               << (r.value("forced", false)    ? " (forced)"
                                   : r.value("drained", false) ? " (drained)"
                                                               : "")
                               << "\n";
                   });
                 }};
  for (const char* action : {"drain", "suspend", "resume"})
    c[action] = {1, 1, {}, [action](api& a, const options& o, args x) {
                   show(o, a.post("/api/v1/pools/" + x[0] + "/" + action),
                        [](const json& p) { print_pools(json::array({p})); });
                 }};
  c["resize"] = {1, 1, {"--min-idle", "--max-size"}, [](api& a, const options& o, args x) {
                   json body = json::object();
                   for (const auto& [flag, key] :
                        {std::pair{"--min-idle", "min_idle"}, std::pair{"--max-size", "max_size"}})
                     if (o.flags.count(flag))
                       body[key] = number_flag(o, flag);
                   if (body.empty())
                     usage_error("resize needs --min-idle N or --max-size N");
                   show(o, a.post("/api/v1/pools/" + x[0] + "/resize", body),
                        [](const json& p) { print_pools(json::array({p})); });
                 }};
  c["exec"] = {
    2, 2, {"--timeout-ms"}, [](api& a, const options& o, args x) {
      json body{{"request", parse_json(x[1], "REQUEST_JSON")}};
      if (o.flags.count("--timeout-ms"))
        body["timeout_ms"] = number_flag(o, "--timeout-ms");
      show(o, a.post("/api/v1/pools/" + x[0] + "/exec", body), [](const json& r) {
        std::cout << "resource " << cell(r.value("resource", json())) << "\n"
                  << r.value("response", json()).dump(2, ' ', false, json::error_handler_t::replace)
                  << "\n";
      });
    }};
  for (const char* action : {"quarantine", "release", "maintain"})
    c[action] = {1, 1,
                 action == std::string("quarantine") ? std::set<std::string>{"--reason"}
                                                     : std::set<std::string>{},
                 [action](api& a, const options& o, args x) {
                   json body = json::object();
                   if (o.flags.count("--reason"))
                     body["reason"] = o.flags.at("--reason");
                   show(o, a.post("/api/v1/resources/" + x[0] + "/" + action, body),
                        [&](const json& r) {
                          std::cout << "resource " << x[0] << " (pool "
                                    << cell(r.value("pool", json())) << "): " << action << " ok\n";
                        });
                 }};
  c["events"] = {0, 0, {"--since", "--limit", "--follow"}, [](api& a, const options& o, args) {
                   if (o.flags.count("--follow")) {
                     // From now on, unless told where to start.
                     auto since =
                       o.flags.count("--since")
                         ? number_flag(o, "--since")
                         : a.get("/api/v1").value("events", json::object()).value("last_seq", 0ull);
                     a.follow("/api/v1/events/stream?since=" + std::to_string(since),
                              [&](const std::string& line) {
                                auto ev = json::parse(line, nullptr, false);
                                std::cout << (o.json || !ev.is_object() ? line : event_line(ev))
                                          << std::endl;
                              });
                     return;
                   }
                   show(o, a.get("/api/v1/events" + page_query(o)), [](const json& b) {
                     for (const auto& ev : b.value("events", json::array()))
                       std::cout << event_line(ev) << "\n";
                   });
                 }};
  c["audit"] = {0, 0, {"--since", "--limit"}, [](api& a, const options& o, args) {
                  show(o, a.get("/api/v1/audit" + page_query(o)), [](const json& b) {
                    object_table({"SEQ", "TS", "REQUESTER", "ACTION", "TARGET", "DETAIL"},
                                 {"/seq", "/ts", "/requester", "/action", "/target", "/detail"},
                                 b.value("audit", json::array()))
                      .print(std::cout);
                  });
                }};
  c["history"] = {1, 1, {}, [](api& a, const options& o, args x) {
                    show(o, a.get("/api/v1/pools/" + x[0] + "/config/history"), [](const json& h) {
                      object_table({"VERSION", "TS", "SOURCE", "REQUESTER"},
                                   {"/version", "/ts", "/source", "/requester"},
                                   h.value("versions", json::array()))
                        .print(std::cout);
                    });
                  }};
  c["reload"] = {0, 0, {}, [](api& a, const options& o, args) {
                   show(o, a.post("/api/v1/config/reload"), [](const json& r) {
                     object_table({"POOL", "APPLIED"}, {"/name", "/applied"},
                                  r.value("pools", json::array()))
                       .print(std::cout);
                   });
                 }};
  c["backup"] = {0, 1, {}, [](api& a, const options&, args x) {
                   auto text =
                     a.get("/api/v1/backup").dump(2, ' ', false, json::error_handler_t::replace) +
                     "\n";
                   if (x.empty()) {
                     std::cout << text;
                     return;
                   }
                   std::ofstream out(x[0], std::ios::binary | std::ios::trunc);
                   if (!(out << text))
                     throw exit_with{1, "error: cannot write " + x[0]};
                 }};
  c["restore"] = {1, 1, {}, [](api& a, const options& o, args x) {
                    auto backup = parse_json(read_input(x[0]), x[0]);
                    show(o, a.post("/api/v1/restore", backup), [](const json& r) {
                      std::cout << "restored";
                      auto restored = r.value("restored", json::object());
                      for (const auto& [what, count] : restored.items())
                        std::cout << " " << what << "=" << cell(count);
                      std::cout << "\n";
                    });
                  }};
  return c;
}

int run(int argc, char** argv) {
  auto opts = parse_args(argc, argv);
  if (opts.flags.count("--help")) {
    std::cout << usage_text;
    return 0;
  }
  if (opts.args.empty())
    usage_error("no command");
  auto all = commands();
  auto found = all.find(opts.args[0]);
  if (found == all.end())
    usage_error("unknown command " + opts.args[0]);
  const auto& cmd = found->second;
  std::vector<std::string> args(opts.args.begin() + 1, opts.args.end());
  if (args.size() < cmd.min_args || args.size() > cmd.max_args)
    usage_error(opts.args[0] + " takes " + std::to_string(cmd.min_args) +
                (cmd.max_args != cmd.min_args ? " to " + std::to_string(cmd.max_args) : "") +
                " argument(s), not " + std::to_string(args.size()));
  for (const auto& [flag, value] : opts.flags)
    if (flag != "--url" && flag != "--token" && flag != "--json" && !cmd.flags.count(flag))
      usage_error(opts.args[0] + " does not take " + flag);
  api client(opts);
  cmd.run(client, opts, args);
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  // A server that closes while a body is sent must not kill us with SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);
  try {
    return run(argc, argv);
  } catch (const exit_with& e) {
    std::cout.flush();
    std::cerr << e.message << "\n";
    return e.code;
  }
}
