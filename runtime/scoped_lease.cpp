#include "runtime/scoped_lease.hpp"

#include <utility>

#include <caf/send.hpp>

#include "actors/lease_shelf.hpp"
#include "drivers/driver.hpp"

namespace custodian {

namespace {

/// The shelf this thread put a lease back on last, and that lease: compared,
/// never dereferenced.
thread_local std::pair<const lease_shelf*, uint64_t> last_put_back{nullptr, 0};

} // namespace

uint64_t scoped_lease::put_back_last(const lease_shelf& shelf) {
  return last_put_back.first == &shelf ? last_put_back.second : 0;
}

scoped_lease::scoped_lease(pool_actor pool, lease granted,
                           std::shared_ptr<drivers::connection> conn,
                           std::shared_ptr<lease_shelf> shelf)
    : pool_(std::move(pool)), lease_(std::move(granted)), conn_(std::move(conn)),
      shelf_(std::move(shelf)), held_(true) {}

scoped_lease::~scoped_lease() {
  release();
}

scoped_lease::scoped_lease(scoped_lease&& other) noexcept
    : pool_(std::move(other.pool_)), lease_(std::move(other.lease_)), conn_(std::move(other.conn_)),
      shelf_(std::move(other.shelf_)), held_(std::exchange(other.held_, false)) {}

scoped_lease& scoped_lease::operator=(scoped_lease&& other) noexcept {
  if (this != &other) {
    release();
    pool_ = std::move(other.pool_);
    lease_ = std::move(other.lease_);
    conn_ = std::move(other.conn_);
    shelf_ = std::move(other.shelf_);
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
  if (shelf_) {
    // Back on the shelf, unless the pool recalled it or the holder left state
    // behind that the pool must reset first.
    if (conn_ && !conn_->needs_reset()) {
      if (shelf_->put_back(lease_.id)) {
        last_put_back = {shelf_.get(), lease_.id};
        conn_.reset();
        return;
      }
    } else {
      shelf_->forget(lease_.id, false);
    }
  }
  conn_.reset();
  caf::anon_send(pool_, return_atom::value, lease_.id);
}

void scoped_lease::fail(const std::string& reason) {
  if (!std::exchange(held_, false))
    return;
  if (shelf_)
    shelf_->forget(lease_.id, false);
  conn_.reset();
  caf::anon_send(pool_, fail_atom::value, lease_.id, reason);
}

} // namespace custodian
