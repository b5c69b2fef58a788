#pragma once
// Bounds for blocking calls inside drivers: a deadline that every step of a call
// shares, a wait on a socket that ends at it, and name resolution that ends at it
// too (getaddrinfo alone may wait for minutes on a dead DNS server).

#include <chrono>
#include <string>
#include <sys/socket.h>
#include <vector>

#include "drivers/driver.hpp"

namespace custodian::drivers {

class deadline {
public:
  using clock = std::chrono::steady_clock;

  explicit deadline(millis budget) : at_(clock::now() + budget) {}

  clock::time_point at() const noexcept { return at_; }
  bool passed() const noexcept { return clock::now() >= at_; }
  /// What is left, never negative.
  millis remaining() const;
  /// What is left for poll(2): at least 0, at most INT_MAX, rounded up.
  int poll_timeout() const;

private:
  clock::time_point at_;
};

enum class fd_wait : uint8_t { ready, timed_out, failed };

/// Waits until `fd` has one of `events` (POLLIN, POLLOUT) or the deadline passes;
/// EINTR is retried. `failed` leaves errno set.
fd_wait wait_for(int fd, short events, const deadline& until);

/// Whether an idle socket's peer has closed it or sent something unasked (a
/// server's notice before it disconnects): a poll with no wait.
bool peer_closed_or_spoke(int fd);

struct resolved_address {
  sockaddr_storage addr{};
  socklen_t len = 0;
  /// The numeric address: "127.0.0.1", "::1".
  std::string text;
};

/// Resolves `host` (a name or a numeric address) for `port` within the deadline;
/// `timeout` when the resolver does not answer in time, `refused` when the name
/// does not resolve. A numeric address resolves at once.
driver_result<std::vector<resolved_address>> resolve(const std::string& host, uint16_t port,
                                                     const deadline& until);

} // namespace custodian::drivers
