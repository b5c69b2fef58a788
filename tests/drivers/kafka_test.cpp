// The kafka driver against librdkafka's mock cluster: the real Kafka protocol on
// 127.0.0.1, brokers taken down and brought up with the mock API. No test asserts
// how fast anything is; bounds are correctness ("failed within its timeout").

#include <chrono>
#include <cstdlib>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdexcept>
#include <string>

#include <caf/scoped_actor.hpp>
#include <doctest/doctest.h>

#include "drivers/driver_catalog.hpp"
#include "drivers/kafka/kafka_driver.hpp"
#include "drivers/secrets.hpp"
#include "messages/errors.hpp"
#include "runtime/runtime.hpp"
#include "tests/support/node_process.hpp"
#include "tests/support/pool_stats_of.hpp"
#include "tests/support/silent_listener.hpp"

using namespace custodian;
using namespace std::chrono_literals;
using custodian::test::silent_listener;
using drivers::driver_errc;
using drivers::kafka_connection;
using drivers::kafka_driver;
using json = nlohmann::json;

namespace {

using clock_type = std::chrono::steady_clock;

/// Slack on top of a timeout for a call to count as ended by it (2 shared cores).
constexpr auto margin = 3s;

/// A mock cluster on loopback for one test, hosted by a producer handle of its own.
class mock_cluster {
public:
  explicit mock_cluster(int brokers = 1) {
    auto* conf = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(conf, [](const rd_kafka_t*, int, const char*, const char*) {});
    char err[256];
    host_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!host_)
      throw std::runtime_error(err);
    cluster_ = rd_kafka_mock_cluster_new(host_, brokers);
    if (!cluster_)
      throw std::runtime_error("cannot start a mock cluster");
  }
  ~mock_cluster() {
    rd_kafka_mock_cluster_destroy(cluster_);
    rd_kafka_destroy(host_);
  }
  mock_cluster(const mock_cluster&) = delete;
  mock_cluster& operator=(const mock_cluster&) = delete;

  std::string bootstraps() const { return rd_kafka_mock_cluster_bootstraps(cluster_); }
  void create_topic(const std::string& topic, int partitions) {
    REQUIRE(rd_kafka_mock_topic_create(cluster_, topic.c_str(), partitions, 1) == 0);
  }
  void topic_error(const std::string& topic, rd_kafka_resp_err_t err) {
    rd_kafka_mock_topic_set_error(cluster_, topic.c_str(), err);
  }
  void broker_down() { REQUIRE(rd_kafka_mock_broker_set_down(cluster_, 1) == 0); }
  void broker_up() { REQUIRE(rd_kafka_mock_broker_set_up(cluster_, 1) == 0); }

private:
  rd_kafka_t* host_ = nullptr;
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
};

json config_for(const mock_cluster& mc, json extra = json::object()) {
  json cfg{
    {"bootstrap_servers", mc.bootstraps()}, {"topic", "events"}, {"delivery_timeout_ms", 1500}};
  cfg.update(extra);
  return cfg;
}

std::shared_ptr<drivers::connection> connect(kafka_driver& d,
                                             std::chrono::milliseconds timeout = 5s) {
  auto c = d.connect("events-1", timeout);
  REQUIRE_MESSAGE(c, c.error().message);
  return c.value();
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// Every producer the driver made is destroyed (a destroy may end in the background).
bool all_destroyed(const kafka_driver& d) {
  return test::eventually([&] { return d.open_producers() == 0; });
}

using test::stats_of;

uint64_t failed_probes(const pool_stats& s) {
  uint64_t n = 0;
  for (std::size_t i = 0; i < s.probes.outcomes.size(); ++i)
    if (i != drivers::outcome_ok && i != drivers::outcome_degraded)
      n += s.probes.outcomes[i];
  return n;
}

} // namespace

