// failover-bench: Custodian's postgres pool under the failures the peers in
// bench/README.md ("Beside the peers under failure") were measured under, with
// their workload, timeline and figures. 4 client threads run acquire -> SELECT 1
// -> release every 20 ms against a real PostgreSQL on 127.0.0.1 that this program
// starts in a temporary directory ($CUSTODIAN_TEST_TMPDIR, else /tmp) and stops:
//   restart-1s, restart (3 s, the peers' length), restart-30s
//            5 s steady, pg_ctl stop -m immediate, the outage, pg_ctl start; until
//            all 4 clients succeeded again (30 s at most), then 10 s more
//   wrongpw  the pool given a wrong password, the clients run 10 s from its creation
//   terminate  pool warm, 3 s, pg_terminate_backend on every backend of the pool's
//            role; until all 4 succeeded with an operation started after, then 2 s
// Each scenario runs --runs times (default 3), interleaved; one line per run as it
// ends, then per scenario "peer=custodian config=default scenario=S runs=N
// key=min/median/max ..." and the distinct errors the callers saw.
//
// usage: failover-bench [--runs N] [--scenario NAME]... [--events DIR]
//   --events DIR writes each run's raw events in the peers' format
//   (DIR/custodian.SCENARIO.default.runI.jsonl), which their analyze.mjs reads.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <fstream>
#include <functional>
#include <iostream>
#include <libpq-fe.h>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "drivers/postgres/postgres_driver.hpp"
#include "runtime/runtime.hpp"
#include "tests/support/pg_server.hpp"

#include "bench/bench_pool.hpp"
#include "bench/failover_figures.hpp"
#include "bench/fixed_rate_clients.hpp"
#include "bench/pg_log.hpp"
#include "bench/wall_clock.hpp"

using namespace custodian;
using namespace custodian::bench;
using namespace std::chrono_literals;
using custodian::test::pg_server;

namespace {

constexpr int clients = 4;
constexpr int period_ms = 20;
constexpr double steady_ms = 5'000, stuck_ms = 30'000, after_ms = 10'000;
constexpr double warm_ms = 3'000, wrongpw_window_ms = 10'000, late_failures_ms = 2'000;
const std::string pool_name = "failover";

void pause_until(double wall) {
  auto left = wall - wall_ms();
  if (left > 0) // the scenario's timeline, not a synchronisation
    std::this_thread::sleep_for(std::chrono::duration<double, std::milli>{left});
}

void pause_for(double ms) {
  pause_until(wall_ms() + ms);
}

/// acquire -> SELECT 1 -> release through the blocking facade, as an application.
op_outcome select_one(runtime& rt) {
  static const nlohmann::json select1{{"sql", "SELECT 1"}};
  scoped_lease lease;
  try {
    lease = rt.acquire(pool_name, 3000ms);
  } catch (const lease_error& e) {
    return {false, "acquire", e.what()};
  }
  try {
    lease.exec(select1, 2000ms);
  } catch (const lease_error& e) {
    return {false, "query", e.what()};
  }
  return {};
}

class scenario_runner {
public:
  scenario_runner(pg_server& server) : server_(server) {
    wrong_password_file_ = server.file("wrong-password");
    test::write_file(wrong_password_file_, "not-the-password\n");
  }

