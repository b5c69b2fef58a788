#pragma once
// Secrets in driver configs never leave the node: logs, events, the API and
// backups show a redacted copy.

#include <string_view>

#include <nlohmann/json.hpp>

namespace custodian::drivers {

/// Whether a key names a secret: password, passwd, secret, token, api_key, apikey,
/// private_key, credentials, or a name ending in _password, _secret, _token, _key
/// or _pem (any case; '.' and '-' count as '_', so "sasl.password" and
/// "ssl.key.pem" are secrets). `*_env` and `*_file` keys name where a secret is
/// read from and are not secrets.
bool is_secret_key(std::string_view key);

/// `j` with the value of every secret key, at any depth, replaced by "<redacted>".
nlohmann::json redact_secrets(nlohmann::json j);

} // namespace custodian::drivers
