#include "drivers/redis/redis_reply.hpp"

#include <cstdint>

#include "drivers/text_codec.hpp"

namespace custodian::drivers {

namespace {

std::string_view text_of(const redisReply& r) {
  return {r.str ? r.str : "", r.str ? r.len : 0};
}

} // namespace

std::string safe_text(std::string_view bytes) {
  if (is_utf8(bytes))
    return std::string{bytes};
  std::string out{bytes};
  for (auto& c : out)
    if (static_cast<unsigned char>(c) >= 0x80)
      c = '?';
  return out;
}

nlohmann::json reply_to_json(const redisReply& r) {
  using json = nlohmann::json;
  switch (r.type) {
  case REDIS_REPLY_STRING: {
    auto bytes = text_of(r);
    if (is_utf8(bytes))
      return std::string{bytes};
    return json{{"base64", encode_base64(bytes)}};
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
