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
  case driver_errc::read_only:
    return "read_only";
  case driver_errc::unavailable:
    return "unavailable";
  }
  return "unknown(" + std::to_string(static_cast<int>(code)) + ")";
}

bool breaks_connection(driver_errc code) {
  return code != driver_errc::rejected;
}

bool breaks_connection(const driver_error& err) {
  return breaks_connection(err.code);
}

bool cheap_to_retry(driver_errc code) {
  return code == driver_errc::refused || code == driver_errc::unavailable;
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

namespace {

std::chrono::microseconds since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                               start);
}

} // namespace

void connection::lend_native() {
  std::lock_guard<std::mutex> guard{mtx_};
  native_lent_ = true;
}

driver_result<probe_result> connection::ping(millis timeout) {
  auto start = std::chrono::steady_clock::now();
  bool lent = false;
  auto res = guarded("ping", [&]() -> driver_result<probe_result> {
    // Checked under the lock that lend_native takes: no probe overlaps a holder.
    if ((lent = native_lent_))
      return probe_result{}; // its holder's use of the handle is the test
    if (auto res = do_ping(timeout); !res)
      return res.error();
    probe_result out;
    out.latency = since(start);
    auto stages = do_check(timeout);
    if (!stages)
      return stages.error();
    out.degraded = std::move(stages.value());
    return out;
  });
  if (metrics_ && !lent)
    metrics_->record(call_metrics::call::ping,
                     !res                           ? call_outcome_of(res.error().code)
                     : res.value().degraded.empty() ? outcome_ok
                                                    : outcome_degraded,
                     since(start));
  return res;
}

driver_result<std::string> connection::do_check(millis) {
  return std::string{};
}

driver_result<nlohmann::json> connection::exec(const nlohmann::json& request, millis timeout) {
  auto start = std::chrono::steady_clock::now();
  auto res = guarded("exec", [&] { return do_exec(request, timeout); });
  if (metrics_)
    metrics_->record(call_metrics::call::exec, res ? outcome_ok : call_outcome_of(res.error().code),
                     since(start));
  return res;
}

driver_status connection::reset(millis timeout) {
  auto res = guarded("reset", [&] { return do_reset(timeout); });
  if (res)
    native_lent_ = false;
  return res;
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

bool connection::alive() {
  std::unique_lock<std::mutex> guard{mtx_, std::try_to_lock};
  if (!guard.owns_lock())
    return true; // a call is running: it will tell
  if (!open_)
    return false;
  try {
    return do_alive();
  } catch (...) {
    return false;
  }
}

bool connection::do_alive() {
  return true;
}

bool connection::needs_reset() {
  std::unique_lock<std::mutex> guard{mtx_, std::try_to_lock};
  // A call runs (a health probe): what the holder left cannot be read now, so the
  // connection is reset rather than handed on as it may be.
  if (!guard.owns_lock())
    return true;
  if (!open_)
    return false;
  if (native_lent_)
    return true;
  try {
    return do_needs_reset();
  } catch (...) {
    return true;
  }
}

bool connection::do_needs_reset() {
  return false;
}

driver::~driver() = default;

driver_result<std::shared_ptr<connection>> driver::connect(const std::string& resource_id,
                                                           millis timeout) {
  try {
    auto res = do_connect(resource_id, timeout);
    if (res && !res.value())
      return driver_error{driver_errc::exception, "connect returned no connection"};
    if (res)
      res.value()->count_into(metrics_);
    return res;
  } catch (...) {
    return from_current_exception("connect");
  }
}

} // namespace custodian::drivers
