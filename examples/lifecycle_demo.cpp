// Drives four simulated resources through their whole lifecycle — retries, a
// connect timeout and its recovery, a broken connection and its recovery,
// maintenance, drain — and prints every event as a JSON line on stdout.
// Narration goes to stderr, so `lifecycle_demo | jq .` sees JSON only.
//
// usage: lifecycle_demo [SIM_DRIVER_CONFIG]   (default conf/lifecycle_demo.json)
// The file is a sim driver_config scripting the faults of orders-db-1,
// orders-db-2, cache-1 and broker-1; edit it to inject other faults.

#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>

#include <caf/all.hpp>

#include "drivers/sim/sim_driver.hpp"
#include "messages/errors.hpp"
#include "messages/event_json.hpp"
#include "runtime/runtime.hpp"

using namespace custodian;
using namespace std::chrono_literals;

namespace {

constexpr auto bound = std::chrono::seconds{30};

void say(const std::string& text) {
  std::cerr << "# " << text << std::endl;
}

/// Sends one request and waits for its reply; prints an error reply instead of
/// failing, since the demo injects faults on purpose.
template <class T, class Handle, class... Ts>
void step(caf::scoped_actor& self, const std::string& what, const Handle& dest, Ts&&... xs) {
  self->request(dest, bound, std::forward<Ts>(xs)...)
    .receive([&](const T&) { say(what + ": ok"); },
             [&](const caf::error& err) { say(what + ": " + describe(err)); });
}

resource_config config(std::shared_ptr<drivers::sim_driver> sim, std::string id) {
  resource_config c;
  c.id = std::move(id);
  c.pool = c.id.substr(0, c.id.rfind('-'));
  c.driver = std::move(sim);
  c.init.timeout = 200ms;
  c.init.backoff = backoff_policy{50ms, 400ms, 0.2};
  return c;
}

std::shared_ptr<drivers::sim_driver> load_sim(const std::string& path) {
  std::ifstream in{path};
  if (!in)
    throw std::invalid_argument(path + ": cannot open");
  auto j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded())
    throw std::invalid_argument(path + ": not valid JSON");
  return drivers::sim_driver::from_config(j);
}

} // namespace

int main(int argc, char** argv) {
  std::shared_ptr<drivers::sim_driver> sim;
  try {
    sim = load_sim(argc > 1 ? argv[1] : "conf/lifecycle_demo.json");
  } catch (const std::invalid_argument& ex) {
    std::cerr << "lifecycle_demo: " << ex.what() << std::endl;
    return 2;
  }
  runtime rt;
  rt.on_events(event_filter{}, [](const event_batch& batch) {
    for (const auto& ev : batch.events)
      std::cout << to_json_line(ev) << '\n';
    std::cout.flush();
  });

  auto db1 = rt.add_resource(config(sim, "orders-db-1"));
  auto db2 = rt.add_resource(config(sim, "orders-db-2"));
  auto cache = rt.add_resource(config(sim, "cache-1"));
  auto broker = rt.add_resource(config(sim, "broker-1"));
  {
    caf::scoped_actor self{rt.system()};
    using s = lifecycle_state;
    step<s>(self, "orders-db-1 initialize", db1, initialize_atom::value);
    step<s>(self, "orders-db-2 initialize", db2, initialize_atom::value);
    step<s>(self, "cache-1 initialize", cache, initialize_atom::value);
    say("cache-1: whatever hung is fixed; recovering");
    sim->set_script("cache-1", drivers::sim_script{});
    sim->release_hangs();
    step<s>(self, "cache-1 recover", cache, initialize_atom::value);

    step<s>(self, "orders-db-1 acquire", db1, acquire_atom::value);
    step<std::string>(self, "orders-db-1 exec", db1, exec_atom::value,
                      std::string{R"({"sql":"select 1"})"});
    step<s>(self, "orders-db-1 release", db1, release_atom::value);
    step<s>(self, "orders-db-1 maintain", db1, maintain_atom::value);

    step<s>(self, "broker-1 initialize", broker, initialize_atom::value);
    step<s>(self, "broker-1 acquire", broker, acquire_atom::value);
    step<std::string>(self, "broker-1 exec", broker, exec_atom::value, std::string{"{}"});
    step<std::string>(self, "broker-1 exec again", broker, exec_atom::value, std::string{"{}"});
    step<s>(self, "broker-1 recover (if it failed)", broker, initialize_atom::value);
    step<s>(self, "orders-db-1 release again (invalid in ready: refused, nothing changes)", db1,
            release_atom::value);
  }
  auto report = rt.shutdown();
  say("shutdown: " + std::to_string(report.drained) + " drained, " + std::to_string(report.forced) +
      " stopped; connections opened " + std::to_string(sim->counters().opens) + ", closed " +
      std::to_string(sim->counters().closes));
  return sim->open_connections() == 0 ? 0 : 1;
}