  run_record run(const std::string& scenario, int run) {
    if (!server_.running()) // a failed run may have left it down
      server_.start();
    run_record r;
    r.scenario = scenario;
    r.run = run;
    r.clients = clients;
    r.period_ms = period_ms;
    r.port = server_.port();
    r.version = version();
    r.settings = std::string{"min_idle=2 max_size=4 "} + bench_pool_settings() +
                 "; the postgres driver's defaults (keepalives 5 s/2 s x 3, "
                 "tcp_user_timeout 10 s); acquire -> exec SELECT 1 -> release";
    if (scenario == "restart-1s")
      restart(r, 1'000);
    else if (scenario == "restart")
      restart(r, 3'000);
    else if (scenario == "restart-30s")
      restart(r, 30'000);
    else if (scenario == "wrongpw")
      wrongpw(r);
    else if (scenario == "terminate")
      terminate(r);
    else
      throw std::invalid_argument("unknown scenario " + scenario);
    return r;
  }

private:
  pool_config pool(const std::string& password_file) const {
    auto cfg = server_.driver_config();
    cfg["password_file"] = password_file;
    return bench_pool(pool_name, drivers::postgres_driver::from_config(cfg), 2, 4);
  }

  int server_conns() { return server_.backend_count_for(pg_server::role); }

  void count_conns(run_record& r, const std::string& name, runtime* rt) {
    auto& e = r.add(name, wall_ms());
    e.value = server_conns();
    if (rt)
      e.pool_total = static_cast<double>(stats_of(*rt, pool_name).size);
  }

  /// Shuts the runtime down and records the server's count of the pool's
  /// connections once they are closed (10 s at most).
  void shut_down(run_record& r, runtime& rt) {
    auto before = stats_of(rt, pool_name);
    r.add("pool_created", wall_ms()).value = static_cast<double>(before.created);
    r.add("pool_idle_closed", wall_ms()).value = static_cast<double>(before.idle_closed);
    rt.shutdown();
    auto until = wall_ms() + 10'000;
    int left = server_conns();
    while (left > 0 && wall_ms() < until) {
      pause_for(10); // the server's own pace of ending backends, polled
      left = server_conns();
    }
    r.add("conns_after_shutdown", wall_ms()).value = left;
  }

  void restart(run_record& r, double down_ms) {
    runtime rt;
    rt.add_pool(pool(server_.password_file()));
    wait_for_idle(rt, pool_name, 2);
    r.add("loops_started", wall_ms());
    fixed_rate_clients cs{clients, period_ms, [&rt] { return select_one(rt); }};
    pause_for(steady_ms);
    count_conns(r, "conns_steady", &rt);
    auto offset = log_size(server_.log_path());
    r.add("stop_issued", wall_ms());
    server_.stop_immediate();
    double stop_done = wall_ms();
    r.add("stop_done", stop_done);
    r.add("shutdown_request", stamp(offset, "received immediate shutdown request"));
    r.add("server_down", stamp(offset, "database system is shut down"));
    pause_for(down_ms);
    offset = log_size(server_.log_path());
    r.add("start_issued", wall_ms());
    server_.start();
    r.add("start_done", wall_ms());
    r.add("listen", stamp(offset, "listening on IPv4 address"));
    double ready = stamp(offset, "database system is ready to accept connections");
    r.add("ready", ready);
    bool all = cs.wait_until(
      [&](const auto& last) {
        return std::all_of(last.begin(), last.end(), [&](auto& l) { return l.end > stop_done; });
      },
      ready + stuck_ms);
    double seen = wall_ms();
    r.add("all_ok_seen", seen).value = all;
    pause_until(seen + after_ms);
    count_conns(r, "conns_after", &rt);
    r.ops = cs.stop();
    r.add("loops_stopped", wall_ms());
    shut_down(r, rt);
  }

  void wrongpw(run_record& r) {
    warm_up_driver();
    r.add("driver_warmup_done", wall_ms());
    double t0 = wall_ms();
    r.add("pool_create_start", t0);
    runtime rt;
    rt.add_pool(pool(wrong_password_file_)); // it connects in the background: no throw
    r.add("pool_create_end", wall_ms());
    {
      fixed_rate_clients cs{clients, period_ms, [&rt] { return select_one(rt); }};
      pause_until(t0 + wrongpw_window_ms);
      r.add("window_end", wall_ms());
      r.ops = cs.stop();
    }
    r.add("loops_stopped", wall_ms());
    shut_down(r, rt);
    pause_for(300); // the window's last log lines
    double end = t0 + wrongpw_window_ms;
    auto counted = [&](const std::string& name, const std::string& text) {
      auto c = count_stamped(server_.log_path(), t0, end, text);
      auto& e = r.add(name, wall_ms());
      e.value = c.count;
      e.first = c.first;
      e.last = c.last;
    };
    counted("auth_failed_in_window", "password authentication failed");
    counted("conn_received_in_window", "connection received: host=127.0.0.1");
  }

  void terminate(run_record& r) {
    runtime rt;
    rt.add_pool(pool(server_.password_file()));
    wait_for_idle(rt, pool_name, 2);
    r.add("loops_started", wall_ms());
    fixed_rate_clients cs{clients, period_ms, [&rt] { return select_one(rt); }};
    pause_for(warm_ms);
    count_conns(r, "conns_before", &rt);
    double issued = wall_ms();
    r.add("terminate_issued", issued);
    int n = server_.terminate_backends(pg_server::role);
    double done = wall_ms();
    r.add("terminate_done", done).value = n;
    bool all = cs.wait_until(
      [&](const auto& last) {
        return std::all_of(last.begin(), last.end(), [&](auto& l) { return l.start >= done; });
      },
      done + stuck_ms);
    r.add("all_ok_seen", wall_ms()).value = all;
    pause_for(late_failures_ms); // late failures, if any
    count_conns(r, "conns_after", &rt);
    r.ops = cs.stop();
    r.add("loops_stopped", wall_ms());
    shut_down(r, rt);
    // Each terminated backend logs this FATAL line as it exits: when each died.
    auto kills = count_stamped(server_.log_path(), issued - 1, done + 1000,
                               "terminating connection due to administrator command");
    auto& e = r.add("backend_kills", wall_ms());
    e.value = kills.count;
    e.first = kills.first;
    e.last = kills.last;
  }

  /// One direct connection with the right password first (as the peers do), so
  /// that the first failure's time is not the driver's first use.
  void warm_up_driver() {
    auto d = drivers::postgres_driver::from_config(server_.driver_config());
    auto conn = d->connect("warm-up", 2000ms);
    if (!conn)
      throw std::runtime_error("warm-up connect: " + conn.error().message);
    conn.value()->exec({{"sql", "SELECT 1"}}, 2000ms);
    conn.value()->close(1000ms);
  }

  double stamp(std::size_t offset, const std::string& text) {
    if (auto ms = first_stamp(server_.log_path(), offset, text))
      return *ms;
    throw std::runtime_error("the server log has no \"" + text + "\" line");
  }

  const std::string& version() {
    if (version_.empty())
      version_ = "custodian " CUSTODIAN_VERSION " postgres driver, libpq " +
                 std::to_string(PQlibVersion()) + ", PostgreSQL " +
                 server_.admin_query("SHOW server_version").at(0).at(0);
    return version_;
  }

  pg_server& server_;
  std::string wrong_password_file_;
  std::string version_;
};

int usage() {
  std::cerr << "usage: failover-bench [--runs N] [--scenario restart-1s|restart|restart-30s|"
               "wrongpw|terminate]... [--events DIR]\n";
  return 2;
}

} // namespace

int main(int argc, char** argv) {
  int runs = 3;
  std::vector<std::string> scenarios;
  std::string events_dir;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--runs" && i + 1 < argc)
      runs = std::stoi(argv[++i]);
    else if (arg == "--scenario" && i + 1 < argc)
      scenarios.emplace_back(argv[++i]);
    else if (arg == "--events" && i + 1 < argc)
      events_dir = argv[++i];
    else
      return usage();
  }
  if (scenarios.empty())
    scenarios = {"restart-1s", "restart", "restart-30s", "wrongpw", "terminate"};
  for (const auto& s : scenarios)
    if (s != "restart-1s" && s != "restart" && s != "restart-30s" && s != "wrongpw" &&
        s != "terminate")
      return usage();

  pg_server server;
  scenario_runner runner{server};
  std::map<std::string, std::vector<run_figures>> figures;
  std::map<std::string, run_record> first_of;
  // Interleaved as the peers' runs: a slow minute of the VM spreads over all.
  for (int i = 1; i <= runs; ++i)
    for (const auto& scenario : scenarios) {
      std::fprintf(stderr, "run %d/%d: %s\n", i, runs, scenario.c_str());
      run_record record;
      run_figures f;
      try {
        record = runner.run(scenario, i);
        f = figures_of(record);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "run %d: %s failed: %s\n", i, scenario.c_str(), e.what());
        record.scenario = scenario;
        record.run = i;
        f = run_figures{{{"incomplete", std::string{"yes"}}}, {}};
      }
      if (!events_dir.empty())
        std::ofstream{events_dir + "/custodian." + scenario + ".default.run" + std::to_string(i) +
                      ".jsonl"}
          << to_jsonl(record);
      std::printf("%s\n", run_line(record, f).c_str());
      std::fflush(stdout);
      figures[scenario].push_back(std::move(f));
      first_of.emplace(scenario, record);
    }
  for (const auto& scenario : scenarios)
    for (const auto& line : summary_lines(first_of.at(scenario), figures.at(scenario)))
      std::printf("%s\n", line.c_str());
  const auto& any = first_of.at(scenarios.front());
  std::printf("# custodian default: %s; %s\n", any.version.c_str(), any.settings.c_str());
}
