#include "drivers/postgres/pg_values.hpp"

#include <array>
#include <charconv>
#include <cstdlib>
#include <utility>

#include "drivers/text_codec.hpp"

namespace custodian::drivers::pg {

namespace {

using json = nlohmann::json;

json integer_or_text(std::string_view text) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size())
    return std::string{text};
  return v;
}

json float_or_text(std::string_view text) {
  // JSON has no NaN or infinities: the server's words stand for them.
  if (text == "NaN" || text == "Infinity" || text == "-Infinity")
    return std::string{text};
  std::string copy{text};
  char* end = nullptr;
  double v = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size())
    return copy;
  return v;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/// The bytes of bytea's hex format ("\x0a1b") or, should a holder have set
/// bytea_output to escape, of its escape format ("a\\\001"); nullopt if neither.
std::optional<std::string> bytea_bytes(std::string_view text) {
  std::string out;
  if (text.starts_with("\\x")) {
    if (text.size() % 2 != 0)
      return std::nullopt;
    for (std::size_t i = 2; i < text.size(); i += 2) {
      int hi = hex_digit(text[i]), lo = hex_digit(text[i + 1]);
      if (hi < 0 || lo < 0)
        return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
    }
    return out;
  }
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\') {
      out.push_back(text[i]);
    } else if (i + 1 < text.size() && text[i + 1] == '\\') {
      out.push_back('\\');
      ++i;
    } else if (i + 3 < text.size() && text[i + 1] >= '0' && text[i + 1] <= '3') {
      int v = 0;
      for (std::size_t k = 1; k <= 3; ++k) {
        if (text[i + k] < '0' || text[i + k] > '7')
          return std::nullopt;
        v = v * 8 + (text[i + k] - '0');
      }
      out.push_back(static_cast<char>(v));
      i += 3;
    } else {
      return std::nullopt;
    }
  }
  return out;
}

/// "+00" as "Z", "+05" as "+05:00", "+05:30" as is; an offset with seconds (old
/// local mean times) has no RFC 3339 form and stays as it is.
std::string with_rfc3339_offset(std::string text, std::size_t time_start) {
  auto sign = text.find_first_of("+-", time_start);
  if (sign == std::string::npos)
    return text;
  auto offset = text.substr(sign);
  if (offset == "+00" || offset == "-00" || offset == "+00:00")
    return text.replace(sign, std::string::npos, "Z");
  if (offset.size() == 3)
    return text + ":00";
  return text;
}

/// "2024-05-01 12:00:00.5+00" as "2024-05-01T12:00:00.5Z". Infinities and
/// dates BC have no RFC 3339 form and stay as the server wrote them.
std::string timestamp_text(std::string_view text, bool with_zone) {
  std::string out{text};
  if (out.size() < 19 || out[10] != ' ' || out.ends_with(" BC"))
    return out;
  out[10] = 'T';
  return with_zone ? with_rfc3339_offset(std::move(out), 11) : out;
}

} // namespace

std::optional<std::string> param_text(const json& value) {
  if (value.is_null())
    return std::nullopt;
  if (value.is_string())
    return value.get<std::string>();
  return value.dump();
}

json field_value(Oid type, std::string_view text) {
  switch (type) {
  case type_oid::boolean:
    return text == "t";
  case type_oid::int2:
  case type_oid::int4:
  case type_oid::int8:
  case type_oid::oid:
    return integer_or_text(text);
  case type_oid::float4:
  case type_oid::float8:
    return float_or_text(text);
  case type_oid::json:
  case type_oid::jsonb: {
    auto parsed = json::parse(text, nullptr, false);
    return parsed.is_discarded() ? json(std::string{text}) : parsed;
  }
  case type_oid::bytea:
    if (auto bytes = bytea_bytes(text))
      return encode_base64(*bytes);
    return std::string{text};
  case type_oid::timestamp:
    return timestamp_text(text, false);
  case type_oid::timestamptz:
    return timestamp_text(text, true);
  case type_oid::timetz:
    return with_rfc3339_offset(std::string{text}, 0);
  default:
    // numeric, text, varchar, date, time, uuid, interval, ...: their text is their value.
    return std::string{text};
  }
}

std::string type_name(Oid type) {
  static constexpr std::array<std::pair<Oid, const char*>, 23> names{{
    {type_oid::boolean, "bool"},
    {type_oid::bytea, "bytea"},
    {type_oid::character, "char"},
    {type_oid::name, "name"},
    {type_oid::int8, "int8"},
    {type_oid::int2, "int2"},
    {type_oid::int4, "int4"},
    {type_oid::text, "text"},
    {type_oid::oid, "oid"},
    {type_oid::json, "json"},
    {type_oid::float4, "float4"},
    {type_oid::float8, "float8"},
    {type_oid::bpchar, "bpchar"},
    {type_oid::varchar, "varchar"},
    {type_oid::date, "date"},
    {type_oid::time, "time"},
    {type_oid::timestamp, "timestamp"},
    {type_oid::timestamptz, "timestamptz"},
    {type_oid::interval, "interval"},
    {type_oid::timetz, "timetz"},
    {type_oid::numeric, "numeric"},
    {type_oid::uuid, "uuid"},
    {type_oid::jsonb, "jsonb"},
  }};
  for (const auto& [oid, name] : names)
    if (oid == type)
      return name;
  return std::to_string(type);
}

} // namespace custodian::drivers::pg