TEST_CASE("kafka: driver_config problems have paths relative to it") {
  using problems = std::vector<config_problem>;
  auto problems_of = [](const char* text) { return kafka_driver::problems_of(json::parse(text)); };
  CHECK(problems_of("{}") == problems{{"bootstrap_servers", "required"}});
  CHECK(problems_of(R"({"bootstrap_servers": "127.0.0.1:9092", "topik": "t"})") ==
        problems{{"topik", "unknown key (did you mean \"topic\"?)"}});
  CHECK(problems_of(R"({"bootstrap_servers": "h:1", "delivery_timeout_ms": 0})") ==
        problems{{"delivery_timeout_ms", "must be ≥ 1"}});
  CHECK(problems_of(R"({"bootstrap_servers": "h:1", "properties": {"linger.ms": 5}})") ==
        problems{{"properties.linger.ms", "must be a string"}});
  CHECK(
    problems_of(R"({"bootstrap_servers": "h:1", "properties": {"lingr.ms": "5"}})") ==
    problems{{"properties.lingr.ms", "unknown librdkafka property (did you mean \"linger.ms\"?)"}});
  auto bad_value = problems_of(R"({"bootstrap_servers": "h:1", "properties": {"acks": "lots"}})");
  REQUIRE(bad_value.size() == 1);
  CHECK(bad_value[0].path == "properties.acks");
  CHECK(contains(bad_value[0].message, "acks")); // librdkafka's own text
  CHECK(problems_of(R"({"bootstrap_servers": "h:1", "properties": {"bootstrap.servers": "x:1",
                        "message.timeout.ms": "100"}})") ==
        problems{{"properties.bootstrap.servers", "set by bootstrap_servers"},
                 {"properties.message.timeout.ms", "set by delivery_timeout_ms"}});
  CHECK(problems_of(R"({"bootstrap_servers": "h:1", "sasl_password_env": "PW",
                        "properties": {"sasl.password": "x"}})") ==
        problems{{"properties.sasl.password",
                  "only one of properties.sasl.password, sasl_password_env may be set"}});
  CHECK(problems_of(R"({"bootstrap_servers": "h:1", "sasl_password_env": "1PW"})").size() == 1);
  CHECK_THROWS_AS(kafka_driver::from_config(json::parse(R"({"topic": "t"})")),
                  std::invalid_argument);

  auto catalog = drivers::builtin_drivers();
  auto* kafka = catalog.find("kafka");
  REQUIRE(kafka);
  CHECK(
    kafka->validate(json::parse(R"({"bootstrap_servers": "h:1", "properties": {"acks": "all"}})"))
      .empty());
  CHECK(kafka->make(json::parse(R"({"bootstrap_servers": "h:1"})"))->name() == "kafka");
}

TEST_CASE("kafka: secret properties are redacted where the node shows a driver_config") {
  // librdkafka's dotted names; the driver's own messages never carry them (next test).
  auto cfg = json::parse(R"({"bootstrap_servers": "h:1", "properties": {
    "sasl.password": "s3cr3t-a", "ssl.key.password": "s3cr3t-b", "ssl.key.pem": "k",
    "linger.ms": "5"}})");
  auto shown = drivers::redact_secrets(cfg);
  CHECK(shown["properties"]["sasl.password"] == "<redacted>");
  CHECK(shown["properties"]["ssl.key.password"] == "<redacted>");
  CHECK(shown["properties"]["ssl.key.pem"] == "<redacted>");
  CHECK(shown["properties"]["linger.ms"] == "5");
}

TEST_CASE("kafka: the SASL password is read at each connect and appears in no error") {
  mock_cluster mc;
  constexpr const char* variable = "CUSTODIAN_TEST_KAFKA_SASL_PASSWORD";
  ::unsetenv(variable);
  // The mock brokers speak no SASL: librdkafka fails the authentication.
  auto d = kafka_driver::from_config(config_for(mc, {{"sasl_password_env", variable},
                                                     {"properties",
                                                      {{"security.protocol", "SASL_PLAINTEXT"},
                                                       {"sasl.mechanisms", "PLAIN"},
                                                       {"sasl.username", "u"}}}}));
  auto unset = d->connect("events-1", 3s);
  REQUIRE(!unset);
  CHECK(unset.error().code == driver_errc::auth);
  CHECK(unset.error().message == "environment variable " + std::string{variable} + " is not set");

  ::setenv(variable, "s3cr3t-value", 1);
  auto start = clock_type::now();
  auto rejected = d->connect("events-1", 3s);
  REQUIRE(!rejected);
  CHECK(clock_type::now() - start < 3s + margin);
  CHECK(rejected.error().code == driver_errc::auth);
  CHECK(contains(rejected.error().message, "SASL"));
  CHECK(!contains(rejected.error().message, "s3cr3t"));
  ::unsetenv(variable);

  // The same through properties.sasl.password.
  auto inline_secret =
    kafka_driver::from_config(config_for(mc, {{"properties",
                                               {{"security.protocol", "SASL_PLAINTEXT"},
                                                {"sasl.mechanisms", "PLAIN"},
                                                {"sasl.username", "u"},
                                                {"sasl.password", "s3cr3t-inline"}}}}));
  auto failed = inline_secret->connect("events-1", 3s);
  REQUIRE(!failed);
  CHECK(failed.error().code == driver_errc::auth);
  CHECK(!contains(failed.error().message, "s3cr3t"));
  CHECK(all_destroyed(*d));
  CHECK(all_destroyed(*inline_secret));
}

