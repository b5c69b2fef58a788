// custodiand: runs a node from a JSON config until SIGTERM or SIGINT, then drains
// its pools in reverse dependency order and exits 0; a second signal forces the
// exit. SIGHUP reloads the config file.
//
//   custodiand --config FILE [--log-format text|json] [--prefer-stored-config]
//
// Exit codes: 0 after a graceful shutdown, 1 when the node cannot start (store,
// admin port), 2 for a bad command line or a rejected config, 3 when forced.

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <signal.h>
#include <string>
#include <thread>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/dist_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "drivers/driver_catalog.hpp"
#include "runtime/admin/admin_server.hpp"
#include "runtime/node/json_log.hpp"
#include "runtime/node/node.hpp"

namespace {

using namespace custodian;

/// One JSON object per line on stderr (runtime/node/json_log.hpp).
class json_sink final : public spdlog::sinks::base_sink<std::mutex> {
protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    auto level = spdlog::level::to_string_view(msg.level);
    std::cerr << json_log_line(msg.time, {level.data(), level.size()},
                               {msg.logger_name.data(), msg.logger_name.size()},
                               {msg.payload.data(), msg.payload.size()})
              << '\n';
  }
  void flush_() override { std::cerr.flush(); }
};

/// Where the default logger writes: its sinks are swapped in place, never the
/// logger itself, because the node's event handler logs from scheduler threads
/// through spdlog's default logger and replacing that logger would free it under
/// them (a crash at start when the config sets the format or the level).
std::shared_ptr<spdlog::sinks::dist_sink_mt> log_output;

void set_up_logging(const std::string& format, const std::string& level) {
  std::shared_ptr<spdlog::sinks::sink> sink;
  if (format == "json")
    sink = std::make_shared<json_sink>();
  else
    sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  if (!log_output) {
    log_output = std::make_shared<spdlog::sinks::dist_sink_mt>();
    log_output->set_sinks({sink});
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("custodiand", log_output));
  } else {
    log_output->set_sinks({sink});
  }
  spdlog::default_logger_raw()->set_level(spdlog::level::from_str(level));
}

struct command_line {
  std::string config;
  std::optional<std::string> log_format;
  bool prefer_stored = false;
};

[[noreturn]] void usage(const std::string& problem) {
  if (!problem.empty())
    std::cerr << "custodiand: " << problem << "\n";
  std::cerr
    << "usage: custodiand --config FILE [--log-format text|json] [--prefer-stored-config]\n";
  std::exit(2);
}

command_line parse(int argc, char** argv) {
  command_line out;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc)
        usage(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--config")
      out.config = value();
    else if (arg == "--log-format")
      out.log_format = value();
    else if (arg == "--prefer-stored-config")
      out.prefer_stored = true;
    else if (arg == "--help" || arg == "-h")
      usage("");
    else
      usage("unknown argument " + arg);
  }
  if (out.config.empty())
    usage("--config is required");
  if (out.log_format && *out.log_format != "text" && *out.log_format != "json")
    usage("--log-format is text or json");
  return out;
}

/// The bearer token named by admin.token_env; empty without one.
std::string admin_token(const admin_settings& admin) {
  if (admin.token_env.empty())
    return {};
  const char* value = std::getenv(admin.token_env.c_str());
  if (value == nullptr || *value == '\0')
    throw std::invalid_argument("admin.token_env names " + admin.token_env +
                                ", which is not set in the environment");
  return value;
}

} // namespace

int main(int argc, char** argv) {
  auto args = parse(argc, argv);
  // Signals are taken by sigwait below, never by a handler: every thread started
  // from here on inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  // SIGUSR2 is the drain's own word that it is done.
  for (int s : {SIGTERM, SIGINT, SIGHUP, SIGUSR2})
    sigaddset(&signals, s);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  set_up_logging(args.log_format.value_or("text"), "info");

  std::unique_ptr<node> n;
  try {
    n = std::make_unique<node>(node_options{args.config, args.prefer_stored},
                               drivers::builtin_drivers());
  } catch (const config_rejected& e) {
    std::cerr << "custodiand: " << args.config << " is not a valid config:\n";
    for (const auto& p : e.problems())
      std::cerr << "  " << to_string(p) << "\n";
    return 2;
  } catch (const std::exception& e) {
    spdlog::critical("cannot start: {}", e.what());
    return 1;
  }
  const auto& cfg = n->config();
  set_up_logging(args.log_format.value_or(cfg.logging.format), cfg.logging.level);

  std::unique_ptr<admin_server> admin;
  try {
    admin_server_config admin_cfg;
    admin_cfg.bind = cfg.admin.bind;
    admin_cfg.port = cfg.admin.port;
    admin_cfg.token = admin_token(cfg.admin);
    admin = std::make_unique<admin_server>(*n, admin_cfg);
  } catch (const std::exception& e) {
    spdlog::critical("cannot start the admin server: {}", e.what());
    n->shutdown();
    return 1;
  }
  spdlog::info("node {} serving {} pools; admin on http://{}:{}", cfg.name, cfg.pools.size(),
               cfg.admin.bind, admin->port());

  std::thread stopper;
  for (;;) {
    int sig = 0;
    sigwait(&signals, &sig);
    if (sig == SIGUSR2 && stopper.joinable()) {
      stopper.join();
      admin.reset();
      n.reset();
      spdlog::shutdown();
      return 0;
    }
    if (sig == SIGHUP) {
      try {
        auto result = n->reload("sighup");
        spdlog::info("reloaded {}: {}", args.config, result.dump());
      } catch (const api_error& e) {
        spdlog::error("reload refused, nothing changed: {}", e.what());
        for (const auto& p : e.problems())
          spdlog::error("  {}: {}", p.path, p.message);
      }
      continue;
    }
    if (stopper.joinable()) {
      spdlog::warn("second signal: exiting without waiting for the drain");
      std::_Exit(3);
    }
    spdlog::info("signal {}: draining the pools", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    // The drain runs beside this loop, which keeps listening for a second signal.
    stopper = std::thread{[&] {
      auto report = n->shutdown();
      admin->stop();
      spdlog::info("shut down: {} pools drained, {} forced", report.drained, report.forced);
      kill(getpid(), SIGUSR2);
    }};
  }
}
