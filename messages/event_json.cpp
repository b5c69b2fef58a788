#include "messages/event_json.hpp"

#include <cctype>
#include <cstdint>
#include <cstdio>
#include <ctime>

#include <nlohmann/json.hpp>

namespace custodian {

std::string to_rfc3339(caf::timestamp ts) {
  using namespace std::chrono;
  auto since_epoch = duration_cast<microseconds>(ts.time_since_epoch());
  auto secs = floor<seconds>(since_epoch);
  auto micros = (since_epoch - secs).count();
  std::time_t t = secs.count();
  std::tm utc{};
  gmtime_r(&t, &utc);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<long long>(micros));
  return buf;
}

std::optional<caf::timestamp> from_rfc3339(std::string_view text) {
  std::tm utc{};
  int consumed = 0;
  std::string s{text};
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &utc.tm_year, &utc.tm_mon, &utc.tm_mday,
                  &utc.tm_hour, &utc.tm_min, &utc.tm_sec, &consumed) != 6 ||
      consumed != 19)
    return std::nullopt;
  int64_t nanos = 0;
  auto i = s.begin() + consumed;
  if (i != s.end() && *i == '.') {
    int digits = 0;
    for (++i; i != s.end() && std::isdigit(static_cast<unsigned char>(*i)); ++i, ++digits)
      if (digits < 9)
        nanos = nanos * 10 + (*i - '0');
    if (digits == 0)
      return std::nullopt;
    for (; digits < 9; ++digits)
      nanos *= 10;
  }
  if (i == s.end() || *i != 'Z' || i + 1 != s.end())
    return std::nullopt;
  utc.tm_year -= 1900;
  utc.tm_mon -= 1;
  auto secs = timegm(&utc);
  if (secs == -1)
    return std::nullopt;
  return caf::timestamp{std::chrono::seconds{secs} + std::chrono::nanoseconds{nanos}};
}

std::string to_json_line(const event& ev) {
  auto detail = nlohmann::ordered_json::parse(ev.detail, nullptr, false);
  if (detail.is_discarded() || !detail.is_object())
    detail = nlohmann::ordered_json::object();
  // ordered_json keeps the contract's field order.
  nlohmann::ordered_json j{{"seq", ev.seq},   {"ts", to_rfc3339(ev.ts)},    {"kind", ev.kind},
                           {"pool", ev.pool}, {"resource", ev.resource},    {"from", ev.from},
                           {"to", ev.to},     {"detail", std::move(detail)}};
  return j.dump();
}

} // namespace custodian
