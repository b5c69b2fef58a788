#include "runtime/node/json_log.hpp"

#include <nlohmann/json.hpp>

namespace custodian {

namespace {

thread_local const log_fields* current = nullptr;

} // namespace

log_context::log_context(const log_fields& fields) : outer_(current) {
  current = &fields;
}

log_context::~log_context() {
  current = outer_;
}

std::string json_log_line(std::chrono::system_clock::time_point time, std::string_view level,
                          std::string_view logger, std::string_view msg) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(time.time_since_epoch());
  nlohmann::json line{{"ts_us", us.count()}, {"level", level}, {"logger", logger}, {"msg", msg}};
  if (current) {
    if (current->seq != 0)
      line["seq"] = current->seq;
    for (auto [key, value] : {std::pair{"kind", current->kind}, std::pair{"pool", current->pool},
                              std::pair{"resource", current->resource}})
      if (!value.empty())
        line[key] = value;
  }
  return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

} // namespace custodian
