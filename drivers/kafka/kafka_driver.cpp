#include "drivers/kafka/kafka_driver.hpp"

#include <algorithm>
#include <future>
#include <optional>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include "drivers/deadline.hpp"
#include "drivers/kafka/kafka_callbacks.hpp"

namespace custodian::drivers {

namespace {

using json = nlohmann::json;

constexpr int purge_everything = RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT;

std::string ms_text(millis t) {
  return std::to_string(t.count()) + " ms";
}

int ms_int(millis t) {
  return static_cast<int>(std::clamp<int64_t>(t.count(), 0, INT32_MAX));
}

/// The class of a librdkafka error (docs/drivers.md, "kafka").
driver_errc class_of(rd_kafka_resp_err_t err) {
  switch (err) {
  case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
  case RD_KAFKA_RESP_ERR__TIMED_OUT:
  case RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE:
  case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
  case RD_KAFKA_RESP_ERR__PURGE_QUEUE:
  case RD_KAFKA_RESP_ERR__PURGE_INFLIGHT:
    return driver_errc::timeout;
  case RD_KAFKA_RESP_ERR__AUTHENTICATION:
  case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
    return driver_errc::auth;
  case RD_KAFKA_RESP_ERR__TRANSPORT:
  case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
  case RD_KAFKA_RESP_ERR__RESOLVE:
  case RD_KAFKA_RESP_ERR__SSL:
  case RD_KAFKA_RESP_ERR__FATAL:
  case RD_KAFKA_RESP_ERR__FAIL:
  case RD_KAFKA_RESP_ERR__DESTROY:
  case RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION:
    return driver_errc::broken;
  case RD_KAFKA_RESP_ERR__QUEUE_FULL:
  case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
  case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
  case RD_KAFKA_RESP_ERR_BROKER_NOT_AVAILABLE:
  case RD_KAFKA_RESP_ERR_REPLICA_NOT_AVAILABLE:
  case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS:
  case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
  case RD_KAFKA_RESP_ERR_KAFKA_STORAGE_ERROR:
  case RD_KAFKA_RESP_ERR_THROTTLING_QUOTA_EXCEEDED:
    return driver_errc::unavailable;
  default:
    // The request itself: unknown topic or partition, a message too large, not
    // authorized for the topic, an invalid record.
    return driver_errc::rejected;
  }
}

/// " (last broker error: ...)" when librdkafka said why, else "".
std::string broker_context(const kafka_callbacks& cb) {
  return cb.broker_error.empty() ? "" : " (last broker error: " + cb.broker_error + ")";
}

// --- exec requests ------------------------------------------------------------

struct produce_request {
  std::string topic;
  int32_t partition = RD_KAFKA_PARTITION_UA;
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::vector<std::pair<std::string, std::optional<std::string>>> headers;
};

driver_error bad_request(const std::string& why) {
  return {driver_errc::rejected, "kafka: bad request: " + why};
}

/// A string as its bytes, null as no bytes, anything else as its JSON text.
std::optional<std::string> payload_of(const json& v) {
  if (v.is_null())
    return std::nullopt;
  return v.is_string() ? v.get<std::string>() : v.dump();
}

driver_result<produce_request> parse_request(const json& req, const std::string& default_topic) {
  if (!req.is_object())
    return bad_request(
      "must be an object {\"key\", \"value\", \"headers\", \"topic\", \"partition\"}");
  static const std::vector<std::string_view> keys{"key", "value", "headers", "topic", "partition"};
  produce_request out;
  out.topic = default_topic;
  for (const auto& [name, v] : req.items()) {
    if (std::find(keys.begin(), keys.end(), name) == keys.end())
      return bad_request("unknown key \"" + name + "\"" + schema::suggestion(name, keys));
    if (name == "key") {
      out.key = payload_of(v);
    } else if (name == "value") {
      out.value = payload_of(v);
    } else if (name == "topic") {
      if (!v.is_string() || v.get<std::string>().empty())
        return bad_request("topic: must be a non-empty string");
      out.topic = v.get<std::string>();
    } else if (name == "partition") {
      if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > INT32_MAX)
        return bad_request("partition: must be an integer ≥ 0");
      out.partition = static_cast<int32_t>(v.get<int64_t>());
    } else {
      if (!v.is_object())
        return bad_request("headers: must be an object of strings");
      for (const auto& [header, text] : v.items()) {
        if (!text.is_string() && !text.is_null())
          return bad_request("headers." + header + ": must be a string or null");
        out.headers.emplace_back(header, payload_of(text));
      }
    }
  }
  if (out.topic.empty())
    return bad_request("no topic: the request names none and driver_config.topic is not set");
  return out;
}

rd_kafka_vu_t bytes_arg(rd_kafka_vtype_t type, const std::optional<std::string>& bytes) {
  rd_kafka_vu_t vu{};
  vu.vtype = type;
  // RD_KAFKA_MSG_F_COPY: librdkafka copies, never writes.
  vu.u.mem.ptr = bytes ? const_cast<char*>(bytes->data()) : nullptr;
  vu.u.mem.size = bytes ? bytes->size() : 0;
  return vu;
}

} // namespace

