#pragma once
// What a producer's librdkafka callbacks report to its connection: the delivery
// report of the message an exec waits for, and the error events that say why no
// broker answers. Also the bounded name resolution librdkafka's broker threads
// use instead of a bare getaddrinfo.

#include <cstdint>
#include <librdkafka/rdkafka.h>
#include <string>

#include "drivers/driver.hpp"

namespace custodian::drivers {

/// A producer's opaque. It outlives the producer: a destroy that outlasts its
/// close timeout ends in the background with it.
struct kafka_callbacks {
  /// Bound of each name resolution (read on librdkafka's threads; set once).
  millis resolve_budget{5'000};

  // Set by callbacks that rd_kafka_poll serves on the calling thread, that is
  // under the connection's lock.

  /// The message an exec waits for (0: none); reports of others are dropped.
  uint64_t awaited = 0;
  bool delivered = false;
  rd_kafka_resp_err_t delivery_error = RD_KAFKA_RESP_ERR_NO_ERROR;
  std::string topic;
  int32_t partition = RD_KAFKA_PARTITION_UA;
  int64_t offset = RD_KAFKA_OFFSET_INVALID;

  /// librdkafka said that every broker is down (cleared when one answers).
  bool brokers_down = false;
  /// The latest broker connection error (connect refused, resolution failed...).
  std::string broker_error;
  /// The latest authentication failure (cleared when a broker answers).
  std::string auth_error;
  /// Set once the producer failed for good (rd_kafka_fatal_error's text).
  std::string fatal_error;

  /// A broker answered: what said it could not is past.
  void broker_answered();

  /// Installs the callbacks and `this` as the opaque of `conf`.
  void install(rd_kafka_conf_t* conf);
};

} // namespace custodian::drivers
