#include "drivers/secrets.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

namespace custodian::drivers {

bool is_secret_key(std::string_view key) {
  // Dotted and dashed names (a client library's "sasl.password") read as snake case.
  std::string k{key};
  std::transform(k.begin(), k.end(), k.begin(), [](unsigned char c) {
    return c == '.' || c == '-' ? '_' : static_cast<char>(std::tolower(c));
  });
  constexpr std::array<std::string_view, 8> names{
    "password", "passwd", "secret", "token", "api_key", "apikey", "private_key", "credentials"};
  constexpr std::array<std::string_view, 5> suffixes{"_password", "_secret", "_token", "_key",
                                                     "_pem"};
  return std::find(names.begin(), names.end(), k) != names.end() ||
         std::any_of(suffixes.begin(), suffixes.end(),
                     [&](std::string_view s) { return k.ends_with(s); });
}

nlohmann::json redact_secrets(nlohmann::json j) {
  if (j.is_object()) {
    for (auto& [key, value] : j.items())
      value = is_secret_key(key) ? nlohmann::json("<redacted>") : redact_secrets(std::move(value));
  } else if (j.is_array()) {
    for (auto& value : j)
      value = redact_secrets(std::move(value));
  }
  return j;
}

} // namespace custodian::drivers
