#pragma once
// How the http driver carries bodies in JSON: text when it is UTF-8 (JSON strings
// must be), base64 otherwise.

#include <optional>
#include <string>
#include <string_view>

namespace custodian::drivers::http {

/// Whether `bytes` is well-formed UTF-8 (no overlong forms, no surrogates).
bool is_utf8(std::string_view bytes);

/// Standard base64 (RFC 4648) with padding.
std::string encode_base64(std::string_view bytes);

/// The bytes of standard base64 (padding required, no whitespace); nullopt when
/// `text` is not base64.
std::optional<std::string> decode_base64(std::string_view text);

} // namespace custodian::drivers::http
