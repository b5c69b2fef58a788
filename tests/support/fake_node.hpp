#pragma once
// A recording node_api for the admin server's tests: canned answers, every call
// recorded with its arguments and requester, failures on demand, and an event
// feed the test pushes into.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/node/node_api.hpp"

namespace custodian::test {

/// One call the server made.
struct node_call {
  std::string method;
  nlohmann::json args; // the call's arguments by name
  std::string who;     // requester, empty for reads
};

class fake_node : public node_api {
public:
  fake_node() {
    auto summary = [](const std::string& name) {
      return nlohmann::json{
        {"name", name},
        {"driver", "sim"},
        {"state", "active"},
        {"health", "healthy"},
        {"availability", {{"level", "available"}, {"root_cause", ""}, {"reason", ""}}},
        {"size", 3},
        {"idle", 2},
        {"in_use", 1},
        {"waiters", 0},
        {"quarantined", 0},
        {"degraded", 0},
        {"min_idle", 2},
        {"max_size", 8},
        {"depends_on", nlohmann::json::array()}};
    };
    replies_["readiness"] = {{"ready", true}, {"reason", ""}};
    replies_["pools"] = {{"pools", {summary("orders-db"), summary("cache")}}};
    auto detail = summary("orders-db");
    detail["resources"] = {{{"id", "orders-db-1"},
                            {"state", "idle"},
                            {"health", "healthy"},
                            {"leased", false},
                            {"quarantined", false}}};
    detail["quarantine"] = nlohmann::json::array();
    detail["config_version"] = 1;
    replies_["pool"] = detail;
    replies_["status"] = {{"node", "node-a"},
                          {"version", "0.1.0"},
                          {"uptime_s", 42},
                          {"ready", true},
                          {"pools", replies_["pools"]["pools"]},
                          {"drift", nlohmann::json::array()},
                          {"events", {{"last_seq", 0}, {"dropped", 0}}}};
    replies_["create_pool"] = detail;
    replies_["update_pool"] = {{"version", 2}, {"applied", "hot"}, {"changed", {"max_size"}}};
    replies_["delete_pool"] = {{"deleted", "orders-db"}, {"drained", true}, {"forced", false}};
    replies_["pool_action"] = summary("orders-db");
    replies_["exec"] = {{"resource", "orders-db-1"}, {"response", {{"rows", 1}}}};
    replies_["resource_action"] = {
      {"resource", "orders-db-1"}, {"pool", "orders-db"}, {"action", "quarantine"}, {"ok", true}};
    replies_["events"] = {{"events", nlohmann::json::array()}, {"last_seq", 0}, {"oldest_seq", 0}};
    replies_["audit_log"] = {{"audit",
                              {{{"seq", 1},
                                {"ts", "2024-01-01T00:00:00Z"},
                                {"requester", "api 127.0.0.1:40000 custodianctl"},
                                {"action", "resize"},
                                {"target", "orders-db"},
                                {"detail", {{"max_size", 4}}}},
                               {{"seq", 2},
                                {"ts", "2024-01-01T00:00:01Z"},
                                {"requester", "sighup"},
                                {"action", "reload"},
                                {"target", "conf/node.json"},
                                {"detail", nlohmann::json::object()}}}}};
    replies_["config_history"] = {{"pool", "orders-db"},
                                  {"versions",
                                   {{{"version", 1},
                                     {"ts", "2024-01-01T00:00:00Z"},
                                     {"source", "file"},
                                     {"requester", "startup"},
                                     {"config", {{"max_size", 8}}}}}}};
    replies_["reload"] = {{"pools", {{{"name", "orders-db"}, {"applied", "unchanged"}}}}};
    replies_["backup"] = {{"pools", nlohmann::json::array()}, {"audit", nlohmann::json::array()}};
    replies_["restore"] = {{"restored", {{"pools", 0}}}};
  }

  /// Replaces the canned answer of `method`.
  void reply(const std::string& method, nlohmann::json body) {
    std::lock_guard<std::mutex> guard(mutex_);
    replies_[method] = std::move(body);
  }

  /// Makes every later call of `method` throw `error`.
  template <class Exception>
  void fail(const std::string& method, Exception error) {
    std::lock_guard<std::mutex> guard(mutex_);
    failures_[method] = std::make_exception_ptr(std::move(error));
  }

  void forget_calls() {
    std::lock_guard<std::mutex> guard(mutex_);
    calls_.clear();
  }

  std::vector<node_call> calls() const {
    std::lock_guard<std::mutex> guard(mutex_);
    return calls_;
  }

  /// The last call of `method`; fails the test if there is none.
  node_call last(const std::string& method) const {
    std::lock_guard<std::mutex> guard(mutex_);
    for (auto i = calls_.rbegin(); i != calls_.rend(); ++i)
      if (i->method == method)
        return *i;
    throw std::logic_error("no call of " + method);
  }