TEST_CASE("kafka: exec produces a message and returns its topic, partition and offset") {
  mock_cluster mc;
  mc.create_topic("events", 1);
  mc.create_topic("audit", 3);
  auto d = kafka_driver::from_config(config_for(mc));
  {
    auto conn = connect(*d);
    auto first = conn->exec({{"key", "order-1"},
                             {"value", "created"},
                             {"headers", {{"source", "test"}, {"empty", nullptr}}}},
                            5s);
    REQUIRE_MESSAGE(first, first.error().message);
    CHECK(first.value() == json{{"topic", "events"}, {"partition", 0}, {"offset", 0}});
    // A value that is not a string goes as its JSON text.
    auto second = conn->exec({{"value", {{"order", 1}}}}, 5s);
    REQUIRE_MESSAGE(second, second.error().message);
    CHECK(second.value()["offset"] == 1);
    auto other = conn->exec({{"topic", "audit"}, {"partition", 2}, {"value", nullptr}}, 5s);
    REQUIRE_MESSAGE(other, other.error().message);
    CHECK(other.value() == json{{"topic", "audit"}, {"partition", 2}, {"offset", 0}});
    auto probe = conn->ping(2s);
    REQUIRE_MESSAGE(probe, probe.error().message);
    CHECK(probe.value().degraded.empty());
    CHECK(conn->alive());
    CHECK(!conn->needs_reset());
    CHECK(conn->close(2s));
  }
  CHECK(all_destroyed(*d));
  auto execs = d->metrics().figures(drivers::call_metrics::call::exec);
  CHECK(execs.outcomes[drivers::outcome_ok] == 3);
}

TEST_CASE("kafka: a request error is rejected and leaves the producer usable") {
  mock_cluster mc;
  mc.create_topic("events", 1);
  auto d =
    kafka_driver::from_config(config_for(mc, {{"properties", {{"message.max.bytes", "1000"}}}}));
  auto conn = connect(*d);
  auto rejected = [&](const json& request, const std::string& part) {
    auto r = conn->exec(request, 5s);
    REQUIRE(!r);
    CHECK(r.error().code == driver_errc::rejected);
    CHECK_MESSAGE(contains(r.error().message, part), r.error().message);
  };
  rejected({{"value", std::string(2000, 'x')}}, "too large");
  rejected({{"partition", 7}, {"value", "v"}}, "partition");
  rejected({{"valeu", "v"}}, "did you mean \"value\"");
  rejected(json::array(), "must be an object");
  rejected({{"topic", ""}}, "topic");
  rejected({{"headers", {{"h", 1}}}}, "headers.h");
  auto topicless = kafka_driver::from_config(json{{"bootstrap_servers", mc.bootstraps()}});
  auto bare = connect(*topicless);
  auto none = bare->exec({{"value", "v"}}, 5s);
  REQUIRE(!none);
  CHECK(none.error().code == driver_errc::rejected);
  CHECK(contains(none.error().message, "no topic"));
  CHECK(bare->close(2s));

  auto ok = conn->exec({{"value", "fits"}}, 5s);
  REQUIRE_MESSAGE(ok, ok.error().message);
  CHECK(ok.value()["offset"] == 0);
  CHECK(conn->alive());
  CHECK(conn->close(2s));
  CHECK(all_destroyed(*d));
  CHECK(all_destroyed(*topicless));
}

