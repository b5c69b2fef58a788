#pragma once
// Where a driver finds a credential (a password, a token): an environment
// variable, a file, or a callback the embedding application gives. It is read at
// every connect, so a rotated secret is used by the next connection without a
// reload. Its value never appears in a message: errors name the variable or file.

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "drivers/config_schema.hpp"
#include "drivers/driver.hpp"

namespace custodian::drivers {

class secret_source {
public:
  /// A callback of the embedding application: returns the secret, or throws.
  using provider = std::function<std::string()>;

  /// No secret: resolve() gives an empty string.
  secret_source() = default;

  static secret_source from_env(std::string variable);
  static secret_source from_file(std::string path);
  static secret_source from_provider(provider fn);
  /// A secret written in the config itself (discouraged; redacted everywhere).
  static secret_source from_value(std::string value);

  /// Reads `<key>`, `<key>_env` or `<key>_file` of a driver_config, at most one of
  /// them (`problems_of` checks that).
  static secret_source from_config(const nlohmann::json& driver_config, std::string_view key);
  /// "password, password_env and password_file are exclusive" when more than one is set.
  static std::vector<config_problem> problems_of(const nlohmann::json& driver_config,
                                                 std::string_view key);

  bool empty() const noexcept { return kind_ == kind::none; }

  /// The secret now; `auth` naming the source when it cannot be read. A file's
  /// trailing newline is dropped.
  driver_result<std::string> resolve() const;

  /// Where it comes from, for messages: "environment variable PGPASSWORD",
  /// "file /run/secrets/pg", "the application's provider", "the config", "none".
  std::string describe() const;

private:
  enum class kind : uint8_t { none, env, file, provider, value };
  kind kind_ = kind::none;
  std::string where_; ///< the variable's name or the file's path
  std::shared_ptr<const std::string> value_;
  provider provider_;
};

} // namespace custodian::drivers
