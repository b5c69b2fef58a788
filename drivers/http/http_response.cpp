#include "drivers/http/http_response.hpp"

#include <algorithm>
#include <cctype>

#include "drivers/text_codec.hpp"

namespace custodian::drivers::http {

namespace {

std::string lower(std::string_view s) {
  std::string out{s};
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

/// A header value as JSON text: servers may send bytes that are not UTF-8.
std::string json_safe(std::string value) {
  if (is_utf8(value))
    return value;
  for (auto& c : value)
    if (static_cast<unsigned char>(c) >= 0x80)
      c = '?';
  return value;
}

} // namespace

bool is_json_media_type(std::string_view content_type) {
  auto type = lower(trimmed(content_type.substr(0, content_type.find(';'))));
  return type == "application/json" ||
         (type.find('/') != std::string::npos && type.ends_with("+json"));
}

std::string scrub(std::string text, std::string_view secret) {
  if (secret.empty())
    return text;
  constexpr std::string_view mark = "<redacted>";
  for (auto at = text.find(secret); at != std::string::npos;
       at = text.find(secret, at + mark.size()))
    text.replace(at, secret.size(), mark);
  return text;
}

nlohmann::json response_json(const response& r, std::string_view secret) {
  auto headers = nlohmann::json::object();
  std::string content_type;
  for (const auto& [name, value] : r.headers) {
    auto key = lower(name);
    auto text = json_safe(scrub(value, secret));
    if (key == "content-type")
      content_type = text;
    auto& slot = headers[key];
    slot = slot.is_string() ? slot.get<std::string>() + ", " + text : text;
  }
  nlohmann::json out{{"status", r.status}, {"headers", std::move(headers)}};
  auto body = scrub(r.body, secret);
  if (is_json_media_type(content_type))
    if (auto parsed = nlohmann::json::parse(body, nullptr, false); !parsed.is_discarded()) {
      out["body"] = std::move(parsed);
      return out;
    }
  if (is_utf8(body))
    out["body"] = std::move(body);
  else
    out["body_base64"] = encode_base64(body);
  return out;
}

} // namespace custodian::drivers::http
