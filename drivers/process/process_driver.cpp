#include "drivers/process/process_driver.hpp"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>

#include "drivers/process/health_probe.hpp"

namespace custodian::drivers {

using json = nlohmann::json;

namespace {

/// A minimal environment: the inherited variables that are set, the resource's
/// id, then `env`. Nothing else of the node's (its secrets stay with it).
std::vector<std::string> child_environment(const process_settings& s,
                                           const std::string& resource_id) {
  std::map<std::string, std::string> vars;
  for (const auto& name : s.inherit_env)
    if (const char* value = std::getenv(name.c_str()))
      vars[name] = value;
  vars["CUSTODIAN_RESOURCE_ID"] = resource_id;
  for (const auto& [name, value] : s.env)
    vars[name] = value;
  std::vector<std::string> out;
  for (const auto& [name, value] : vars)
    out.push_back(name + "=" + value);
  return out;
}

std::string path_of(const std::vector<std::string>& env) {
  for (const auto& var : env)
    if (var.starts_with("PATH="))
      return var.substr(5);
  return {};
}

/// The spawn of `command args...` in the child's environment and directory.
driver_result<spawn_spec> spec_for(const std::string& command, const std::vector<std::string>& args,
                                   const process_settings& s, const std::vector<std::string>& env) {
  auto program = find_program(command, path_of(env));
  if (!program)
    return program.error();
  spawn_spec spec;
  spec.program = std::move(program.value());
  spec.argv.push_back(command);
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.env = env;
  spec.cwd = s.cwd;
  spec.stderr_path = s.stderr_path;
  return spec;
}

/// `text` as a JSON string; bytes that are not UTF-8 become U+FFFD, so that the
/// answer can always be serialised.
json json_text(const std::string& text) {
  json j = text;
  try {
    (void)j.dump();
    return j;
  } catch (const json::type_error&) {
    return json::parse(j.dump(-1, ' ', false, json::error_handler_t::replace));
  }
}

std::string ms_text(millis d) {
  return std::to_string(d.count()) + " ms";
}

} // namespace

process_connection::process_connection(std::unique_ptr<child_process> child,
                                       std::shared_ptr<const process_settings> settings,
                                       std::vector<std::string> env)
    : child_(std::move(child)), settings_(std::move(settings)), env_(std::move(env)),
      lines_(child_->stdin_fd(), child_->stdout_fd(), settings_->max_line_bytes) {}

process_handle process_connection::native() const {
  return {child_->pid(), child_->stdin_fd(), child_->stdout_fd()};
}

std::string process_connection::who() const {
  return "the child (pid " + std::to_string(child_->pid()) + ")";
}

std::optional<driver_error> process_connection::unusable() {
  if (failure_)
    return failure_;
  if (auto status = child_->exited())
    return driver_error{driver_errc::broken, who() + " " + status->describe()};
  return std::nullopt;
}

driver_error process_connection::failed(driver_error err, const deadline& until) {
  // Its pipes closing usually means it is ending: say how, if it does soon.
  auto status = lines_.closed_by_child()
                  ? child_->wait_exit(deadline{std::min(until.remaining(), millis{1000})})
                  : std::nullopt;
  err.message = who() + " " + (status ? status->describe() : err.message);
  // A line may be half written or its answer still coming: out of step for good.
  failure_ = driver_error{driver_errc::broken, "unusable after an earlier failure: " + err.message};
  return err;
}

driver_status process_connection::await_line(const std::string& wanted, millis budget) {
  deadline until{budget};
  for (;;) {
    auto line = lines_.read_line(until);
    if (line && line.value() == wanted)
      return done{};
    if (line)
      continue;
    auto err = line.error();
    if (err.code == driver_errc::timeout)
      err.message = "did not print \"" + wanted + "\" within " + ms_text(budget);
    err = failed(err, until);
    if (err.code != driver_errc::timeout)
      err.message += " before it printed \"" + wanted + "\"";
    return err;
  }
}

bool process_connection::do_alive() {
  return !failure_ && !child_->exited() && !lines_.output_closed();
}

bool process_connection::do_needs_reset() {
  return lines_.has_unread();
}

driver_status process_connection::do_ping(millis timeout) {
  deadline until{timeout};
  if (auto bad = unusable())
    return *bad;
  if (lines_.output_closed())
    return driver_error{driver_errc::broken, who() + " closed its stdout"};
  const auto& health = settings_->health;
  if (!health)
    return done{};
  if (health->tcp_port != 0)
    return probe_tcp_port(health->tcp_port, until);
  auto spec = spec_for(health->command, health->args, *settings_, env_);
  if (!spec)
    return driver_error{spec.error().code, "health " + spec.error().message};
  spec.value().pipes = false;
  return run_health_command(spec.value(), until);
}

driver_result<json> process_connection::do_exec(const json& request, millis timeout) {
  auto line = request.is_object() && request.size() == 1 ? request.find("line") : request.end();
  if (line == request.end() || !line->is_string())
    return driver_error{driver_errc::rejected, R"(exec takes {"line": "<text>"})"};
  const auto& text = line->get_ref<const std::string&>();
  if (text.find('\n') != std::string::npos)
    return driver_error{driver_errc::rejected, "the line must not contain a newline"};
  if (auto bad = unusable())
    return *bad;
  auto bound =
    settings_->line_timeout.count() > 0 ? std::min(timeout, settings_->line_timeout) : timeout;
  deadline until{bound};
  if (auto sent = lines_.write_line(text, until); !sent)
    return failed(sent.error(), until);
  auto reply = lines_.read_line(until);
  if (!reply) {
    auto err = reply.error();
    if (err.code == driver_errc::timeout)
      err.message = "wrote no line within " + ms_text(bound);
    return failed(err, until);
  }
  return json{{"line", json_text(reply.value())}};
}

driver_status process_connection::do_reset(millis timeout) {
  if (auto bad = unusable())
    return *bad;
  lines_.discard_unread(deadline{timeout});
  return done{};
}

driver_status process_connection::do_close(millis timeout) {
  if (!child_->stop(settings_->stop_grace, deadline{timeout}))
    return driver_error{driver_errc::timeout,
                        who() + " did not end after SIGKILL; it is reaped when it does"};
  return done{};
}

process_driver::process_driver(process_settings settings)
    : settings_(std::make_shared<const process_settings>(std::move(settings))) {}

std::vector<config_problem> process_driver::problems_of(const json& driver_config) {
  return process_config_problems(driver_config);
}

std::shared_ptr<process_driver> process_driver::from_config(const json& driver_config) {
  if (auto problems = problems_of(driver_config); !problems.empty()) {
    const auto& first = problems.front();
    throw std::invalid_argument("driver_config" + (first.path.empty() ? "" : "." + first.path) +
                                ": " + first.message);
  }
  return std::make_shared<process_driver>(read_process_settings(driver_config));
}

std::string process_driver::name() const {
  return "process";
}

driver_result<std::shared_ptr<connection>>
process_driver::do_connect(const std::string& resource_id, millis timeout) {
  auto env = child_environment(*settings_, resource_id);
  auto spec = spec_for(settings_->command, settings_->args, *settings_, env);
  if (!spec)
    return spec.error();
  auto child = child_process::spawn(spec.value());
  if (!child)
    return child.error();
  auto conn =
    std::make_shared<process_connection>(std::move(child.value()), settings_, std::move(env));
  // On failure the connection goes away here, and its child with it.
  if (!settings_->startup_line.empty())
    if (auto ready = conn->await_line(settings_->startup_line, timeout); !ready)
      return ready.error();
  return std::shared_ptr<connection>{std::move(conn)};
}

} // namespace custodian::drivers
