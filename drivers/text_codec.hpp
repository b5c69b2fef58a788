#pragma once
// How drivers carry bytes in JSON: as text when they are UTF-8 (JSON strings must
// be), as base64 otherwise (a response body, a binary reply, a bytea value).

#include <optional>
#include <string>
#include <string_view>

namespace custodian::drivers {

/// Whether `bytes` is well-formed UTF-8 (no overlong forms, no surrogates).
bool is_utf8(std::string_view bytes);

/// Standard base64 (RFC 4648) with padding.
std::string encode_base64(std::string_view bytes);

/// The bytes of standard base64 (padding required, no whitespace); nullopt when
/// `text` is not base64.
std::optional<std::string> decode_base64(std::string_view text);

} // namespace custodian::drivers
