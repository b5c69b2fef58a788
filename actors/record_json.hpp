#pragma once
// The JSON of the state store's records where more than one reader shows them
// (the backup document and GET audit): one shape, secrets always redacted.

#include <string>

#include <nlohmann/json.hpp>

#include "messages/store_messages.hpp"

namespace custodian {

/// A config or detail as stored (a JSON object as text), its secrets redacted;
/// text that is not JSON shows as {}.
nlohmann::json redacted_object(const std::string& text);

/// {"seq", "ts" (RFC 3339), "requester", "action", "target", "detail" (redacted)}.
nlohmann::json audit_json(const audit_record& record);

} // namespace custodian
