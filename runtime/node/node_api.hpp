#pragma once
// What the admin HTTP server asks of a node. Plain C++ with no CAF in it, so the
// server, the dashboard and their tests need no actor system: the node implements
// it by asking its actors and waiting (bounded) for their answers. Every call
// returns the JSON body of its answer or throws `api_error`. The shapes of the
// bodies are the HTTP API's (docs/api.md).

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "messages/errc.hpp"

namespace custodian {

/// One thing wrong with a request, at a JSON path of its body ("pools[2].max_size").
struct api_problem {
  std::string path;
  std::string message;
};

/// A refused or failed request: why, as a custodian error code (the admin server
/// answers it with its HTTP status), and what goes into the body
/// {"error":{"code":"...","message":"...","path":"...","problems":[...]}}.
class api_error : public std::runtime_error {
public:
  api_error(errc code, const std::string& message, std::string path = {},
            std::vector<api_problem> problems = {})
      : std::runtime_error(message), code_(code), path_(std::move(path)),
        problems_(std::move(problems)) {}

  /// A failure inside the node that no code names (answered as "internal").
  static api_error internal(const std::string& message) { return api_error(message); }

  /// Why; none for a failure inside the node.
  const std::optional<errc>& code() const noexcept { return code_; }
  /// The JSON path or the request part that was wrong; may be empty.
  const std::string& path() const noexcept { return path_; }
  /// Every problem found when there are several (a config is validated whole).
  const std::vector<api_problem>& problems() const noexcept { return problems_; }

private:
  explicit api_error(const std::string& message) : std::runtime_error(message) {}

  std::optional<errc> code_;
  std::string path_;
  std::vector<api_problem> problems_;
};

/// A live feed of the node's events; it stops when destroyed.
class event_feed {
public:
  virtual ~event_feed() = default;
};

/// Who asked, for the audit log ("api 127.0.0.1:53122", "custodianctl", "sighup").
using requester = std::string;

class node_api {
public:
  virtual ~node_api() = default;

  /// GET /readyz: every pool of the config has started and the node is not
  /// shutting down. {"ready": bool, "reason": "..."}
  virtual nlohmann::json readiness() = 0;
  /// GET /api/v1 (custodianctl status): node name, version, uptime, pools in
  /// summary, config drift, event counters.
  virtual nlohmann::json status() = 0;
  /// GET pools: {"pools": [summary...]} in start order.
  virtual nlohmann::json pools() = 0;
  /// GET pools/{name}: summary, stats, resources, quarantine, config (secrets
  /// redacted), config version, dependencies and dependants.
  virtual nlohmann::json pool(const std::string& name) = 0;
  /// POST pools: validates a pool's config (bad_config with every problem), adds
  /// it, stores it as version 1. Replies the new pool's detail.
  virtual nlohmann::json create_pool(const nlohmann::json& config, const requester& who) = 0;
  /// PATCH pools/{name}: a JSON merge patch (RFC 7386) of the pool's config,
  /// validated whole; hot fields are applied in place, a new driver or
  /// driver_config by a rolling replace. {"version": N, "applied": "hot" |
  /// "rolling" | "unchanged", "changed": ["max_size", ...]}
  virtual nlohmann::json update_pool(const std::string& name, const nlohmann::json& patch,
                                     const requester& who) = 0;
  /// DELETE pools/{name}: drains it (stops it at once with `force`); refused with
  /// `conflict` while another pool depends on it hard.
  virtual nlohmann::json delete_pool(const std::string& name, bool force, const requester& who) = 0;
  /// POST pools/{name}/{drain|suspend|resume|resize}; resize's body is
  /// {"min_idle": N, "max_size": N} (either may be left out).
  virtual nlohmann::json pool_action(const std::string& name, const std::string& action,
                                     const nlohmann::json& body, const requester& who) = 0;
  /// POST pools/{name}/exec: {"request": <driver request>, "timeout_ms": N}; leases
  /// a resource, runs the request on it, gives it back. {"resource": id,
  /// "response": <driver response>}
  virtual nlohmann::json exec(const std::string& pool, const nlohmann::json& body,
                              const requester& who) = 0;
  /// POST resources/{id}/{quarantine|release|maintain}; quarantine takes
  /// {"reason": "..."}.
  virtual nlohmann::json resource_action(const std::string& id, const std::string& action,
                                         const nlohmann::json& body, const requester& who) = 0;
  /// GET events?since=SEQ: {"events": [event...], "last_seq": N, "oldest_seq": N}
  /// with at most `limit` events after `since`, oldest first.
  virtual nlohmann::json events(uint64_t since, std::size_t limit) = 0;
  /// GET events/stream: calls `on_event` with each event's JSON line (the event
  /// contract), first those after `since` that are still kept, then live ones, on
  /// a thread of the node's: keep it short. Ends when the feed is destroyed.
  virtual std::unique_ptr<event_feed>
  follow_events(uint64_t since, std::function<void(const std::string& json_line)> on_event) = 0;
  /// GET audit?since=SEQ: {"audit": [{"seq", "ts", "requester", "action", "target",
  /// "detail"}...]} with at most `limit` operator actions after `since`, oldest
  /// first, secrets redacted.
  virtual nlohmann::json audit_log(uint64_t since, std::size_t limit) = 0;
  /// GET pools/{name}/config/history: {"pool": name, "versions": [{"version",
  /// "ts", "source", "requester", "config"}...]}, newest last, secrets redacted.
  virtual nlohmann::json config_history(const std::string& name) = 0;
  /// POST config/reload (and SIGHUP): reads the config file again, validates it
  /// whole (bad_config with every problem, nothing changed), then creates,
  /// updates and deletes pools to match. {"pools": [{"name", "applied"}...]}
  virtual nlohmann::json reload(const requester& who) = 0;
  /// GET backup: configs with their history, quarantine records and the audit
  /// log, secrets redacted.
  virtual nlohmann::json backup() = 0;
  /// POST restore: the body of a backup; validated first, then applied.
  virtual nlohmann::json restore(const nlohmann::json& backup, const requester& who) = 0;
  /// GET /metrics: the Prometheus text exposition format.
  virtual std::string metrics() = 0;
};

} // namespace custodian
