#pragma once
// A lease held by code that is not an actor: move-only, returned to its pool when
// it goes out of scope, with typed access to the driver connection in process.

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "messages/errors.hpp"
#include "messages/pool_actor.hpp"

namespace custodian {

namespace drivers {
class connection;
}
class lease_shelf;

/// Why an acquire or a use of a lease failed: the error code and a message that
/// names the pool, lease or resource.
class lease_error : public std::runtime_error {
public:
  lease_error(errc code, const std::string& message) : std::runtime_error(message), code_(code) {}

  errc code() const noexcept { return code_; }

private:
  errc code_;
};

class scoped_lease {
public:
  scoped_lease() = default;
  /// `shelf`: where the lease came from without a message to the pool, and
  /// where it goes back (see actors/lease_shelf.hpp); null for a lease the pool
  /// granted itself.
  scoped_lease(pool_actor pool, lease granted, std::shared_ptr<drivers::connection> conn,
               std::shared_ptr<lease_shelf> shelf = nullptr);
  /// Returns the lease if still held.
  ~scoped_lease();

  scoped_lease(scoped_lease&& other) noexcept;
  scoped_lease& operator=(scoped_lease&& other) noexcept;
  scoped_lease(const scoped_lease&) = delete;
  scoped_lease& operator=(const scoped_lease&) = delete;

  /// True while the lease is held.
  explicit operator bool() const noexcept { return held_; }

  uint64_t id() const noexcept { return lease_.id; }
  const std::string& pool() const noexcept { return lease_.pool; }
  const std::string& resource() const noexcept { return lease_.resource; }
  /// The resource actor, for actor-native calls on the resource.
  const resource_actor& handle() const noexcept { return lease_.handle; }

  /// The driver connection of the leased resource. Throws `lease_error`
  /// (`unavailable`) when the lease is not held or the resource has no connection.
  drivers::connection& connection() const;

  /// The connection as the driver's own type; `bad_request` if it is another type.
  template <class Connection>
  Connection& connection_as() const {
    if (auto* typed = dynamic_cast<Connection*>(&connection()))
      return *typed;
    throw lease_error(errc::bad_request, "lease " + std::to_string(lease_.id) + " on " +
                                           lease_.resource +
                                           ": the connection is of another driver type");
  }

  /// Runs a driver request on this thread. A failure that breaks the connection
  /// reports the resource failed to its pool (it is replaced) and ends the lease;
  /// any failure throws `lease_error` with the driver's message.
  nlohmann::json exec(const nlohmann::json& request, std::chrono::milliseconds timeout);

  /// Returns the lease now (one-way); a no-op if it is not held.
  void release();

  /// Reports the resource broken: the pool replaces it. The lease ends.
  void fail(const std::string& reason);

  /// The lease this thread put back on `shelf` last; 0 if none.
  static uint64_t put_back_last(const lease_shelf& shelf);

private:
  pool_actor pool_;
  lease lease_;
  std::shared_ptr<drivers::connection> conn_;
  std::shared_ptr<lease_shelf> shelf_;
  bool held_ = false;
};

} // namespace custodian
