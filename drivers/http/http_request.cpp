#include "drivers/http/http_request.hpp"

#include <algorithm>
#include <cctype>

#include "drivers/config_schema.hpp"
#include "drivers/text_codec.hpp"

namespace custodian::drivers::http {

namespace {

bool is_token_char(unsigned char c) {
  return std::isalnum(c) ||
         std::string_view{"!#$%&'*+-.^_`|~"}.find(static_cast<char>(c)) != std::string_view::npos;
}

std::string base64_problem(const std::string& text) {
  return decode_base64(text) ? std::string{} : "must be standard base64 (with padding)";
}

/// The shape of an exec request; "body" is any JSON value (see parse_request).
const schema::field& request_schema() {
  static const schema::field shape = schema::object(
    "", {schema::text("method", "GET", method_problem), schema::text("path", "/", path_problem),
         schema::map("headers", schema::text("", "", header_value_problem)),
         schema::make("body", schema::kind::any_object),
         schema::text("body_base64", "", base64_problem)});
  return shape;
}

std::string describe(const std::vector<config_problem>& problems) {
  std::string out = "invalid http request: ";
  for (std::size_t i = 0; i < problems.size(); ++i)
    out += (i ? "; " : "") + (problems[i].path.empty() ? "" : problems[i].path + ": ") +
           problems[i].message;
  return out;
}

} // namespace

std::string method_problem(const std::string& method) {
  bool upper_token =
    !method.empty() && method.size() <= 20 &&
    std::all_of(method.begin(), method.end(), [](unsigned char c) { return std::isupper(c) != 0; });
  if (!upper_token)
    return "must be an HTTP method in upper case (GET, POST, PUT, PATCH, DELETE, HEAD, ...)";
  if (method == "TRACE")
    return "TRACE is not sent: it echoes the request, credentials included";
  if (method == "CONNECT")
    return "CONNECT is not sent: it opens a tunnel to another host";
  return {};
}

std::string path_problem(const std::string& path) {
  if (!path.starts_with('/') || path.starts_with("//"))
    return "must start with a single \"/\" (a path under base_url, not a URL)";
  if (std::any_of(path.begin(), path.end(), [](unsigned char c) { return c <= 0x20 || c == 0x7f; }))
    return "must be URL-encoded (no spaces or control characters)";
  if (path.find('#') != std::string::npos)
    return "must not have a fragment (#...)";
  auto segments = std::string_view{path}.substr(0, path.find('?'));
  for (std::size_t start = 0; start != std::string_view::npos;) {
    auto end = segments.find('/', start + 1);
    auto segment =
      segments.substr(start + 1, end == std::string_view::npos ? end : end - start - 1);
    if (segment == "." || segment == "..")
      return "must not have \".\" or \"..\" segments";
    start = end;
  }
  return {};
}

std::string header_name_problem(std::string_view name) {
  if (name.empty() ||
      !std::all_of(name.begin(), name.end(), [](unsigned char c) { return is_token_char(c); }))
    return "must be a header name (letters, digits and !#$%&'*+-.^_`|~)";
  if (same_header_name(name, "Content-Length") || same_header_name(name, "Transfer-Encoding"))
    return "is set by the driver from the body";
  return {};
}

std::string header_value_problem(const std::string& value) {
  if (value.find_first_of(std::string_view{"\r\n\0", 3}) != std::string::npos)
    return "must not contain line breaks or NUL";
  return {};
}

bool same_header_name(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](unsigned char x, unsigned char y) {
    return std::tolower(x) == std::tolower(y);
  });
}

header_list merge_headers(header_list base, const header_list& over) {
  for (const auto& [name, value] : over) {
    auto same = std::find_if(base.begin(), base.end(),
                             [&](const auto& h) { return same_header_name(h.first, name); });
    if (same != base.end())
      same->second = value;
    else
      base.emplace_back(name, value);
  }
  return base;
}

driver_result<request> parse_request(const nlohmann::json& exec_request) {
  // The schema knows "body" as a key; any JSON value is a body, so only its
  // presence is checked there.
  auto shape = exec_request;
  if (shape.is_object() && shape.contains("body"))
    shape["body"] = nlohmann::json::object();
  auto problems = schema::problems_of(shape, request_schema());
  if (shape.is_object()) {
    if (shape.contains("body") && shape.contains("body_base64"))
      problems.push_back({"body_base64", "only one of body, body_base64 may be set"});
    if (auto h = shape.find("headers"); h != shape.end() && h->is_object())
      for (const auto& item : h->items())
        if (auto why = header_name_problem(item.key()); !why.empty())
          problems.push_back({schema::join("headers", item.key()), why});
  }
  if (!problems.empty())
    return driver_error{driver_errc::rejected, describe(problems)};

  auto full = schema::canonical(exec_request, request_schema());
  request r;
  r.method = full["method"].get<std::string>();
  r.path = full["path"].get<std::string>();
  for (const auto& item : full["headers"].items())
    r.headers.emplace_back(item.key(), item.value().get<std::string>());
  const auto& body = full["body"];
  if (body.is_string()) {
    r.body = body.get<std::string>();
    r.body_type = "text/plain; charset=utf-8";
  } else if (!body.is_null()) {
    r.body = body.dump();
    r.body_type = "application/json";
  } else if (exec_request.contains("body_base64")) {
    r.body = decode_base64(full["body_base64"].get<std::string>());
    r.body_type = "application/octet-stream";
  }
  return r;
}

} // namespace custodian::drivers::http
