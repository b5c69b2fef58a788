#pragma once
// The `kafka` driver: each connection is a librdkafka producer. exec produces one
// message and waits for its delivery report; ping asks a broker for metadata;
// close flushes what is pending and purges what is left. Every call ends by its
// own deadline: librdkafka's waits are given what remains of it, and its name
// resolution goes through drivers/deadline.hpp's bounded resolve.

#include <atomic>
#include <cstdint>
#include <librdkafka/rdkafka.h>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "drivers/driver.hpp"
#include "drivers/kafka/kafka_config.hpp"

namespace custodian::drivers {

struct kafka_callbacks;
class deadline;

class kafka_connection final : public connection {
public:
  /// Owns `rk` (whose opaque is `callbacks`) and `default_topic` (may be null);
  /// `open` counts the driver's producers.
  kafka_connection(rd_kafka_t* rk, rd_kafka_topic_t* default_topic,
                   std::shared_ptr<kafka_callbacks> callbacks, std::string bootstrap_servers,
                   std::shared_ptr<std::atomic<int64_t>> open);
  /// Destroys the producer if close was never called (bounded, without a flush).
  ~kafka_connection() override;

  /// The producer, for the holder of a lease, on its thread while it holds the
  /// lease. Messages it produces should carry no opaque of their own (the
  /// driver's delivery callback ignores them); wait for them with
  /// rd_kafka_flush: a lease returned with messages still pending is flushed
  /// (reset) before anyone else gets the producer.
  rd_kafka_t* native() noexcept { return rk_; }

protected:
  /// Not failed for good and no word that every broker is down since the last
  /// call that reached one (librdkafka's error events, served without waiting).
  bool do_alive() override;
  /// Messages a holder produced through native() are still pending.
  bool do_needs_reset() override;
  driver_status do_ping(millis timeout) override;
  /// A default topic that the brokers do not serve makes the probe degraded.
  driver_result<std::string> do_check(millis timeout) override;
  driver_result<nlohmann::json> do_exec(const nlohmann::json& request, millis timeout) override;
  /// Flushes what a holder left pending; purges it when the flush cannot finish.
  driver_status do_reset(millis timeout) override;
  driver_status do_close(millis timeout) override;

private:
  friend class kafka_driver;

  /// Asks a broker for metadata (the default topic's, if any) until one answers
  /// or the deadline passes. While connecting, librdkafka's word that every
  /// broker is down ends it at once (`refused`).
  driver_status await_broker(const deadline& until, bool connecting);
  /// The handle of `name`. The first use of a topic asks for its metadata within
  /// `until`: librdkafka alone looks a new topic up only once a second.
  rd_kafka_topic_t* topic(const std::string& name, const deadline& until);
  /// Purges every pending message and destroys the producer, waiting at most `wait`.
  driver_status purge_and_destroy(millis wait);

  rd_kafka_t* rk_;
  /// The default topic's handle (null without one): metadata asks for it.
  rd_kafka_topic_t* default_topic_;
  /// Every topic handle made, the default topic's included.
  std::map<std::string, rd_kafka_topic_t*> topics_;
  std::shared_ptr<kafka_callbacks> callbacks_;
  std::string bootstrap_servers_;
  std::shared_ptr<std::atomic<int64_t>> open_;
  uint64_t next_message_ = 0;
  /// What the latest metadata said of the default topic ("" when it is served).
  std::string topic_problem_;
};

class kafka_driver final : public driver {
public:
  explicit kafka_driver(kafka_settings settings);

  /// Checks a driver_config (see kafka_settings::problems_of).
  static std::vector<config_problem> problems_of(const nlohmann::json& driver_config);
  /// A driver for a valid driver_config; throws std::invalid_argument otherwise.
  static std::shared_ptr<kafka_driver> from_config(const nlohmann::json& driver_config);

  std::string name() const override;

  /// Producers made and not yet destroyed (a destroy that outlives its close
  /// timeout is counted until it ends).
  int64_t open_producers() const { return open_->load(); }

protected:
  driver_result<std::shared_ptr<connection>> do_connect(const std::string& resource_id,
                                                        millis timeout) override;

private:
  kafka_settings settings_;
  std::shared_ptr<std::atomic<int64_t>> open_ = std::make_shared<std::atomic<int64_t>>(0);
};

} // namespace custodian::drivers
