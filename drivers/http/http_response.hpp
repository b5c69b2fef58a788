#pragma once
// The answer of an http exec as JSON: {"status", "headers", "body" |
// "body_base64"}. Header names in lower case, a repeated header's values joined
// with ", "; the body parsed when the server says it is JSON, else text when it
// is UTF-8, else base64.

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "drivers/http/http_request.hpp"

namespace custodian::drivers::http {

struct response {
  long status = 0;
  header_list headers;
  std::string body;
};

/// Whether a Content-Type names JSON: application/json or any */*+json.
bool is_json_media_type(std::string_view content_type);

/// `text` with every occurrence of `secret` replaced by "<redacted>" (a no-op for
/// an empty secret): a server that echoes the request must not hand the bearer
/// token to whoever runs the exec.
std::string scrub(std::string text, std::string_view secret);

/// The JSON of `r`, with `secret` scrubbed from its headers and body.
nlohmann::json response_json(const response& r, std::string_view secret);

} // namespace custodian::drivers::http
