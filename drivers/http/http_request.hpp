#pragma once
// The request of an http exec, {"method", "path", "headers", "body" |
// "body_base64"}, checked whole like a config (every problem at its JSON path),
// and the checks of its parts that the driver_config shares (health_path, the
// default headers).

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "drivers/driver.hpp"

namespace custodian::drivers::http {

/// Header names and values in the order they are sent.
using header_list = std::vector<std::pair<std::string, std::string>>;

struct request {
  std::string method = "GET";
  /// Relative to base_url, with its query: "/orders?limit=10".
  std::string path = "/";
  header_list headers;
  /// The bytes to send; none for a request without a body.
  std::optional<std::string> body;
  /// Sent as Content-Type when `headers` has none: application/json for a JSON
  /// body, text/plain for a string, application/octet-stream for base64.
  std::string body_type;
};

/// Why `method` is not one the driver sends ("" when it is): an upper-case token;
/// not TRACE (it echoes the request, bearer token included) nor CONNECT.
std::string method_problem(const std::string& method);

/// Why `path` cannot follow base_url: it must start with one "/" (so that it can
/// never name another host), hold no spaces, control characters or fragment, and
/// no "." or ".." segment (which would climb out of base_url's path).
std::string path_problem(const std::string& path);

/// Why `name` is not a header the driver sends: an HTTP token, and neither
/// Content-Length nor Transfer-Encoding (set from the body).
std::string header_name_problem(std::string_view name);

/// Why `value` cannot be sent as a header value: no line breaks or NUL (they
/// would inject headers).
std::string header_value_problem(const std::string& value);

/// Whether two header names are the same (they are case-insensitive).
bool same_header_name(std::string_view a, std::string_view b);

/// `base` with each header of `over` replacing the one of the same name, or added.
header_list merge_headers(header_list base, const header_list& over);

/// The request of an exec; `rejected` naming every problem of it.
driver_result<request> parse_request(const nlohmann::json& exec_request);

} // namespace custodian::drivers::http
