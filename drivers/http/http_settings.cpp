#include "drivers/http/http_settings.hpp"

#include <curl/curl.h>
#include <memory>
#include <optional>

namespace custodian::drivers {

namespace {

using json = nlohmann::json;

/// What the driver needs of base_url, as curl's own URL parser reads it (so
/// that the host is the one curl will connect to: 2130706433 is 127.0.0.1).
struct url_parts {
  std::string scheme;
  std::string host;
  std::string normalized;
  bool has_credentials = false;
  bool has_query_or_fragment = false;
};

std::optional<std::string> part(CURLU* url, CURLUPart which) {
  char* text = nullptr;
  if (curl_url_get(url, which, &text, 0) != CURLUE_OK)
    return std::nullopt;
  std::string out{text};
  curl_free(text);
  return out;
}

std::optional<url_parts> parse_url(const std::string& text) {
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> url{curl_url(), curl_url_cleanup};
  if (!url || curl_url_set(url.get(), CURLUPART_URL, text.c_str(), 0) != CURLUE_OK)
    return std::nullopt;
  url_parts p;
  p.scheme = part(url.get(), CURLUPART_SCHEME).value_or("");
  p.host = part(url.get(), CURLUPART_HOST).value_or("");
  p.normalized = part(url.get(), CURLUPART_URL).value_or("");
  p.has_credentials =
    part(url.get(), CURLUPART_USER).has_value() || part(url.get(), CURLUPART_PASSWORD).has_value();
  p.has_query_or_fragment =
    part(url.get(), CURLUPART_QUERY).has_value() || part(url.get(), CURLUPART_FRAGMENT).has_value();
  return p;
}

std::string base_url_problem(const std::string& text) {
  auto url = parse_url(text);
  if (!url || url->host.empty() || (url->scheme != "http" && url->scheme != "https"))
    return "must be an http or https URL (\"http://host:port/prefix\")";
  if (url->has_credentials)
    return "must not hold credentials (use bearer_token_env or bearer_token_file)";
  if (url->has_query_or_fragment)
    return "must not have a query or fragment (put them in each request's path)";
  return {};
}

std::string env_variable_problem(const std::string& name) {
  if (auto why = schema::non_empty_problem(name); !why.empty())
    return why;
  return schema::env_name_problem(name);
}

const schema::field& http_schema() {
  static const schema::field shape = schema::object(
    "", {schema::required(schema::text("base_url", "", base_url_problem)),
         schema::text("health_path", "/", http::path_problem),
         schema::integer("timeout_ms", 30'000, 1, schema::max_ms),
         schema::integer("connect_timeout_ms", 5'000, 1, schema::max_ms),
         schema::map("headers", schema::text("", "", http::header_value_problem)),
         schema::text("bearer_token_env", "", env_variable_problem),
         schema::text("bearer_token_file", "", schema::non_empty_problem),
         schema::integer("max_redirects", 3, 0, 50),
         schema::integer("max_response_bytes", 8 << 20, 1, 1 << 30),
         schema::boolean("allow_private_networks", false),
         schema::list("allow_private_addresses", {schema::text("", "", address_range_problem)}),
         schema::text("ca_file", "", schema::non_empty_problem)});
  return shape;
}

/// The address policy of a driver_config, from its valid parts.
address_policy policy_of(const json& cfg) {
  auto flag = cfg.find("allow_private_networks");
  bool allow_all = flag != cfg.end() && flag->is_boolean() && flag->get<bool>();
  std::vector<address_range> allowed;
  if (auto list = cfg.find("allow_private_addresses"); list != cfg.end() && list->is_array())
    for (const auto& item : *list)
      if (item.is_string())
        if (auto range = address_range::parse(item.get<std::string>()))
          allowed.push_back(*range);
  return {allow_all, std::move(allowed)};
}

} // namespace

std::vector<config_problem> http_config_problems(const json& cfg) {
  auto problems = schema::problems_of(cfg, http_schema());
  if (!cfg.is_object())
    return problems;
  for (auto& p : secret_source::problems_of(cfg, "bearer_token"))
    problems.push_back(std::move(p));
  if (auto headers = cfg.find("headers"); headers != cfg.end() && headers->is_object())
    for (const auto& item : headers->items()) {
      auto why = http::same_header_name(item.key(), "Authorization")
                   ? "use bearer_token_env or bearer_token_file (a header's value is not "
                     "kept secret)"
                   : http::header_name_problem(item.key());
      if (!why.empty())
        problems.push_back({schema::join("headers", item.key()), why});
    }
  // A literal address is judged now; a name is judged at every connect, once resolved.
  if (auto base = cfg.find("base_url"); base != cfg.end() && base->is_string())
    if (auto url = parse_url(base->get<std::string>()))
      if (auto address = ip_address::parse(url->host))
        if (auto why = policy_of(cfg).refusal(*address); !why.empty())
          problems.push_back({"base_url", why});
  return problems;
}

http_settings read_http_settings(const json& cfg) {
  auto full = schema::canonical(cfg, http_schema());
  http_settings s;
  auto base = parse_url(full["base_url"].get<std::string>())->normalized;
  while (base.ends_with('/'))
    base.pop_back();
  s.base_url = base;
  s.health_path = full["health_path"].get<std::string>();
  s.timeout = millis{full["timeout_ms"].get<int64_t>()};
  s.connect_timeout = millis{full["connect_timeout_ms"].get<int64_t>()};
  for (const auto& item : full["headers"].items())
    s.headers.emplace_back(item.key(), item.value().get<std::string>());
  s.bearer_token = secret_source::from_config(cfg, "bearer_token");
  s.max_redirects = full["max_redirects"].get<long>();
  s.max_response_bytes = full["max_response_bytes"].get<int64_t>();
  s.policy = policy_of(full);
  s.ca_file = full["ca_file"].get<std::string>();
  return s;
}

} // namespace custodian::drivers