// --- kafka_connection -----------------------------------------------------------

kafka_connection::kafka_connection(rd_kafka_t* rk, rd_kafka_topic_t* default_topic,
                                   std::shared_ptr<kafka_callbacks> callbacks,
                                   std::string bootstrap_servers,
                                   std::shared_ptr<std::atomic<int64_t>> open)
    : rk_(rk), default_topic_(default_topic), callbacks_(std::move(callbacks)),
      bootstrap_servers_(std::move(bootstrap_servers)), open_(std::move(open)) {
  if (default_topic_)
    topics_[rd_kafka_topic_name(default_topic_)] = default_topic_;
}

kafka_connection::~kafka_connection() {
  if (rk_)
    purge_and_destroy(millis{0});
}

driver_status kafka_connection::await_broker(const deadline& until, bool connecting) {
  auto& cb = *callbacks_;
  // Short asks first, so that a refusal (which librdkafka reports as an event)
  // ends a connect at once instead of at its deadline.
  millis slice{100};
  for (;;) {
    const rd_kafka_metadata_t* md = nullptr;
    auto err = rd_kafka_metadata(rk_, 0, default_topic_, &md,
                                 ms_int(std::max(millis{1}, std::min(slice, until.remaining()))));
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      topic_problem_.clear();
      if (default_topic_ && md->topic_cnt == 1 && md->topics[0].err)
        topic_problem_ = std::string{"default topic "} + md->topics[0].topic + ": " +
                         rd_kafka_err2str(md->topics[0].err);
      rd_kafka_metadata_destroy(md);
      cb.broker_answered();
      return done{};
    }
    rd_kafka_poll(rk_, 0); // serves the error events that say why
    if (!cb.fatal_error.empty())
      return driver_error{driver_errc::broken, "kafka: the producer failed: " + cb.fatal_error};
    if (!cb.auth_error.empty())
      return driver_error{driver_errc::auth, "kafka: " + cb.auth_error};
    if (connecting && cb.brokers_down)
      return driver_error{driver_errc::refused, "kafka: no broker of " + bootstrap_servers_ +
                                                  " answers" + broker_context(cb)};
    if (until.passed()) {
      if (cb.brokers_down)
        return driver_error{driver_errc::broken,
                            "kafka: every broker is down" + broker_context(cb)};
      return driver_error{driver_errc::timeout, "kafka: no broker of " + bootstrap_servers_ +
                                                  " answered in time (" + rd_kafka_err2str(err) +
                                                  ")" + broker_context(cb)};
    }
    slice = std::min(slice * 2, millis{1'000});
  }
}

rd_kafka_topic_t* kafka_connection::topic(const std::string& name, const deadline& until) {
  if (auto known = topics_.find(name); known != topics_.end())
    return known->second;
  auto* handle = rd_kafka_topic_new(rk_, name.c_str(), nullptr);
  if (!handle)
    return nullptr; // produced by name, librdkafka tells what is wrong with it
  const rd_kafka_metadata_t* md = nullptr;
  if (rd_kafka_metadata(rk_, 0, handle, &md, ms_int(until.remaining())) ==
      RD_KAFKA_RESP_ERR_NO_ERROR)
    rd_kafka_metadata_destroy(md);
  return topics_[name] = handle;
}

bool kafka_connection::do_alive() {
  rd_kafka_poll(rk_, 0);
  return callbacks_->fatal_error.empty() && !callbacks_->brokers_down;
}

bool kafka_connection::do_needs_reset() {
  rd_kafka_poll(rk_, 0); // delivery reports and events count as pending until served
  return rd_kafka_outq_len(rk_) > 0;
}

driver_status kafka_connection::do_ping(millis timeout) {
  return await_broker(deadline{timeout}, false);
}

driver_result<std::string> kafka_connection::do_check(millis) {
  return topic_problem_;
}

driver_result<json> kafka_connection::do_exec(const json& request, millis timeout) {
  deadline until{timeout};
  auto parsed = parse_request(request, default_topic_ ? rd_kafka_topic_name(default_topic_) : "");
  if (!parsed)
    return parsed.error();
  const auto& req = parsed.value();

  std::vector<rd_kafka_vu_t> args;
  rd_kafka_vu_t vu{};
  if (auto* handle = topic(req.topic, until)) {
    vu.vtype = RD_KAFKA_VTYPE_RKT;
    vu.u.rkt = handle;
  } else {
    vu.vtype = RD_KAFKA_VTYPE_TOPIC;
    vu.u.cstr = req.topic.c_str();
  }
  args.push_back(vu);
  vu.vtype = RD_KAFKA_VTYPE_PARTITION;
  vu.u.i32 = req.partition;
  args.push_back(vu);
  vu.vtype = RD_KAFKA_VTYPE_MSGFLAGS;
  vu.u.i = RD_KAFKA_MSG_F_COPY;
  args.push_back(vu);
  auto id = ++next_message_;
  vu.vtype = RD_KAFKA_VTYPE_OPAQUE;
  vu.u.ptr = reinterpret_cast<void*>(static_cast<uintptr_t>(id));
  args.push_back(vu);
  args.push_back(bytes_arg(RD_KAFKA_VTYPE_KEY, req.key));
  args.push_back(bytes_arg(RD_KAFKA_VTYPE_VALUE, req.value));
  for (const auto& [name, text] : req.headers) {
    rd_kafka_vu_t h{};
    h.vtype = RD_KAFKA_VTYPE_HEADER;
    h.u.header.name = name.c_str();
    h.u.header.val = text ? text->data() : nullptr;
    h.u.header.size = text ? static_cast<ssize_t>(text->size()) : 0;
    args.push_back(h);
  }

  auto& cb = *callbacks_;
  cb.awaited = id;
  cb.delivered = false;
  if (auto* failed = rd_kafka_produceva(rk_, args.data(), args.size())) {
    auto code = rd_kafka_error_code(failed);
    std::string text = rd_kafka_error_string(failed);
    rd_kafka_error_destroy(failed);
    cb.awaited = 0;
    return driver_error{class_of(code), "kafka: cannot produce to " + req.topic + ": " + text};
  }
  while (!cb.delivered && !until.passed())
    rd_kafka_poll(rk_, until.poll_timeout());
  cb.awaited = 0;
  if (!cb.delivered) {
    // Nothing else is pending (calls are serialised and a holder's leftovers are
    // flushed on return): the purge takes only this message back.
    rd_kafka_purge(rk_, purge_everything);
    rd_kafka_poll(rk_, 0);
    return driver_error{
      driver_errc::timeout,
      "kafka: no delivery report for the message to " + req.topic + " within " + ms_text(timeout) +
        "; it was purged and may or may not have been written" + broker_context(cb)};
  }
  if (cb.delivery_error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    auto code = class_of(cb.delivery_error);
    return driver_error{code, "kafka: delivery to " + req.topic +
                                " failed: " + rd_kafka_err2str(cb.delivery_error) +
                                (code == driver_errc::rejected ? "" : broker_context(cb))};
  }
  cb.broker_answered();
  return json{{"topic", cb.topic}, {"partition", cb.partition}, {"offset", cb.offset}};
}

driver_status kafka_connection::do_reset(millis timeout) {
  rd_kafka_flush(rk_, ms_int(timeout));
  if (auto left = rd_kafka_outq_len(rk_); left > 0) {
    rd_kafka_purge(rk_, purge_everything);
    rd_kafka_poll(rk_, 0);
    return driver_error{driver_errc::timeout,
                        "kafka: " + std::to_string(left) +
                          " messages left by the lease holder were not delivered within " +
                          ms_text(timeout) + " and were purged" + broker_context(*callbacks_)};
  }
  return done{};
}

driver_status kafka_connection::do_close(millis timeout) {
  deadline until{timeout};
  // Most of the budget for the flush; the rest for the purge and the destroy.
  rd_kafka_flush(rk_, ms_int(until.remaining() * 3 / 4));
  return purge_and_destroy(until.remaining());
}

driver_status kafka_connection::purge_and_destroy(millis wait) {
  rd_kafka_purge(rk_, purge_everything);
  rd_kafka_poll(rk_, 0);
  for (auto& [name, handle] : topics_)
    rd_kafka_topic_destroy(handle);
  topics_.clear();
  default_topic_ = nullptr;
  // rd_kafka_destroy joins librdkafka's threads, which nothing bounds (a broker
  // thread may be resolving a name): it runs on a thread of its own, and close
  // waits for it only as long as it may.
  auto stopped = std::make_shared<std::promise<void>>();
  auto done_stopping = stopped->get_future();
  std::thread{[rk = std::exchange(rk_, nullptr), callbacks = callbacks_, open = open_, stopped] {
    rd_kafka_destroy_flags(rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    --*open;
    stopped->set_value();
  }}.detach();
  if (done_stopping.wait_for(wait) != std::future_status::ready)
    return driver_error{driver_errc::timeout, "kafka: the producer did not stop within " +
                                                ms_text(wait) + "; it stops in the background"};
  return done{};
}

// --- kafka_driver ---------------------------------------------------------------

kafka_driver::kafka_driver(kafka_settings settings) : settings_(std::move(settings)) {}

std::vector<config_problem> kafka_driver::problems_of(const json& driver_config) {
  return kafka_settings::problems_of(driver_config);
}

std::shared_ptr<kafka_driver> kafka_driver::from_config(const json& driver_config) {
  return std::make_shared<kafka_driver>(kafka_settings::from_config(driver_config));
}

std::string kafka_driver::name() const {
  return "kafka";
}

driver_result<std::shared_ptr<connection>> kafka_driver::do_connect(const std::string& resource_id,
                                                                    millis timeout) {
  deadline until{timeout};
  std::vector<std::pair<std::string, std::string>> properties{
    // Defaults that properties may override: a client.id the brokers' logs show,
    // and broker connections (with their handshakes) given up about when this
    // connect would be (librdkafka's default: 30 s), a second later so that this
    // connect's own deadline says timeout first.
    {"client.id", "custodian-" + resource_id},
    {"socket.connection.setup.timeout.ms",
     std::to_string(std::min<int64_t>(timeout.count() + 1'000, INT32_MAX))},
    // An exec waits for its one message: waiting for a batch (librdkafka's 5 ms)
    // would only delay it.
    {"linger.ms", "0"},
  };
  properties.insert(properties.end(), settings_.properties.begin(), settings_.properties.end());
  properties.emplace_back("bootstrap.servers", settings_.bootstrap_servers);
  properties.emplace_back("message.timeout.ms", std::to_string(settings_.delivery_timeout.count()));
  if (!settings_.sasl_password.empty()) {
    auto password = settings_.sasl_password.resolve();
    if (!password)
      return password.error();
    properties.emplace_back("sasl.password", std::move(password.value()));
  }

  std::unique_ptr<rd_kafka_conf_t, decltype(&rd_kafka_conf_destroy)> conf{rd_kafka_conf_new(),
                                                                          rd_kafka_conf_destroy};
  char err[512] = "";
  for (const auto& [name, value] : properties)
    if (rd_kafka_conf_set(conf.get(), name.c_str(), value.c_str(), err, sizeof err) !=
        RD_KAFKA_CONF_OK)
      return driver_error{driver_errc::rejected,
                          "kafka: property " + name + ": " +
                            (is_secret_kafka_property(name) ? "invalid value" : err)};
  auto callbacks = std::make_shared<kafka_callbacks>();
  callbacks->resolve_budget = timeout;
  callbacks->install(conf.get());
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), err, sizeof err);
  if (!rk)
    return driver_error{driver_errc::rejected,
                        std::string{"kafka: cannot make a producer: "} + err};
  conf.release(); // the producer owns it now
  ++*open_;
  auto* topic =
    settings_.topic.empty() ? nullptr : rd_kafka_topic_new(rk, settings_.topic.c_str(), nullptr);
  auto conn = std::make_shared<kafka_connection>(rk, topic, std::move(callbacks),
                                                 settings_.bootstrap_servers, open_);
  // A broker must answer (the default topic's metadata, so that the first
  // message does not wait for it).
  if (auto up = conn->await_broker(until, true); !up) {
    conn->close(until.remaining());
    return up.error();
  }
  return std::shared_ptr<connection>{std::move(conn)};
}

} // namespace custodian::drivers
