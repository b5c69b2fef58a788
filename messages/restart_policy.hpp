#pragma once
// How a supervisor restarts (OTP's vocabulary): which children when one ends, and
// whether a child comes back at all.

#include <cstdint>
#include <string>

namespace custodian {

enum class restart_strategy : uint8_t {
  one_for_one,  ///< only the child that ended
  one_for_all,  ///< every child
  rest_for_one, ///< the child that ended and every child started after it
};

enum class restart_type : uint8_t {
  permanent, ///< always restarted
  transient, ///< restarted only after an abnormal end
  temporary, ///< never restarted
};

std::string to_string(restart_type x);

} // namespace custodian
