#include "drivers/process/health_probe.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace custodian::drivers {

driver_status run_health_command(const spawn_spec& command, const deadline& until) {
  auto started = child_process::spawn(command);
  if (!started)
    return driver_error{started.error().code, "health " + started.error().message};
  auto& child = *started.value();
  auto status = child.wait_exit(until);
  if (!status) {
    child.stop(millis{0}, until);
    return driver_error{driver_errc::timeout,
                        "health command " + command.program + " did not finish in time"};
  }
  child.stop(millis{0}, until);
  if (!status->success())
    return driver_error{driver_errc::unavailable,
                        "health command " + command.program + " " + status->describe()};
  return done{};
}

driver_status probe_tcp_port(uint16_t port, const deadline& until) {
  auto where = "127.0.0.1:" + std::to_string(port);
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return driver_error{driver_errc::broken, std::string{"socket: "} + std::strerror(errno)};
  struct fd_closer {
    int fd;
    ~fd_closer() { ::close(fd); }
  } closer{fd};
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  int err = rc == 0 ? 0 : errno;
  if (err == EINPROGRESS) {
    auto waited = wait_for(fd, POLLOUT, until);
    if (waited == fd_wait::timed_out)
      return driver_error{driver_errc::timeout, "health port " + where + " did not answer in time"};
    socklen_t len = sizeof err;
    if (waited == fd_wait::failed || ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
      err = errno;
  }
  if (err != 0)
    return driver_error{driver_errc::unavailable,
                        "health port " + where + ": " + std::strerror(err)};
  return done{};
}

} // namespace custodian::drivers
