#include "actors/record_json.hpp"

#include "drivers/secrets.hpp"
#include "messages/event_json.hpp"

namespace custodian {

nlohmann::json redacted_object(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  return drivers::redact_secrets(j.is_discarded() ? nlohmann::json::object() : std::move(j));
}

nlohmann::json audit_json(const audit_record& record) {
  return {{"seq", record.seq},
          {"ts", to_rfc3339(record.ts)},
          {"requester", record.requester},
          {"action", record.action},
          {"target", record.target},
          {"detail", redacted_object(record.detail)}};
}

} // namespace custodian
