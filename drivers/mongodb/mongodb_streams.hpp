#pragma once
// The streams of one mongoc client, made by the driver rather than by libmongoc:
// name resolution, TCP connect and TLS handshake end by the deadline of the call
// that needs them (libmongoc resolves with a bare getaddrinfo), every later
// socket wait is cut to what remains of the current call (libmongoc waits up to
// socketTimeoutMS, 5 minutes by default), and each stream can be asked, without
// blocking, whether its peer hung up.

#include <cstdint>
#include <mongoc/mongoc.h>
#include <optional>
#include <set>
#include <string>

#include "drivers/deadline.hpp"
#include "drivers/driver.hpp"

namespace custodian::drivers {

class mongodb_streams {
public:
  /// `connect_timeout` bounds each connect with its handshakes; `uri` says
  /// whether to speak TLS and with which files.
  mongodb_streams(millis connect_timeout, const mongoc_uri_t* uri);

  mongodb_streams(const mongodb_streams&) = delete;
  mongodb_streams& operator=(const mongodb_streams&) = delete;

  /// Makes `client` open its connections here; before its first command. The
  /// client must be destroyed before this object.
  void attach(mongoc_client_t* client);

  /// Each driver call on the client runs between begin_call and end_call: no
  /// socket wait (nor connect) outlasts `until` meanwhile.
  void begin_call(const deadline& until);
  void end_call();

  /// Why the latest connect failed (refused, timeout, broken TLS); none once one
  /// succeeded.
  const std::optional<driver_error>& connect_failure() const { return connect_failure_; }

  /// Whether the peer of every open stream is still there (no wait).
  bool peers_present() const;

  // For the streams this object makes.

  /// libmongoc's `timeout_msec` (< 0: no limit, 0: do not wait) cut to what
  /// remains of the current call.
  int32_t cut(int32_t timeout_msec) const;
  /// A stream that libmongoc destroyed.
  void forget(mongoc_stream_t* stream) { open_.erase(stream); }

private:
  static mongoc_stream_t* initiate(const mongoc_uri_t* uri, const mongoc_host_list_t* host,
                                   void* self, bson_error_t* error);
  mongoc_stream_t* connect(const mongoc_host_list_t& host, bson_error_t* error);
  mongoc_stream_t* fail(bson_error_t* error, uint32_t code, driver_error why);

  millis connect_timeout_;
  bool tls_ = false;
  /// The TLS files; the strings outlive every handshake that points to them.
  std::string ca_file_, pem_file_;
  bool allow_invalid_certificates_ = false;
  bool allow_invalid_hostnames_ = false;
  std::optional<deadline> call_;
  std::optional<driver_error> connect_failure_;
  std::set<mongoc_stream_t*> open_;
};

} // namespace custodian::drivers