  /// Publishes an event: kept for later followers, sent to current ones.
  void emit(const std::string& kind, const std::string& pool, const std::string& resource,
            const std::string& from, const std::string& to) {
    std::lock_guard<std::mutex> guard(mutex_);
    auto seq = kept_.size() + 1;
    nlohmann::ordered_json ev{{"seq", seq},
                              {"ts", "2024-01-01T00:00:0" + std::to_string(seq % 10) + "Z"},
                              {"kind", kind},
                              {"pool", pool},
                              {"resource", resource},
                              {"from", from},
                              {"to", to},
                              {"detail", nlohmann::json::object()}};
    kept_.push_back(ev.dump());
    for (auto& [id, on_event] : followers_)
      on_event(kept_.back());
  }

  /// Waits until `n` feeds are open; false after `timeout`.
  bool wait_for_followers(std::size_t n,
                          std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return followers_.size() == n; });
  }

  std::size_t followers() const {
    std::lock_guard<std::mutex> guard(mutex_);
    return followers_.size();
  }

  // --- node_api ---------------------------------------------------------

  nlohmann::json readiness() override { return answer("readiness", {}); }
  nlohmann::json status() override { return answer("status", {}); }
  nlohmann::json pools() override { return answer("pools", {}); }
  nlohmann::json pool(const std::string& name) override { return answer("pool", {{"name", name}}); }
  nlohmann::json create_pool(const nlohmann::json& config, const requester& who) override {
    return answer("create_pool", {{"config", config}}, who);
  }
  nlohmann::json update_pool(const std::string& name, const nlohmann::json& patch,
                             const requester& who) override {
    return answer("update_pool", {{"name", name}, {"patch", patch}}, who);
  }
  nlohmann::json delete_pool(const std::string& name, bool force, const requester& who) override {
    return answer("delete_pool", {{"name", name}, {"force", force}}, who);
  }
  nlohmann::json pool_action(const std::string& name, const std::string& action,
                             const nlohmann::json& body, const requester& who) override {
    return answer("pool_action", {{"name", name}, {"action", action}, {"body", body}}, who);
  }
  nlohmann::json exec(const std::string& pool, const nlohmann::json& body,
                      const requester& who) override {
    return answer("exec", {{"pool", pool}, {"body", body}}, who);
  }
  nlohmann::json resource_action(const std::string& id, const std::string& action,
                                 const nlohmann::json& body, const requester& who) override {
    return answer("resource_action", {{"id", id}, {"action", action}, {"body", body}}, who);
  }
  nlohmann::json events(uint64_t since, std::size_t limit) override {
    return answer("events", {{"since", since}, {"limit", limit}});
  }
  std::unique_ptr<event_feed>
  follow_events(uint64_t since, std::function<void(const std::string&)> on_event) override {
    answer("follow_events", {{"since", since}});
    std::lock_guard<std::mutex> guard(mutex_);
    for (auto seq = since; seq < kept_.size(); ++seq)
      on_event(kept_[seq]);
    auto id = next_follower_++;
    followers_.emplace(id, std::move(on_event));
    changed_.notify_all();
    return std::make_unique<feed>(*this, id);
  }
  nlohmann::json audit_log(uint64_t since, std::size_t limit) override {
    return answer("audit_log", {{"since", since}, {"limit", limit}});
  }
  nlohmann::json config_history(const std::string& name) override {
    return answer("config_history", {{"name", name}});
  }
  nlohmann::json reload(const requester& who) override { return answer("reload", {}, who); }
  nlohmann::json backup() override { return answer("backup", {}); }
  nlohmann::json restore(const nlohmann::json& backup, const requester& who) override {
    return answer("restore", {{"backup", backup}}, who);
  }
  std::string metrics() override {
    answer("metrics", {});
    return "# TYPE custodian_pool_size gauge\ncustodian_pool_size{pool=\"orders-db\"} 3\n";
  }

private:
  class feed : public event_feed {
  public:
    feed(fake_node& node, uint64_t id) : node_(node), id_(id) {}
    ~feed() override {
      std::lock_guard<std::mutex> guard(node_.mutex_);
      node_.followers_.erase(id_);
      node_.changed_.notify_all();
    }

  private:
    fake_node& node_;
    uint64_t id_;
  };

  nlohmann::json answer(const std::string& method, nlohmann::json args, const requester& who = {}) {
    std::lock_guard<std::mutex> guard(mutex_);
    calls_.push_back({method, std::move(args), who});
    if (auto failure = failures_.find(method); failure != failures_.end())
      std::rethrow_exception(failure->second);
    auto reply = replies_.find(method);
    return reply == replies_.end() ? nlohmann::json::object() : reply->second;
  }

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::string, nlohmann::json> replies_;
  std::map<std::string, std::exception_ptr> failures_;
  std::vector<node_call> calls_;
  std::vector<std::string> kept_; // event lines, seq = index + 1
  std::map<uint64_t, std::function<void(const std::string&)>> followers_;
  uint64_t next_follower_ = 0;
};

} // namespace custodian::test
