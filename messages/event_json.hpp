#pragma once
// The event as one JSON line: the format of the JSON-lines output, SSE and
// `GET events`:
// {"seq":N,"ts":"RFC3339","kind":"...","pool":"...","resource":"...","from":"...",
//  "to":"...","detail":{...}}

#include <optional>
#include <string>
#include <string_view>

#include <caf/timestamp.hpp>

#include "messages/event.hpp"

namespace custodian {

/// RFC 3339 in UTC with microseconds, e.g. "2026-11-22T11:21:46.123456Z".
std::string to_rfc3339(caf::timestamp ts);

/// Reads what `to_rfc3339` writes: "YYYY-MM-DDTHH:MM:SS[.fraction]Z" (fraction up
/// to nanoseconds); nothing if `text` is not such a time.
std::optional<caf::timestamp> from_rfc3339(std::string_view text);

/// One line of JSON without the trailing newline.
std::string to_json_line(const event& ev);

} // namespace custodian
