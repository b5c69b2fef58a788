#pragma once
// Values between JSON and PostgreSQL's text format: a parameter as the text the
// server parses, a result field as JSON typed by its column's type OID. The
// session runs with DateStyle ISO, TimeZone UTC and bytea_output hex, so that the
// text of dates, times and bytes has one shape to read.

#include <optional>
#include <postgres_ext.h>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace custodian::drivers::pg {

/// The built-in types the decoder knows (pg_type.oid; stable across versions).
namespace type_oid {
inline constexpr Oid boolean = 16;
inline constexpr Oid bytea = 17;
inline constexpr Oid character = 18;
inline constexpr Oid name = 19;
inline constexpr Oid int8 = 20;
inline constexpr Oid int2 = 21;
inline constexpr Oid int4 = 23;
inline constexpr Oid text = 25;
inline constexpr Oid oid = 26;
inline constexpr Oid json = 114;
inline constexpr Oid float4 = 700;
inline constexpr Oid float8 = 701;
inline constexpr Oid bpchar = 1042;
inline constexpr Oid varchar = 1043;
inline constexpr Oid date = 1082;
inline constexpr Oid time = 1083;
inline constexpr Oid timestamp = 1114;
inline constexpr Oid timestamptz = 1184;
inline constexpr Oid interval = 1186;
inline constexpr Oid timetz = 1266;
inline constexpr Oid numeric = 1700;
inline constexpr Oid uuid = 2950;
inline constexpr Oid jsonb = 3802;
} // namespace type_oid

/// A JSON parameter as the text the server parses: null is SQL NULL (nullopt),
/// a string is itself, a number or a boolean its JSON text, an object or an
/// array its JSON text (for json/jsonb parameters).
std::optional<std::string> param_text(const nlohmann::json& value);

/// A field in text format as JSON, by its column's type: bool; int2/4/8 and oid as
/// integers; float4/8 as numbers (NaN and ±Infinity as strings); numeric as a
/// string (no precision lost); json/jsonb parsed; bytea as base64; timestamp,
/// timestamptz, date, time and timetz as RFC 3339 ("2024-05-01T12:00:00Z"; a
/// timestamp without time zone has no offset); anything else as its text.
nlohmann::json field_value(Oid type, std::string_view text);

/// The type's name for the types above ("int4", "timestamptz"), else its OID in
/// decimal.
std::string type_name(Oid type);

} // namespace custodian::drivers::pg