TEST_CASE("kafka: a connect where nothing listens is refused within the connect timeout") {
  auto d = kafka_driver::from_config(
    json{{"bootstrap_servers", "127.0.0.1:" + std::to_string(test::free_port())}});
  auto start = clock_type::now();
  auto c = d->connect("events-1", 4s);
  REQUIRE(!c);
  CHECK(clock_type::now() - start < 4s + margin);
  CHECK(c.error().code == driver_errc::refused);
  CHECK_MESSAGE(contains(c.error().message, "Connection refused"), c.error().message);
  CHECK(all_destroyed(*d));
}

TEST_CASE("kafka: a connect to a listener that never speaks times out within the connect timeout") {
  silent_listener silent;
  auto d = kafka_driver::from_config(
    json{{"bootstrap_servers", "127.0.0.1:" + std::to_string(silent.port())}});
  auto start = clock_type::now();
  auto c = d->connect("events-1", 1500ms);
  REQUIRE(!c);
  CHECK(clock_type::now() - start < 1500ms + margin);
  CHECK_MESSAGE(c.error().code == driver_errc::timeout, c.error().message);
  CHECK(all_destroyed(*d));
}

TEST_CASE(
  "kafka: a broker down fails produce and ping in time, and once it is up both work again") {
  mock_cluster mc;
  mc.create_topic("events", 1);
  auto d = kafka_driver::from_config(config_for(mc)); // delivery_timeout_ms 1500
  auto conn = connect(*d);
  REQUIRE(conn->exec({{"value", "before"}}, 5s));

  mc.broker_down();
  auto start = clock_type::now();
  auto lost = conn->exec({{"value", "during"}}, 30s);
  REQUIRE(!lost);
  // librdkafka checks message timeouts once a second.
  CHECK(clock_type::now() - start < 1500ms + 1s + margin);
  CHECK_MESSAGE(lost.error().code == driver_errc::timeout, lost.error().message);
  // A call shorter than the delivery timeout ends at its own deadline.
  start = clock_type::now();
  auto cut = conn->exec({{"value", "during"}}, 300ms);
  REQUIRE(!cut);
  CHECK(clock_type::now() - start < 300ms + margin);
  CHECK(cut.error().code == driver_errc::timeout);
  CHECK(contains(cut.error().message, "purged"));
  start = clock_type::now();
  auto probe = conn->ping(1s);
  REQUIRE(!probe);
  CHECK(clock_type::now() - start < 1s + margin);
  CHECK(breaks_connection(probe.error()));
  CHECK(!conn->alive()); // librdkafka said every broker is down

  mc.broker_up();
  CHECK(test::eventually([&] { return bool(conn->ping(1s)); }, 20s));
  CHECK(conn->alive());
  auto after = conn->exec({{"value", "after"}}, 5s);
  REQUIRE_MESSAGE(after, after.error().message);
  CHECK(after.value()["offset"] == 1);
  CHECK(conn->close(2s));
  CHECK(all_destroyed(*d));
}

