#pragma once
// A Redis reply as JSON, typed so that a caller can tell every kind apart:
//   bulk string  -> "text"                 (valid UTF-8)
//                   {"base64": "..."}      (any other bytes: binary-safe)
//   status       -> {"status": "OK"}
//   integer      -> 42
//   nil          -> null
//   array        -> [...]                  (of the same shapes)
//   error        -> {"error": "WRONGTYPE ..."} (inside an array, as EXEC answers;
//                   a top-level error is an exec failure instead)

#include <hiredis/hiredis.h>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace custodian::drivers {

nlohmann::json reply_to_json(const redisReply& reply);

/// `bytes` if it is valid UTF-8, else with every non-ASCII byte as '?': a server's
/// status or error text that may quote a request's bytes, made safe for JSON.
std::string safe_text(std::string_view bytes);

} // namespace custodian::drivers
