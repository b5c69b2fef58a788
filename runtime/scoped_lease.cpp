#include "runtime/scoped_lease.hpp"

#include <utility>

#include <caf/send.hpp>

#include "drivers/driver.hpp"

namespace custodian {

scoped_lease::scoped_lease(pool_actor pool, lease granted,
                           std::shared_ptr<drivers::connection> conn)
    : pool_(std::move(pool)), lease_(std::move(granted)), conn_(std::move(conn)), held_(true) {}

scoped_lease::~scoped_lease() {
  release();
}

scoped_lease::scoped_lease(scoped_lease&& other) noexcept
    : pool_(std::move(other.pool_)), lease_(std::move(other.lease_)), conn_(std::move(other.conn_)),
      held_(std::exchange(other.held_, false)) {}

scoped_lease& scoped_lease::operator=(scoped_lease&& other) noexcept {
  if (this != &other) {
    release();
    pool_ = std::move(other.pool_);
    lease_ = std::move(other.lease_);
    conn_ = std::move(other.conn_);
    held_ = std::exchange(other.held_, false);
  }
  return *this;
}

drivers::connection& scoped_lease::connection() const {
  if (!held_)
    throw lease_error(errc::unavailable, "lease " + std::to_string(lease_.id) + " is not held");
  if (!conn_)
    throw lease_error(errc::unavailable, "lease " + std::to_string(lease_.id) + " on " +
                                           lease_.resource + ": the resource has no connection");
  return *conn_;
}

nlohmann::json scoped_lease::exec(const nlohmann::json& request,
                                  std::chrono::milliseconds timeout) {
  auto result = connection().exec(request, timeout);
  if (result)
    return std::move(result.value());
  auto what = "lease " + std::to_string(lease_.id) + " on " + lease_.resource +
              ": exec failed: " + to_string(result.error().code) + ": " + result.error().message;
  if (drivers::breaks_connection(result.error()))
    fail(what);
  throw lease_error(result.error().code == drivers::driver_errc::timeout ? errc::timeout
                                                                         : errc::driver_error,
                    what);
}

void scoped_lease::release() {
  if (!std::exchange(held_, false))
    return;
  conn_.reset();
  caf::anon_send(pool_, return_atom::value, lease_.id);
}

void scoped_lease::fail(const std::string& reason) {
  if (!std::exchange(held_, false))
    return;
  conn_.reset();
  caf::anon_send(pool_, fail_atom::value, lease_.id, reason);
}

} // namespace custodian
