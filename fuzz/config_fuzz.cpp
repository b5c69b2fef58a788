// libFuzzer target: parse_node_config on arbitrary bytes must never crash, hang
// or break its contract: exactly one of config and problems; every accepted
// pool's canonical form validates with no problems and is its own canonical form.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "runtime/config/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  static const auto drivers = custodian::drivers::builtin_drivers();
  auto result = custodian::parse_node_config(
    std::string_view{reinterpret_cast<const char*>(data), size}, drivers);
  if (result.config.has_value() == !result.problems.empty())
    std::abort();
  if (!result.config)
    return 0;
  for (const auto& pool : result.config->pools) {
    if (!custodian::validate_pool_config(pool, "", drivers).empty())
      std::abort();
    if (custodian::canonical_pool_config(pool) != pool)
      std::abort();
  }
  return 0;
}
