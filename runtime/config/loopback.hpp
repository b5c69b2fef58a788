#pragma once
// Whether a host names this machine only: the config refuses a public bind
// without a token, and the admin server checks the same before it listens.

#include <string>

namespace custodian {

/// True for 127.0.0.0/8, ::1 and "localhost".
bool is_loopback(const std::string& host);

} // namespace custodian
