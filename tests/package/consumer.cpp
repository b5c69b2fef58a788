// Brings a simulated resource to ready through an installed Custodian; exits 0 if
// it got there and every connection was closed at shutdown.
#include <caf/all.hpp>

#include "drivers/sim/sim_driver.hpp"
#include "runtime/runtime.hpp"

int main() {
  auto sim = std::make_shared<custodian::drivers::sim_driver>();
  custodian::runtime rt;
  custodian::resource_config cfg;
  cfg.id = "consumer-1";
  cfg.driver = sim;
  auto res = rt.add_resource(cfg);
  bool ready = false;
  {
    caf::scoped_actor self{rt.system()};
    self->request(res, std::chrono::seconds{30}, custodian::initialize_atom::value)
      .receive(
        [&](custodian::lifecycle_state s) { ready = s == custodian::lifecycle_state::ready; },
        [](caf::error&) {});
  }
  rt.shutdown();
  return ready && sim->open_connections() == 0 ? 0 : 1;
}
