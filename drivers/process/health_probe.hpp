#pragma once
// The process driver's own health check of a running child, beyond "it is
// alive": a command that must exit 0, or a TCP port on 127.0.0.1 that must
// accept a connection, each within the probe's deadline.

#include <cstdint>

#include "drivers/deadline.hpp"
#include "drivers/driver.hpp"
#include "drivers/process/child_process.hpp"

namespace custodian::drivers {

/// Runs `command` (stdin and stdout on /dev/null): healthy when it exits 0;
/// `unavailable` with its exit status otherwise, `timeout` when it has not ended
/// by the deadline (it is killed and reaped, with its group).
driver_status run_health_command(const spawn_spec& command, const deadline& until);

/// Healthy when 127.0.0.1:`port` accepts a connection (closed at once);
/// `unavailable` when it refuses, `timeout` when it does not answer in time.
driver_status probe_tcp_port(uint16_t port, const deadline& until);

} // namespace custodian::drivers
