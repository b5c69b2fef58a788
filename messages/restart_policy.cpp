#include "messages/restart_policy.hpp"

namespace custodian {

std::string to_string(restart_type x) {
  switch (x) {
  case restart_type::permanent:
    return "permanent";
  case restart_type::transient:
    return "transient";
  case restart_type::temporary:
    return "temporary";
  }
  return "unknown(" + std::to_string(static_cast<int>(x)) + ")";
}

} // namespace custodian
