#include "drivers/process/line_channel.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>
#include <poll.h>
#include <pthread.h>
#include <unistd.h>

namespace custodian::drivers {

namespace {

/// SIGPIPE blocked on this thread while it writes to a pipe, and a SIGPIPE the
/// write raised taken back: no process-wide handler, the application's own
/// disposition stays as it is.
class sigpipe_blocked {
public:
  sigpipe_blocked() {
    ::sigemptyset(&pipe_);
    ::sigaddset(&pipe_, SIGPIPE);
    ::pthread_sigmask(SIG_BLOCK, &pipe_, &previous_);
    sigset_t pending;
    ::sigpending(&pending);
    already_pending_ = ::sigismember(&pending, SIGPIPE) == 1;
  }
  ~sigpipe_blocked() { ::pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }
  sigpipe_blocked(const sigpipe_blocked&) = delete;
  sigpipe_blocked& operator=(const sigpipe_blocked&) = delete;

  /// After EPIPE: the SIGPIPE it raised is consumed unless one was already due.
  void consume() {
    if (already_pending_)
      return;
    timespec none{};
    while (::sigtimedwait(&pipe_, nullptr, &none) < 0 && errno == EINTR) {
    }
  }

private:
  sigset_t pipe_;
  sigset_t previous_;
  bool already_pending_ = false;
};

} // namespace

driver_status line_channel::write_line(const std::string& line, const deadline& until) {
  auto data = line + "\n";
  std::size_t sent = 0;
  sigpipe_blocked guard;
  while (sent < data.size()) {
    auto n = ::write(to_child_, data.data() + sent, data.size() - sent);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && errno == EPIPE) {
      guard.consume();
      closed_ = true;
      return driver_error{driver_errc::broken, "closed its stdin"};
    }
    if (n < 0 && errno != EAGAIN)
      return driver_error{driver_errc::broken,
                          std::string{"could not be written to: "} + std::strerror(errno)};
    auto waited = wait_for(to_child_, POLLOUT, until); // the pipe is full
    if (waited == fd_wait::timed_out)
      return driver_error{driver_errc::timeout, "did not read its stdin in time"};
    if (waited == fd_wait::failed)
      return driver_error{driver_errc::broken,
                          std::string{"could not be polled: "} + std::strerror(errno)};
  }
  return done{};
}

driver_result<std::string> line_channel::read_line(const deadline& until) {
  for (;;) {
    auto end = buffer_.find('\n', scanned_);
    scanned_ = end == std::string::npos ? buffer_.size() : end;
    if (scanned_ > max_line_)
      return driver_error{driver_errc::broken,
                          "wrote a line longer than " + std::to_string(max_line_) + " bytes"};
    if (end != std::string::npos) {
      auto line = buffer_.substr(0, end);
      buffer_.erase(0, end + 1);
      scanned_ = 0;
      return line;
    }
    char chunk[65536];
    auto n = ::read(from_child_, chunk, sizeof chunk);
    if (n > 0) {
      buffer_.append(chunk, static_cast<std::size_t>(n));
      continue;
    }
    if (n == 0) {
      closed_ = true;
      return driver_error{driver_errc::broken, "closed its stdout"};
    }
    if (errno == EINTR)
      continue;
    if (errno != EAGAIN)
      return driver_error{driver_errc::broken,
                          std::string{"could not be read from: "} + std::strerror(errno)};
    auto waited = wait_for(from_child_, POLLIN, until);
    if (waited == fd_wait::timed_out)
      return driver_error{driver_errc::timeout, "wrote no line in time"};
    if (waited == fd_wait::failed)
      return driver_error{driver_errc::broken,
                          std::string{"could not be polled: "} + std::strerror(errno)};
  }
}

bool line_channel::has_unread() {
  if (!buffer_.empty())
    return true;
  pollfd p{from_child_, POLLIN, 0};
  return ::poll(&p, 1, 0) > 0 && (p.revents & POLLIN) != 0;
}

void line_channel::discard_unread(const deadline& until) {
  buffer_.clear();
  scanned_ = 0;
  char chunk[65536];
  // Bounded: a child that writes without end is left to the deadline.
  while (!until.passed()) {
    auto n = ::read(from_child_, chunk, sizeof chunk);
    if (n > 0 || (n < 0 && errno == EINTR))
      continue;
    return; // drained (EAGAIN), at its end, or failed: the next read tells
  }
}

bool line_channel::output_closed() const {
  pollfd p{from_child_, POLLIN, 0};
  return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR)) != 0;
}

} // namespace custodian::drivers
