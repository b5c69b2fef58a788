#include "drivers/redis/redis_errors.hpp"

#include <initializer_list>

namespace custodian::drivers {

namespace {

bool starts_with_any(std::string_view text, std::initializer_list<std::string_view> prefixes) {
  for (auto p : prefixes)
    if (text.starts_with(p))
      return true;
  return false;
}

} // namespace

driver_errc class_of_error_reply(std::string_view text) {
  // Redis before 6 answered a wrong password with "ERR invalid password", 6.0 with
  // "ERR invalid username-password pair"; an AUTH where no password is set with
  // "ERR AUTH <password> called without any password configured".
  if (starts_with_any(text, {"NOAUTH", "WRONGPASS", "DENIED", "ERR invalid password",
                             "ERR invalid username-password", "ERR AUTH "}))
    return driver_errc::auth;
  if (starts_with_any(text, {"LOADING", "MASTERDOWN", "BUSY ", "ERR max number of clients"}))
    return driver_errc::unavailable;
  if (text.starts_with("READONLY"))
    return driver_errc::read_only;
  return driver_errc::rejected;
}

} // namespace custodian::drivers
