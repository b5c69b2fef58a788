#include "drivers/redis/redis_reply.hpp"

#include <cstdint>

namespace custodian::drivers {

namespace {

std::string_view text_of(const redisReply& r) {
  return {r.str ? r.str : "", r.str ? r.len : 0};
}

} // namespace

bool valid_utf8(std::string_view bytes) {
  std::size_t i = 0;
  while (i < bytes.size()) {
    auto c = static_cast<unsigned char>(bytes[i]);
    std::size_t extra = 0;
    uint32_t code = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      extra = 1;
      code = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
      code = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3;
      code = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= bytes.size())
      return false;
    for (std::size_t k = 1; k <= extra; ++k) {
      auto next = static_cast<unsigned char>(bytes[i + k]);
      if ((next & 0xC0) != 0x80)
        return false;
      code = (code << 6) | (next & 0x3F);
    }
    static constexpr uint32_t smallest[] = {0, 0x80, 0x800, 0x10000};
    if (code < smallest[extra] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF))
      return false;
    i += extra + 1;
  }
  return true;
}

std::string safe_text(std::string_view bytes) {
  if (valid_utf8(bytes))
    return std::string{bytes};
  std::string out{bytes};
  for (auto& c : out)
    if (static_cast<unsigned char>(c) >= 0x80)
      c = '?';
  return out;
}

std::string base64(std::string_view bytes) {
  static constexpr char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t n = uint32_t(uint8_t(bytes[i])) << 16 | uint32_t(uint8_t(bytes[i + 1])) << 8 |
                 uint8_t(bytes[i + 2]);
    out += alphabet[n >> 18];
    out += alphabet[(n >> 12) & 63];
    out += alphabet[(n >> 6) & 63];
    out += alphabet[n & 63];
  }
  if (auto rest = bytes.size() - i; rest > 0) {
    uint32_t n = uint32_t(uint8_t(bytes[i])) << 16;
    if (rest == 2)
      n |= uint32_t(uint8_t(bytes[i + 1])) << 8;
    out += alphabet[n >> 18];
    out += alphabet[(n >> 12) & 63];
    out += rest == 2 ? alphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

nlohmann::json reply_to_json(const redisReply& r) {
  using json = nlohmann::json;
  switch (r.type) {
  case REDIS_REPLY_STRING: {
    auto bytes = text_of(r);
    if (valid_utf8(bytes))
      return std::string{bytes};
    return json{{"base64", base64(bytes)}};
  }
  case REDIS_REPLY_STATUS:
    return json{{"status", safe_text(text_of(r))}};
  case REDIS_REPLY_ERROR:
    return json{{"error", safe_text(text_of(r))}};
  case REDIS_REPLY_INTEGER:
    return static_cast<int64_t>(r.integer);
  case REDIS_REPLY_ARRAY: {
    // hiredis nests at most 9 levels deep, which bounds this recursion.
    json items = json::array();
    for (std::size_t k = 0; k < r.elements; ++k)
      items.push_back(r.element[k] ? reply_to_json(*r.element[k]) : json(nullptr));
    return items;
  }
  case REDIS_REPLY_NIL:
  default:
    return nullptr;
  }
}

} // namespace custodian::drivers
