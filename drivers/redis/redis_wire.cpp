// sds.h, unlike hiredis.h, declares its functions without extern "C": included
// first, inside one, so that sdsrange links.
extern "C" {
#include <hiredis/sds.h>
}

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "drivers/redis/redis_wire.hpp"

namespace custodian::drivers {

namespace {

driver_error system_error(driver_errc code, const std::string& what, int err) {
  return {code, what + ": " + std::strerror(err)};
}

/// One non-blocking connect to `a`: the socket, or an error.
driver_result<int> connect_one(const resolved_address& a, const deadline& until) {
  int fd = ::socket(a.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return system_error(driver_errc::broken, "socket", errno);
  auto fail = [&](driver_error e) -> driver_result<int> {
    ::close(fd);
    return e;
  };
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&a.addr), a.len) != 0) {
    if (errno != EINPROGRESS)
      return fail(system_error(driver_errc::refused, "connect to " + a.text, errno));
    switch (wait_for(fd, POLLOUT, until)) {
    case fd_wait::timed_out:
      return fail({driver_errc::timeout, "connect to " + a.text + ": no answer in time"});
    case fd_wait::failed:
      return fail(system_error(driver_errc::broken, "poll", errno));
    case fd_wait::ready:
      break;
    }
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
      err = errno;
    if (err != 0)
      return fail(system_error(err == ETIMEDOUT ? driver_errc::timeout : driver_errc::refused,
                               "connect to " + a.text, err));
  }
  int on = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  return fd;
}

driver_error context_error(const redisContext* c) {
  return {driver_errc::broken, c->errstr[0] ? c->errstr : "connection failed"};
}

} // namespace

driver_result<context_ptr> open_context(const std::vector<resolved_address>& addresses,
                                        const deadline& until) {
  driver_error last{driver_errc::refused, "no address to connect to"};
  for (const auto& a : addresses) {
    auto fd = connect_one(a, until);
    if (!fd) {
      last = fd.error();
      if (last.code == driver_errc::timeout)
        break; // the deadline is spent
      continue;
    }
    context_ptr c{redisConnectFd(fd.value())};
    if (!c) {
      ::close(fd.value());
      return driver_error{driver_errc::exception, "hiredis could not allocate a context"};
    }
    c->flags &= ~REDIS_BLOCK; // the socket is non-blocking already
    // A peer that vanished without a word is noticed in seconds, not hours.
    redisEnableKeepAlive(c.get());
    return c;
  }
  return last;
}

void append_command(redisContext* c, const std::vector<std::string>& argv) {
  std::vector<const char*> args;
  std::vector<size_t> lens;
  for (const auto& a : argv) {
    args.push_back(a.data());
    lens.push_back(a.size());
  }
  if (redisAppendCommandArgv(c, static_cast<int>(args.size()), args.data(), lens.data()) !=
      REDIS_OK)
    throw std::bad_alloc{};
}

driver_status flush(redisContext* c, const deadline& until) {
  if (c->err)
    return context_error(c);
  while (sdslen(c->obuf) > 0) {
    auto n = ::send(c->fd, c->obuf, sdslen(c->obuf), MSG_NOSIGNAL);
    if (n > 0) {
      sdsrange(c->obuf, static_cast<int>(n), -1);
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
      return system_error(driver_errc::broken, "send", errno);
    switch (wait_for(c->fd, POLLOUT, until)) {
    case fd_wait::timed_out:
      return driver_error{driver_errc::timeout, "could not send the command in time"};
    case fd_wait::failed:
      return system_error(driver_errc::broken, "poll", errno);
    case fd_wait::ready:
      break;
    }
  }
  return done{};
}

driver_result<reply_ptr> next_reply(redisContext* c, const deadline& until) {
  for (;;) {
    void* raw = nullptr;
    if (redisGetReplyFromReader(c, &raw) != REDIS_OK)
      return context_error(c);
    if (raw)
      return reply_ptr{static_cast<redisReply*>(raw)};
    switch (wait_for(c->fd, POLLIN, until)) {
    case fd_wait::timed_out:
      return driver_error{driver_errc::timeout, "no reply in time"};
    case fd_wait::failed:
      return system_error(driver_errc::broken, "poll", errno);
    case fd_wait::ready:
      break;
    }
    // Reads what is there: EAGAIN (a spurious wake-up) is no error here.
    if (redisBufferRead(c) != REDIS_OK)
      return context_error(c);
  }
}

bool has_leftovers(const redisContext* c) {
  return sdslen(c->obuf) > 0 || c->reader->pos < c->reader->len || c->reader->ridx >= 0;
}

void set_blocking(redisContext* c, bool blocking, millis timeout) {
  int flags = ::fcntl(c->fd, F_GETFL);
  ::fcntl(c->fd, F_SETFL, blocking ? flags & ~O_NONBLOCK : flags | O_NONBLOCK);
  if (!blocking) {
    c->flags &= ~REDIS_BLOCK;
    return;
  }
  c->flags |= REDIS_BLOCK;
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>(timeout.count() % 1000 * 1000);
  redisSetTimeout(c, tv);
}

} // namespace custodian::drivers
