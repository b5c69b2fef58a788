#pragma once
// What an error reply of the server says about the connection. Its text starts
// with a code ("WRONGTYPE Operation against a key ...", "ERR unknown command").

#include <string_view>

#include "drivers/driver.hpp"

namespace custodian::drivers {

/// auth: NOAUTH, WRONGPASS, an invalid password, DENIED (protected mode);
/// unavailable: LOADING, MASTERDOWN, BUSY (a script runs), max clients reached;
/// read_only: READONLY (a replica); rejected: anything else (the request was wrong,
/// the connection is fine).
driver_errc class_of_error_reply(std::string_view text);

} // namespace custodian::drivers
