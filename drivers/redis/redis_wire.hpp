#pragma once
// Bounded I/O on a hiredis context. hiredis 0.14 bounds only its own connect, and
// its blocking reads only per read(2); so the driver connects the socket itself
// and runs every command with the socket non-blocking, waiting with poll(2) until
// the call's deadline. Writes use send(MSG_NOSIGNAL): a server that went away is
// an error, not a SIGPIPE.

#include <hiredis/hiredis.h>
#include <memory>
#include <string>
#include <vector>

#include "drivers/deadline.hpp"
#include "drivers/driver.hpp"

namespace custodian::drivers {

struct reply_deleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using reply_ptr = std::unique_ptr<redisReply, reply_deleter>;

struct context_deleter {
  void operator()(redisContext* c) const { redisFree(c); }
};
using context_ptr = std::unique_ptr<redisContext, context_deleter>;

/// A context on the first of `addresses` that accepts a TCP connection by the
/// deadline (TCP_NODELAY and keepalive on), in non-blocking mode. `refused` when
/// none accepts, `timeout` when the deadline passes first.
driver_result<context_ptr> open_context(const std::vector<resolved_address>& addresses,
                                        const deadline& until);

/// Queues one command, its arguments binary-safe.
void append_command(redisContext* c, const std::vector<std::string>& argv);

/// Sends everything queued. `timeout`, or `broken` with the system's reason.
driver_status flush(redisContext* c, const deadline& until);

/// The next reply (a reply already read comes first). `timeout`, or `broken` when
/// the server closed the connection or sent what is not RESP.
driver_result<reply_ptr> next_reply(redisContext* c, const deadline& until);

/// Whether bytes wait in the context: commands queued and not sent, or a reply
/// (part of one) read and not taken.
bool has_leftovers(const redisContext* c);

/// Switches the socket and hiredis between blocking (for the application's own
/// redisCommand calls, each read and write bounded by `timeout`) and non-blocking
/// (the driver's calls).
void set_blocking(redisContext* c, bool blocking, millis timeout);

} // namespace custodian::drivers
