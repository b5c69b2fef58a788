#include "drivers/driver.hpp"

#include <exception>

namespace custodian::drivers {

std::string to_string(driver_errc code) {
  switch (code) {
  case driver_errc::timeout:
    return "timeout";
  case driver_errc::refused:
    return "refused";
  case driver_errc::auth:
    return "auth";
  case driver_errc::broken:
    return "broken";
  case driver_errc::rejected:
    return "rejected";
  case driver_errc::exception:
    return "exception";
  case driver_errc::closed:
    return "closed";
  }
  return "unknown(" + std::to_string(static_cast<int>(code)) + ")";
}

bool breaks_connection(const driver_error& err) {
  return err.code != driver_errc::rejected;
}

namespace {

driver_error from_current_exception(const char* what) {
  try {
    throw;
  } catch (const std::exception& ex) {
    return {driver_errc::exception, std::string{what} + " threw: " + ex.what()};
  } catch (...) {
    return {driver_errc::exception, std::string{what} + " threw a non-standard exception"};
  }
}

} // namespace

connection::~connection() = default;

template <class F>
auto connection::guarded(const char* what, F&& hook) -> decltype(hook()) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (!open_)
    return driver_error{driver_errc::closed, std::string{what} + " on a closed connection"};
  try {
    return hook();
  } catch (...) {
    return from_current_exception(what);
  }
}

driver_result<probe_result> connection::ping(millis timeout) {
  return guarded("ping", [&]() -> driver_result<probe_result> {
    auto start = std::chrono::steady_clock::now();
    if (auto res = do_ping(timeout); !res)
      return res.error();
    probe_result out;
    out.latency = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - start);
    auto stages = do_check(timeout);
    if (!stages)
      return stages.error();
    out.degraded = std::move(stages.value());
    return out;
  });
}

driver_result<std::string> connection::do_check(millis) {
  return std::string{};
}

driver_result<nlohmann::json> connection::exec(const nlohmann::json& request, millis timeout) {
  return guarded("exec", [&] { return do_exec(request, timeout); });
}

driver_status connection::reset(millis timeout) {
  return guarded("reset", [&] { return do_reset(timeout); });
}

driver_status connection::close(millis timeout) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (!open_.exchange(false))
    return done{};
  try {
    return do_close(timeout);
  } catch (...) {
    return from_current_exception("close");
  }
}

bool connection::is_open() const {
  return open_.load();
}

driver::~driver() = default;

driver_result<std::shared_ptr<connection>> driver::connect(const std::string& resource_id,
                                                           millis timeout) {
  try {
    auto res = do_connect(resource_id, timeout);
    if (res && !res.value())
      return driver_error{driver_errc::exception, "connect returned no connection"};
    return res;
  } catch (...) {
    return from_current_exception("connect");
  }
}

} // namespace custodian::drivers
