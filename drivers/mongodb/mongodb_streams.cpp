#include "drivers/mongodb/mongodb_streams.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sys/socket.h>
#include <sys/un.h>

namespace custodian::drivers {

namespace {

/// A stream around libmongoc's own (buffered, TLS, socket) whose every wait is
/// cut to the current call's deadline. libmongoc sees the vtable, so it comes first.
struct bounded_stream {
  mongoc_stream_t vtable{};
  mongoc_stream_t* base = nullptr;
  mongodb_streams* owner = nullptr;
};

/// Not one of libmongoc's stream types: nothing takes it for one of them.
constexpr int bounded_stream_type = 0x4355;

bounded_stream& of(mongoc_stream_t* s) {
  return *reinterpret_cast<bounded_stream*>(s);
}

void bounded_destroy(mongoc_stream_t* s) {
  auto* b = &of(s);
  b->owner->forget(s);
  mongoc_stream_destroy(b->base);
  delete b;
}

void bounded_failed(mongoc_stream_t* s) {
  auto* b = &of(s);
  b->owner->forget(s);
  mongoc_stream_failed(b->base);
  delete b;
}

int bounded_close(mongoc_stream_t* s) {
  return mongoc_stream_close(of(s).base);
}

int bounded_flush(mongoc_stream_t* s) {
  return mongoc_stream_flush(of(s).base);
}

ssize_t bounded_writev(mongoc_stream_t* s, mongoc_iovec_t* iov, size_t n, int32_t timeout_msec) {
  return mongoc_stream_writev(of(s).base, iov, n, of(s).owner->cut(timeout_msec));
}

ssize_t bounded_readv(mongoc_stream_t* s, mongoc_iovec_t* iov, size_t n, size_t min_bytes,
                      int32_t timeout_msec) {
  return mongoc_stream_readv(of(s).base, iov, n, min_bytes, of(s).owner->cut(timeout_msec));
}

int bounded_setsockopt(mongoc_stream_t* s, int level, int name, void* value, mongoc_socklen_t len) {
  return mongoc_stream_setsockopt(of(s).base, level, name, value, len);
}

mongoc_stream_t* bounded_base(mongoc_stream_t* s) {
  return of(s).base;
}

bool bounded_check_closed(mongoc_stream_t* s) {
  return mongoc_stream_check_closed(of(s).base);
}

bool bounded_timed_out(mongoc_stream_t* s) {
  return mongoc_stream_timed_out(of(s).base);
}

bool bounded_should_retry(mongoc_stream_t* s) {
  return mongoc_stream_should_retry(of(s).base);
}

mongoc_stream_t* wrap(mongoc_stream_t* base, mongodb_streams* owner) {
  auto* b = new bounded_stream;
  b->vtable.type = bounded_stream_type;
  b->vtable.destroy = bounded_destroy;
  b->vtable.failed = bounded_failed;
  b->vtable.close = bounded_close;
  b->vtable.flush = bounded_flush;
  b->vtable.writev = bounded_writev;
  b->vtable.readv = bounded_readv;
  b->vtable.setsockopt = bounded_setsockopt;
  b->vtable.get_base_stream = bounded_base;
  b->vtable.check_closed = bounded_check_closed;
  b->vtable.timed_out = bounded_timed_out;
  b->vtable.should_retry = bounded_should_retry;
  // No poll: mongoc_stream_poll polls the root (socket) streams.
  b->base = base;
  b->owner = owner;
  return &b->vtable;
}

/// mongoc_socket_connect's deadline: microseconds of the monotonic clock.
int64_t expire_at(const deadline& until) {
  return bson_get_monotonic_time() + std::max<int64_t>(1, until.remaining().count()) * 1000;
}

driver_error connect_error(const mongoc_host_list_t& host, int err, const deadline& until,
                           millis budget) {
  if (until.passed() || err == ETIMEDOUT || err == EAGAIN || err == EINPROGRESS)
    return {driver_errc::timeout, "mongodb: connecting to " + std::string{host.host_and_port} +
                                    " took longer than " + std::to_string(budget.count()) + " ms"};
  return {driver_errc::refused, "mongodb: cannot connect to " + std::string{host.host_and_port} +
                                  ": " + std::strerror(err)};
}

} // namespace

mongodb_streams::mongodb_streams(millis connect_timeout, const mongoc_uri_t* uri)
    : connect_timeout_(connect_timeout), tls_(mongoc_uri_get_tls(uri)) {
  if (auto* v = mongoc_uri_get_option_as_utf8(uri, MONGOC_URI_TLSCAFILE, nullptr))
    ca_file_ = v;
  if (auto* v = mongoc_uri_get_option_as_utf8(uri, MONGOC_URI_TLSCERTIFICATEKEYFILE, nullptr))
    pem_file_ = v;
  bool insecure = mongoc_uri_get_option_as_bool(uri, MONGOC_URI_TLSINSECURE, false);
  allow_invalid_certificates_ =
    insecure || mongoc_uri_get_option_as_bool(uri, MONGOC_URI_TLSALLOWINVALIDCERTIFICATES, false);
  allow_invalid_hostnames_ =
    insecure || mongoc_uri_get_option_as_bool(uri, MONGOC_URI_TLSALLOWINVALIDHOSTNAMES, false);
}

void mongodb_streams::attach(mongoc_client_t* client) {
  mongoc_client_set_stream_initiator(client, initiate, this);
}

void mongodb_streams::begin_call(const deadline& until) {
  call_ = until;
}

void mongodb_streams::end_call() {
  call_.reset();
}

bool mongodb_streams::peers_present() const {
  return std::none_of(open_.begin(), open_.end(),
                      [](mongoc_stream_t* s) { return mongoc_stream_check_closed(s); });
}

int32_t mongodb_streams::cut(int32_t timeout_msec) const {
  if (!call_)
    return timeout_msec; // a lease holder's own command: libmongoc's socketTimeoutMS
  int32_t left = call_->poll_timeout();
  return timeout_msec < 0 ? left : std::min(timeout_msec, left);
}

mongoc_stream_t* mongodb_streams::initiate(const mongoc_uri_t*, const mongoc_host_list_t* host,
                                           void* self, bson_error_t* error) {
  return static_cast<mongodb_streams*>(self)->connect(*host, error);
}

mongoc_stream_t* mongodb_streams::fail(bson_error_t* error, uint32_t code, driver_error why) {
  bson_set_error(error, MONGOC_ERROR_STREAM, code, "%s", why.message.c_str());
  connect_failure_ = std::move(why);
  return nullptr;
}

mongoc_stream_t* mongodb_streams::connect(const mongoc_host_list_t& host, bson_error_t* error) {
  auto budget = call_ ? std::min(connect_timeout_, call_->remaining()) : connect_timeout_;
  deadline until{budget};
  mongoc_socket_t* sock = nullptr;
  if (host.family == AF_UNIX) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    auto path = std::strlen(host.host);
    if (path >= sizeof addr.sun_path)
      return fail(
        error, MONGOC_ERROR_STREAM_CONNECT,
        {driver_errc::refused, "mongodb: socket path too long: " + std::string{host.host}});
    std::memcpy(addr.sun_path, host.host, path);
    sock = mongoc_socket_new(AF_UNIX, SOCK_STREAM, 0);
    if (sock && mongoc_socket_connect(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr,
                                      expire_at(until)) != 0) {
      int err = mongoc_socket_errno(sock);
      mongoc_socket_destroy(sock);
      return fail(error, MONGOC_ERROR_STREAM_CONNECT, connect_error(host, err, until, budget));
    }
  } else {
    auto found = resolve(host.host, host.port, until);
    if (!found)
      return fail(error, MONGOC_ERROR_STREAM_NAME_RESOLUTION,
                  {found.error().code, "mongodb: " + found.error().message});
    int err = 0;
    for (const auto& a : found.value()) {
      sock = mongoc_socket_new(a.addr.ss_family, SOCK_STREAM, 0);
      if (!sock) {
        err = errno;
        continue;
      }
      if (mongoc_socket_connect(sock, reinterpret_cast<const sockaddr*>(&a.addr), a.len,
                                expire_at(until)) == 0)
        break;
      err = mongoc_socket_errno(sock);
      mongoc_socket_destroy(std::exchange(sock, nullptr));
      if (until.passed())
        break;
    }
    if (!sock)
      return fail(error, MONGOC_ERROR_STREAM_CONNECT, connect_error(host, err, until, budget));
  }
  if (!sock)
    return fail(error, MONGOC_ERROR_STREAM_CONNECT, connect_error(host, errno, until, budget));

