#include "drivers/redis/redis_driver.hpp"

#include <stdexcept>
#include <utility>

#include "drivers/deadline.hpp"
#include "drivers/redis/redis_command.hpp"
#include "drivers/redis/redis_errors.hpp"
#include "drivers/redis/redis_reply.hpp"

namespace custodian::drivers {

namespace {

using json = nlohmann::json;
using argv_list = std::vector<std::vector<std::string>>;

std::string text_of(const redisReply& r) {
  return safe_text({r.str ? r.str : "", r.str ? r.len : 0});
}

/// "redis 127.0.0.1:6379: " + message.
std::string at_server(const redis_settings& s, const std::string& message) {
  return "redis " + s.address() + ": " + message;
}

bool is_status(const redisReply& r, std::string_view text) {
  return r.type == REDIS_REPLY_STATUS && std::string_view{r.str, r.len} == text;
}

/// Why a handshake command's error reply fails the connection.
driver_error handshake_error(const std::vector<std::string>& argv, const redisReply& reply,
                             const std::string& username, const std::string& password_source) {
  auto text = text_of(reply);
  auto code = class_of_error_reply(text);
  auto name = command_name(argv);
  if (name == "AUTH") {
    // Whatever the server answers to AUTH, the credentials did not work.
    if (code == driver_errc::rejected)
      code = driver_errc::auth;
    auto user = username.empty() ? std::string{"the default user"} : "user " + username;
    return {code, "AUTH as " + user + " with the password from " + password_source + ": " + text};
  }
  if (code == driver_errc::auth)
    return {code, name + ": " + text +
                    " (the server wants a password: set password_env, "
                    "password_file or password)"};
  if (name == "RESET" && code == driver_errc::rejected)
    return {driver_errc::broken, "RESET: " + text + " (resetting needs Redis 6.2 or later)"};
  if (name == "SELECT")
    return {code, "SELECT " + argv[1] + ": " + text};
  return {code, name + ": " + text};
}

} // namespace

redis_connection::redis_connection(context_ptr ctx, std::shared_ptr<const redis_settings> settings,
                                   millis native_timeout)
    : ctx_(std::move(ctx)), settings_(std::move(settings)), native_timeout_(native_timeout),
      session_(settings_->db) {}

redisContext* redis_connection::native() {
  lend_native();
  if (!blocking_.exchange(true))
    set_blocking(ctx_.get(), true, native_timeout_);
  return ctx_.get();
}

driver_error redis_connection::lost(const driver_error& err, const std::string& what,
                                    millis budget) {
  failed_ = true;
  auto why = what + ": " + err.message;
  if (err.code == driver_errc::timeout)
    why += " (timeout " + std::to_string(budget.count()) + " ms)";
  failed_why_ = why;
  return {err.code, at_server(*settings_, why + "; the connection is not used again")};
}

driver_status redis_connection::usable() {
  if (failed_)
    return driver_error{driver_errc::broken,
                        at_server(*settings_, "an earlier call failed (" + failed_why_ + ")")};
  if (blocking_.exchange(false))
    set_blocking(ctx_.get(), false, native_timeout_);
  if (ctx_->err) {
    failed_ = true;
    failed_why_ = std::string{"the application's use of it failed: "} + ctx_->errstr;
    return driver_error{driver_errc::broken, at_server(*settings_, failed_why_)};
  }
  return done{};
}

driver_result<reply_ptr> redis_connection::round_trip(const std::vector<std::string>& argv,
                                                      const deadline& until, millis budget) {
  if (auto ok = usable(); !ok)
    return ok.error();
  append_command(ctx_.get(), argv);
  if (auto sent = flush(ctx_.get(), until); !sent)
    return lost(sent.error(), command_name(argv), budget);
  auto reply = next_reply(ctx_.get(), until);
  if (!reply)
    return lost(reply.error(), command_name(argv), budget);
  return reply;
}

argv_list redis_connection::handshake_commands(const std::string& password) const {
  argv_list commands;
  if (!password.empty() || !settings_->username.empty()) {
    if (settings_->username.empty())
      commands.push_back({"AUTH", password});
    else
      commands.push_back({"AUTH", settings_->username, password});
  }
  if (settings_->db != 0)
    commands.push_back({"SELECT", std::to_string(settings_->db)});
  // Proves that the server serves: not LOADING, no password wanted that we lack.
  commands.push_back({"PING"});
  return commands;
}

driver_status redis_connection::pipeline(const argv_list& commands,
                                         const std::string& password_source, const deadline& until,
                                         millis budget) {
  if (auto ok = usable(); !ok)
    return ok.error();
  for (const auto& argv : commands)
    append_command(ctx_.get(), argv);
  if (auto sent = flush(ctx_.get(), until); !sent)
    return lost(sent.error(), command_name(commands.front()), budget);
  for (const auto& argv : commands) {
    auto name = command_name(argv);
    for (;;) {
      auto reply = next_reply(ctx_.get(), until);
      if (!reply)
        return lost(reply.error(), name, budget);
      auto& r = *reply.value();
      // What comes before RESET's own answer is what the holder left: pushed
      // messages, replies it did not read (errors among them).
      bool left_by_holder =
        name == "RESET" && !is_status(r, "RESET") &&
        !(r.type == REDIS_REPLY_ERROR && text_of(r).find("RESET") != std::string::npos);
      if (left_by_holder)
        continue;
      if (r.type == REDIS_REPLY_ERROR) {
        failed_ = true; // replies of the commands after it are still on their way
        auto err = handshake_error(argv, r, settings_->username, password_source);
        failed_why_ = err.message;
        return driver_error{err.code, at_server(*settings_, err.message)};
      }
      break;
    }
  }
  return done{};
}

driver_status redis_connection::handshake(const std::string& password, const deadline& until,
                                          millis budget) {
  return pipeline(handshake_commands(password), settings_->password.describe(), until, budget);
}

bool redis_connection::do_alive() {
  return !failed_ && ctx_->err == 0 && !peer_closed_or_spoke(ctx_->fd);
}

bool redis_connection::do_needs_reset() {
  return session_.dirty() || has_leftovers(ctx_.get());
}

driver_status redis_connection::do_ping(millis timeout) {
  auto budget = settings_->command_budget(timeout);
  deadline until{budget};
  auto reply = round_trip({"PING"}, until, budget);
  if (!reply)
    return reply.error();
  if (auto& r = *reply.value(); r.type == REDIS_REPLY_ERROR) {
    auto text = text_of(r);
    return driver_error{class_of_error_reply(text), at_server(*settings_, "PING: " + text)};
  }
  return done{};
}

driver_result<json> redis_connection::do_exec(const json& request, millis timeout) {
  auto argv = command_of(request);
  if (!argv)
    return argv.error();
  if (auto why = refusal_of(argv.value()); !why.empty())
    return driver_error{driver_errc::rejected, why};
  auto budget = settings_->command_budget(timeout);
  deadline until{budget};
  auto reply = round_trip(argv.value(), until, budget);
  if (!reply)
    return reply.error();
  const auto& r = *reply.value();
  bool failed = r.type == REDIS_REPLY_ERROR;
  session_.observe(argv.value(), !failed);
  if (failed) {
    auto text = text_of(r);
    return driver_error{class_of_error_reply(text),
                        at_server(*settings_, command_name(argv.value()) + ": " + text)};
  }
  return json{{"reply", reply_to_json(r)}};
}

driver_status redis_connection::do_reset(millis timeout) {
  auto budget = settings_->command_budget(timeout);
  deadline until{budget};
  auto password = settings_->password.resolve();
  if (!password)
    return driver_error{password.error().code, at_server(*settings_, password.error().message)};
  argv_list commands{{"RESET"}};
  for (auto& argv : handshake_commands(password.value()))
    commands.push_back(std::move(argv));
  if (auto res = pipeline(commands, settings_->password.describe(), until, budget); !res)
    return res;
  session_.clear();
  return done{};
}

driver_status redis_connection::do_close(millis) {
  ctx_.reset(); // closing the socket does not block
  return done{};
}

redis_driver::redis_driver(redis_settings settings)
    : settings_(std::make_shared<const redis_settings>(std::move(settings))) {}

std::vector<config_problem> redis_driver::problems_of(const json& cfg) {
  return redis_settings::problems_of(cfg);
}

std::shared_ptr<redis_driver> redis_driver::from_config(const json& cfg) {
  if (auto problems = problems_of(cfg); !problems.empty()) {
    std::string why = "invalid redis driver_config:";
    for (const auto& p : problems)
      why +=
        " " + (p.path.empty() ? std::string{"driver_config"} : p.path) + ": " + p.message + ";";
    why.pop_back();
    throw std::invalid_argument(why);
  }
  return std::make_shared<redis_driver>(redis_settings::from_config(cfg));
}

std::string redis_driver::name() const {
  return "redis";
}

driver_result<std::shared_ptr<connection>> redis_driver::do_connect(const std::string&,
                                                                    millis timeout) {
  auto budget = settings_->connect_budget(timeout);
  deadline until{budget};
  auto password = settings_->password.resolve();
  if (!password)
    return driver_error{password.error().code, at_server(*settings_, password.error().message)};
  auto addresses = resolve(settings_->host, settings_->port, until);
  if (!addresses)
    return driver_error{addresses.error().code, at_server(*settings_, addresses.error().message)};
  auto ctx = open_context(addresses.value(), until);
  if (!ctx) {
    auto message = ctx.error().message;
    if (ctx.error().code == driver_errc::timeout)
      message += " (connect timeout " + std::to_string(budget.count()) + " ms)";
    return driver_error{ctx.error().code, at_server(*settings_, message)};
  }
  auto native_timeout =
    settings_->command_timeout.count() > 0 ? settings_->command_timeout : budget;
  auto conn = std::make_shared<redis_connection>(std::move(ctx.value()), settings_, native_timeout);
  if (auto ok = conn->handshake(password.value(), until, budget); !ok) {
    auto err = ok.error();
    // A server that drops a new connection is stopping, or full.
    if (err.code == driver_errc::broken)
      err.code = driver_errc::unavailable;
    return err;
  }
  return std::shared_ptr<connection>{std::move(conn)};
}

} // namespace custodian::drivers
