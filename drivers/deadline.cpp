#include "drivers/deadline.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <climits>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <thread>

namespace custodian::drivers {

millis deadline::remaining() const {
  auto left = std::chrono::duration_cast<millis>(at_ - clock::now());
  return left.count() > 0 ? left : millis{0};
}

int deadline::poll_timeout() const {
  auto left = std::chrono::ceil<millis>(at_ - clock::now()).count();
  if (left <= 0)
    return 0;
  return left > INT_MAX ? INT_MAX : static_cast<int>(left);
}

fd_wait wait_for(int fd, short events, const deadline& until) {
  for (;;) {
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, until.poll_timeout());
    if (n > 0)
      return fd_wait::ready; // errors and hang-ups show up as the next read or write failing
    if (n == 0)
      return fd_wait::timed_out;
    if (errno != EINTR)
      return fd_wait::failed;
    if (until.passed())
      return fd_wait::timed_out;
  }
}

bool peer_closed_or_spoke(int fd) {
  pollfd p{fd, POLLIN, 0};
  int n = ::poll(&p, 1, 0);
  return n != 0; // readable, hung up, in error, or the poll itself failed
}

namespace {

/// One lookup on its own thread; whoever finishes last (the caller or the
/// thread) frees it, so a caller that gives up leaves nothing behind.
struct lookup {
  std::mutex mtx;
  std::condition_variable cv;
  bool finished = false;
  int status = 0;
  std::vector<resolved_address> found;
};

std::string numeric(const sockaddr* sa, socklen_t len) {
  char host[NI_MAXHOST];
  if (::getnameinfo(sa, len, host, sizeof host, nullptr, 0, NI_NUMERICHOST) != 0)
    return "?";
  return host;
}

std::vector<resolved_address> collect(addrinfo* list) {
  std::vector<resolved_address> out;
  for (auto* ai = list; ai; ai = ai->ai_next) {
    if (ai->ai_addrlen > sizeof(sockaddr_storage))
      continue;
    resolved_address a;
    std::memcpy(&a.addr, ai->ai_addr, ai->ai_addrlen);
    a.len = static_cast<socklen_t>(ai->ai_addrlen);
    a.text = numeric(ai->ai_addr, a.len);
    out.push_back(std::move(a));
  }
  return out;
}

} // namespace

driver_result<std::vector<resolved_address>> resolve(const std::string& host, uint16_t port,
                                                     const deadline& until) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_family = AF_UNSPEC;
  auto service = std::to_string(port);
  // A numeric address needs no resolver.
  hints.ai_flags = AI_NUMERICHOST;
  addrinfo* list = nullptr;
  if (::getaddrinfo(host.c_str(), service.c_str(), &hints, &list) == 0) {
    auto out = collect(list);
    ::freeaddrinfo(list);
    return out;
  }
  hints.ai_flags = AI_ADDRCONFIG;
  auto job = std::make_shared<lookup>();
  std::thread{[job, host, service, hints] {
    addrinfo* found = nullptr;
    int status = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found);
    std::lock_guard<std::mutex> guard{job->mtx};
    job->status = status;
    if (status == 0) {
      job->found = collect(found);
      ::freeaddrinfo(found);
    }
    job->finished = true;
    job->cv.notify_all();
  }}.detach();
  std::unique_lock<std::mutex> guard{job->mtx};
  if (!job->cv.wait_until(guard, until.at(), [&] { return job->finished; }))
    return driver_error{driver_errc::timeout,
                        "resolving " + host + " took longer than the " + "connect timeout"};
  if (job->status != 0)
    return driver_error{driver_errc::refused,
                        "cannot resolve " + host + ": " + ::gai_strerror(job->status)};
  if (job->found.empty())
    return driver_error{driver_errc::refused, "cannot resolve " + host + ": no address"};
  return std::move(job->found);
}

} // namespace custodian::drivers