  mongoc_stream_t* stream = mongoc_stream_socket_new(sock);
  if (tls_) {
    mongoc_ssl_opt_t opt = *mongoc_ssl_opt_get_default();
    opt.ca_file = ca_file_.empty() ? nullptr : ca_file_.c_str();
    opt.pem_file = pem_file_.empty() ? nullptr : pem_file_.c_str();
    opt.weak_cert_validation = allow_invalid_certificates_;
    opt.allow_invalid_hostname = allow_invalid_hostnames_;
    auto* tls = mongoc_stream_tls_new_with_hostname(stream, host.host, &opt, 1);
    if (!tls) {
      mongoc_stream_destroy(stream);
      return fail(
        error, MONGOC_ERROR_STREAM_SOCKET,
        {driver_errc::broken, "mongodb: cannot set up TLS for " + std::string{host.host_and_port}});
    }
    stream = tls;
    bson_error_t why{};
    if (!mongoc_stream_tls_handshake_block(stream, host.host, until.poll_timeout(), &why)) {
      mongoc_stream_destroy(stream);
      return fail(error, MONGOC_ERROR_STREAM_SOCKET,
                  {until.passed() ? driver_errc::timeout : driver_errc::broken,
                   "mongodb: TLS handshake with " + std::string{host.host_and_port} +
                     " failed: " + why.message});
    }
  }
  connect_failure_.reset();
  auto* bounded = wrap(mongoc_stream_buffered_new(stream, 1024), this);
  open_.insert(bounded);
  return bounded;
}

} // namespace custodian::drivers