TEST_CASE("kafka: a default topic the brokers refuse makes the probe degraded") {
  mock_cluster mc;
  mc.create_topic("events", 1);
  mc.topic_error("events", RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
  auto d = kafka_driver::from_config(config_for(mc));
  auto conn = connect(*d);
  auto probe = conn->ping(2s);
  REQUIRE_MESSAGE(probe, probe.error().message);
  CHECK(contains(probe.value().degraded, "default topic events"));
  CHECK(conn->close(2s));
  CHECK(all_destroyed(*d));
}

TEST_CASE(
  "kafka: native() gives the producer, and what a holder leaves pending is flushed on reset") {
  mock_cluster mc;
  mc.create_topic("events", 1);
  auto d = kafka_driver::from_config(config_for(mc));
  auto conn = connect(*d);
  auto& kafka = dynamic_cast<kafka_connection&>(*conn);
  auto produce_natively = [&] {
    REQUIRE(rd_kafka_producev(kafka.native(), RD_KAFKA_V_TOPIC("events"),
                              RD_KAFKA_V_VALUE(const_cast<char*>("native"), 6),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                              RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR_NO_ERROR);
  };
  produce_natively();
  CHECK(conn->needs_reset());
  REQUIRE(conn->reset(5s));
  CHECK(!conn->needs_reset());
  // The exec after it sees the holder's message before its own.
  auto next = conn->exec({{"value", "driver"}}, 5s);
  REQUIRE_MESSAGE(next, next.error().message);
  CHECK(next.value()["offset"] == 1);

  mc.broker_down();
  produce_natively();
  auto start = clock_type::now();
  auto reset = conn->reset(500ms);
  REQUIRE(!reset);
  CHECK(clock_type::now() - start < 500ms + margin);
  CHECK(contains(reset.error().message, "purged"));
  CHECK(!conn->needs_reset());
  CHECK(conn->close(2s));
  CHECK(all_destroyed(*d));
}

TEST_CASE("kafka: close flushes what is pending, and with the brokers down ends within its bound") {
  mock_cluster mc;
  mc.create_topic("events", 1);
  auto d = kafka_driver::from_config(config_for(mc));
  auto produce_natively = [](drivers::connection& c) {
    auto* rk = dynamic_cast<kafka_connection&>(c).native();
    REQUIRE(rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("events"),
                              RD_KAFKA_V_VALUE(const_cast<char*>("pending"), 7),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                              RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR_NO_ERROR);
  };
  auto first = connect(*d);
  produce_natively(*first);
  CHECK(first->close(5s));
  // The flushed message took offset 0.
  auto second = connect(*d);
  auto next = second->exec({{"value", "next"}}, 5s);
  REQUIRE_MESSAGE(next, next.error().message);
  CHECK(next.value()["offset"] == 1);

  mc.broker_down();
  produce_natively(*second);
  auto start = clock_type::now();
  second->close(1s);
  CHECK(clock_type::now() - start < 1s + margin);
  CHECK(!second->is_open());
  CHECK(all_destroyed(*d));
}

TEST_CASE("kafka: a runtime pool produces through leases, fails fast while the broker is down and "
          "recovers") {
  mock_cluster mc;
  mc.create_topic("events", 1);
  auto d = kafka_driver::from_config(config_for(mc));
  {
    runtime rt;
    pool_config pc;
    pc.name = "events";
    pc.driver = d;
    pc.min_idle = 1;
    pc.max_size = 2;
    health_checker_config health;
    health.policy.interval = 200ms;
    health.policy.unhealthy_threshold = 1;
    health.policy.healthy_threshold = 1;
    health.timeout = 1s;
    pc.health = health;
    pc.resource.init.timeout = 2s;
    pc.resource.operation_timeout = 5s;
    pc.resource.cleanup_timeout = 2s;
    rt.add_pool(pc);
    {
      auto lease = rt.acquire("events", 5s);
      CHECK(lease.connection_as<kafka_connection>().native() != nullptr);
      auto out = lease.exec({{"value", "a"}}, 5s);
      CHECK(out == json{{"topic", "events"}, {"partition", 0}, {"offset", 0}});
    }

    mc.broker_down();
    CHECK(test::eventually([&] { return failed_probes(stats_of(rt, "events")) > 0; }, 20s));
    // Every attempt ends with a typed error within its bounds, never a hang.
    auto start = clock_type::now();
    try {
      auto lease = rt.acquire("events", 3s);
      lease.exec({{"value", "lost"}}, 4s);
      FAIL("produced while the broker is down");
    } catch (const lease_error& e) {
      MESSAGE("while down: " << std::string{e.what()});
    }
    CHECK(clock_type::now() - start < 3s + 4s + margin);

    auto passed_before = stats_of(rt, "events").probes.outcomes[drivers::outcome_ok];
    mc.broker_up();
    CHECK(test::eventually(
      [&] {
        try {
          auto lease = rt.acquire("events", 2s);
          return lease.exec({{"value", "b"}}, 3s)["topic"] == "events";
        } catch (const lease_error&) {
          return false;
        }
      },
      30s));
    // Back to min_idle resources that pass their probes.
    CHECK(test::eventually([&] {
      auto s = stats_of(rt, "events");
      return s.idle >= 1 && s.probes.outcomes[drivers::outcome_ok] > passed_before;
    }));
    rt.shutdown();
  }
  CHECK(all_destroyed(*d));
}
