#pragma once
// custodiand's JSON log lines: one object per line, {"ts_us", "level", "logger",
// "msg"}, and for a line about an event its "seq", "kind", "pool" and "resource"
// as fields of their own, so that a log pipeline can filter on them without
// parsing `msg`. The node names the event with a log_context around its log call;
// the sink, called synchronously on that thread, adds its fields. No spdlog here.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace custodian {

/// What a log line is about; an empty string or a seq of 0 is left out.
struct log_fields {
  uint64_t seq = 0;
  std::string_view kind;
  std::string_view pool;
  std::string_view resource;
};

/// Gives `fields` to every line logged on this thread while it lives (it must
/// outlive them: it keeps the views). Nests: the innermost wins.
class log_context {
public:
  explicit log_context(const log_fields& fields);
  ~log_context();

  log_context(const log_context&) = delete;
  log_context& operator=(const log_context&) = delete;

private:
  const log_fields* outer_;
};

/// One JSON log line (no newline) with this thread's log_context fields, if any.
/// Bytes that are not UTF-8 are replaced, never refused.
std::string json_log_line(std::chrono::system_clock::time_point time, std::string_view level,
                          std::string_view logger, std::string_view msg);

} // namespace custodian
