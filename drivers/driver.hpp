#pragma once
// The driver interface: a driver turns its JSON `driver_config` into connections
// that can connect, ping, exec, reset and close. Plain C++ with no CAF in it:
// resource actors own connections and call them on blocking workers.
//
// Template method (like spdlog's base_sink): the public entry points are
// non-virtual; they serialise calls on one connection, turn exceptions into
// `driver_errc::exception`, refuse calls on a closed connection and measure
// latency. A driver fills in the protected `do_*` hooks.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <variant>

#include <nlohmann/json.hpp>

#include "drivers/call_metrics.hpp"

namespace custodian::drivers {

using millis = std::chrono::milliseconds;

/// Why a driver call failed.
enum class driver_errc : uint8_t {
  timeout = 1, ///< the driver gave up within the timeout it was given
  refused,     ///< the remote end refused the connection or could not be reached
  auth,        ///< credentials were rejected (or could not be read)
  broken,      ///< the connection dropped or is no longer usable
  rejected,    ///< the request failed; the connection is still usable
  exception,   ///< the driver threw
  closed,      ///< the call was made on a closed connection
  read_only,   ///< the server serves reads only (a standby) where a primary is required
  unavailable, ///< the server answers but does not serve now (starting up, shutting down, full)
};

std::string to_string(driver_errc code);

struct driver_error {
  driver_errc code = driver_errc::exception;
  std::string message;
};

/// Whether a failure leaves the connection unusable (it must be replaced).
bool breaks_connection(driver_errc code);
bool breaks_connection(const driver_error& err);

/// Whether a failed connect costs the server next to nothing (nothing listens,
/// or it is starting up or shutting down): such a connect may be tried again at
/// once, where an authentication failure or a timeout backs off.
bool cheap_to_retry(driver_errc code);

/// The outcome of a driver call: a value or a `driver_error`.
template <class T>
class driver_result {
public:
  driver_result(T value) : data_(std::move(value)) {}
  driver_result(driver_error err) : data_(std::move(err)) {}

  bool ok() const noexcept { return data_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }
  T& value() { return std::get<0>(data_); }
  const T& value() const { return std::get<0>(data_); }
  const driver_error& error() const { return std::get<1>(data_); }

private:
  std::variant<T, driver_error> data_;
};

/// Success without a value.
struct done {};
using driver_status = driver_result<done>;

/// What a health probe found: how long the connectivity check took and, when a
/// driver's own stage found the connection usable but impaired, why it is
/// degraded (empty: nothing to report).
struct probe_result {
  std::chrono::microseconds latency{0};
  std::string degraded;
};

/// One open connection to the underlying resource. Every call takes the time it
/// may spend; the owning actor enforces the same bound on its side, so a driver
/// that ignores it delays only the blocking worker running it.
class connection {
public:
  virtual ~connection();

  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  /// Health probe: connectivity (its latency), then the driver's own stages.
  /// While the native handle is lent, passes without touching the connection.
  driver_result<probe_result> ping(millis timeout);
  /// Runs one driver-specific request.
  driver_result<nlohmann::json> exec(const nlohmann::json& request, millis timeout);
  /// Restores the connection to a clean state (maintenance).
  driver_status reset(millis timeout);
  /// Closes the connection; later calls fail with `closed`. Closing twice is a no-op.
  driver_status close(millis timeout);

  bool is_open() const;

  /// Whether the connection may still work, without blocking or a round trip
  /// (the socket has not been closed by the peer, say). True while another call
  /// runs on it: that call will tell. The pool asks before handing it out.
  bool alive();

  /// Whether the holder of a lease left state behind that the next holder must
  /// not inherit (an open transaction, a MULTI, another database selected), so
  /// that the pool resets the connection (`reset`) before it hands it out again.
  /// Non-blocking, no round trip; true while another call runs on it (a probe),
  /// since its state cannot be read then.
  bool needs_reset();

  /// Counts and latencies of this connection's pings and execs, shared by every
  /// connection of one driver (the pool's figures); null when not counted.
  void count_into(std::shared_ptr<call_metrics> metrics) { metrics_ = std::move(metrics); }

  /// Whether the driver's native handle is out with a lease holder (see
  /// `lend_native`).
  bool native_lent() const noexcept { return native_lent_.load(); }

protected:
  connection() = default;

  /// A driver's `native()` calls this when it hands its client library's handle
  /// to a lease holder, who uses it on its own thread: from then on a ping does
  /// not touch the connection (it would race the holder; client handles are not
  /// shared between threads) and reports nothing, and the connection needs a
  /// reset before the next holder. A successful reset takes the handle back.
  /// Waits for a call already running on the connection (a probe that started
  /// before the lease was handed out) to end first.
  void lend_native();

  /// Non-blocking liveness (see `alive`); true by default.
  virtual bool do_alive();
  /// Non-blocking check for state left behind (see `needs_reset`); false by default.
  virtual bool do_needs_reset();

  virtual driver_status do_ping(millis timeout) = 0;
  /// Driver-specific health stages, run after a passed connectivity check
  /// (replication lag, free memory, queue depth, ...): an error fails the probe, a
  /// non-empty text makes the resource degraded. None by default.
  virtual driver_result<std::string> do_check(millis timeout);
  virtual driver_result<nlohmann::json> do_exec(const nlohmann::json& request, millis timeout) = 0;
  virtual driver_status do_reset(millis timeout) = 0;
  /// Called exactly once per connection; the connection counts as closed afterwards
  /// whatever it returns.
  virtual driver_status do_close(millis timeout) = 0;

private:
  template <class F>
  auto guarded(const char* what, F&& hook) -> decltype(hook());

  std::mutex mtx_; // serialises the calls on this connection
  std::atomic<bool> open_{true};
  std::atomic<bool> native_lent_{false};
  std::shared_ptr<call_metrics> metrics_;
};

/// A driver: a factory of connections for one `driver_config`.
class driver {
public:
  virtual ~driver();

  /// The driver's name as used in configs ("sim", "postgres", ...).
  virtual std::string name() const = 0;

  /// Pings and execs of every connection this driver opened.
  const call_metrics& metrics() const { return *metrics_; }

  /// Opens a connection for the resource `resource_id`. Exceptions thrown by the
  /// driver become `driver_errc::exception`.
  driver_result<std::shared_ptr<connection>> connect(const std::string& resource_id,
                                                     millis timeout);

protected:
  virtual driver_result<std::shared_ptr<connection>> do_connect(const std::string& resource_id,
                                                                millis timeout) = 0;

private:
  std::shared_ptr<call_metrics> metrics_ = std::make_shared<call_metrics>();
};

} // namespace custodian::drivers
