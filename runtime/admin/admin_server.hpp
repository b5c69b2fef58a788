#pragma once
// The admin HTTP server: the JSON API, /metrics, probes, the dashboard and the
// live event stream (docs/api.md), on threads of its own. It talks to the node
// only through `node_api`, so it needs no actor system.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "runtime/node/node_api.hpp"

namespace custodian {

struct admin_server_config {
  std::string bind = "127.0.0.1";
  /// 0 picks a free port (tests); port() tells which.
  uint16_t port = 8080;
  /// Bearer token every mutating request must carry; empty = no auth, which
  /// only a loopback bind allows.
  std::string token;
  /// Reads (GET /api/v1/..., /metrics) need the token too; probes and the
  /// dashboard's files stay open.
  bool protect_reads = false;
  std::size_t max_body_bytes = 1 << 20;
  /// Worker threads; each event stream holds one, so at most threads - 1 streams.
  std::size_t threads = 4;
  std::chrono::seconds sse_keepalive{15};
};

class admin_server {
public:
  /// Binds and starts serving. Throws std::invalid_argument for a non-loopback
  /// bind without a token, or when bind:port cannot be bound (naming the reason).
  admin_server(node_api& node, admin_server_config config);
  ~admin_server();

  admin_server(const admin_server&) = delete;
  admin_server& operator=(const admin_server&) = delete;

  /// The port it listens on (the one picked when the config said 0).
  uint16_t port() const;
  /// Ends open event streams, stops listening and waits for the worker threads.
  /// Idempotent.
  void stop();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// Compares a presented secret with the expected one in time that depends only
/// on the presented length.
bool constant_time_equal(const std::string& presented, const std::string& expected);

} // namespace custodian
