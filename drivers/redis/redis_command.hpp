#pragma once
// An exec request, {"command": ["SET", "k", "v"]}, as the arguments sent to the
// server, and the commands exec does not send.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "drivers/driver.hpp"

namespace custodian::drivers {

/// The arguments of an exec request: strings as they are (binary-safe), numbers as
/// their decimal text. `rejected` naming the path of every problem.
driver_result<std::vector<std::string>> command_of(const nlohmann::json& request);

/// The command's name in capitals, with the subcommand of a container command
/// ("CLIENT TRACKING", "GET"): what messages name (never the arguments, which may
/// hold a secret: AUTH, CONFIG SET requirepass).
std::string command_name(const std::vector<std::string>& argv);

/// Why exec does not send `argv`, or empty. Refused: commands after which the
/// server no longer answers one reply per command (SUBSCRIBE, MONITOR, CLIENT
/// REPLY, SYNC), that switch the protocol hiredis 0.14 cannot read (HELLO), or that
/// take the connection's lifecycle from the pool (QUIT, RESET).
std::string refusal_of(const std::vector<std::string>& argv);

} // namespace custodian::drivers
