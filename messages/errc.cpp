#include "messages/errc.hpp"

namespace custodian {

std::string to_string(errc code) {
  switch (code) {
  case errc::invalid_transition:
    return "invalid_transition";
  case errc::timeout:
    return "timeout";
  case errc::driver_error:
    return "driver_error";
  case errc::unavailable:
    return "unavailable";
  case errc::not_found:
    return "not_found";
  case errc::bad_config:
    return "bad_config";
  case errc::bad_request:
    return "bad_request";
  case errc::dependency_unavailable:
    return "dependency_unavailable";
  case errc::conflict:
    return "conflict";
  case errc::store_error:
    return "store_error";
  case errc::leased:
    return "leased";
  }
  return "unknown(" + std::to_string(static_cast<int>(code)) + ")";
}

} // namespace custodian
