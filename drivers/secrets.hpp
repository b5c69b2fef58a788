#pragma once
// Secrets in driver configs never leave the node in clear: logs, events, the API
// and backups see them redacted.

#include <nlohmann/json.hpp>

namespace custodian {

/// `j` with the value of every secret key replaced by "<redacted>", at any depth.
/// Secret keys (case-insensitive): password, passwd, secret, token, api_key,
/// apikey, private_key, credentials, or any ending in _password, _secret, _token
/// or _key.
nlohmann::json redact_secrets(nlohmann::json j);

} // namespace custodian
