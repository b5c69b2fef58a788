#include "drivers/kafka/kafka_config.hpp"

#include <algorithm>
#include <array>
#include <librdkafka/rdkafka.h>
#include <memory>
#include <stdexcept>

#include "drivers/secrets.hpp"

namespace custodian::drivers {

namespace {

using json = nlohmann::json;

const schema::field& kafka_schema() {
  static const schema::field f = schema::object(
    "", {
          schema::required(schema::text("bootstrap_servers", "", schema::non_empty_problem)),
          schema::text("topic", ""),
          schema::map("properties", schema::text("", "")),
          schema::optional_text("sasl_password_env", schema::env_name_problem),
          schema::optional_text("sasl_password_file", schema::non_empty_problem),
          schema::integer("delivery_timeout_ms", 10'000, 1, 3'600'000),
        });
  return f;
}

/// Properties that the driver's own keys set (one place for each setting), or
/// that must not be set from a config.
std::string reserved_problem(const std::string& name) {
  if (name == "bootstrap.servers" || name == "metadata.broker.list")
    return "set by bootstrap_servers";
  if (name == "message.timeout.ms" || name == "delivery.timeout.ms")
    return "set by delivery_timeout_ms";
  if (name == "plugin.library.paths")
    return "not supported: it loads code into the node as the config is read";
  return {};
}

using conf_ptr = std::unique_ptr<rd_kafka_conf_t, decltype(&rd_kafka_conf_destroy)>;

/// The properties librdkafka knows, aliases (linger.ms, acks) included, for
/// did-you-mean: the first column of the table it prints of them.
const std::vector<std::string>& known_properties() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    char* text = nullptr;
    size_t size = 0;
    FILE* table = ::open_memstream(&text, &size);
    if (!table)
      return out;
    rd_kafka_conf_properties_show(table);
    std::fclose(table);
    std::istringstream rows{std::string{text, size}};
    std::free(text);
    for (std::string row; std::getline(rows, row);) {
      auto bar = row.find(" |");
      auto name = row.substr(0, row.find(' '));
      if (bar != std::string::npos && !name.empty() && name != "Property" && name[0] != '-')
        out.push_back(name);
    }
    return out;
  }();
  return names;
}

std::string unknown_property_problem(const std::string& name) {
  const auto& known = known_properties();
  std::vector<std::string_view> candidates(known.begin(), known.end());
  return "unknown librdkafka property" + schema::suggestion(name, candidates);
}

/// Sets every property on a throwaway conf: librdkafka checks each name and value.
void check_properties(const json& properties, std::vector<config_problem>& out) {
  if (!properties.is_object())
    return; // the schema said so
  conf_ptr conf{rd_kafka_conf_new(), rd_kafka_conf_destroy};
  for (const auto& [name, value] : properties.items()) {
    if (!value.is_string())
      continue; // the schema said so
    auto path = schema::join("properties", name);
    if (auto why = reserved_problem(name); !why.empty()) {
      out.push_back({path, why});
      continue;
    }
    char err[512] = "";
    switch (rd_kafka_conf_set(conf.get(), name.c_str(), value.get_ref<const std::string&>().c_str(),
                              err, sizeof err)) {
    case RD_KAFKA_CONF_OK:
      break;
    case RD_KAFKA_CONF_UNKNOWN:
      out.push_back({path, unknown_property_problem(name)});
      break;
    case RD_KAFKA_CONF_INVALID:
      // librdkafka's text quotes the value.
      out.push_back({path, is_secret_kafka_property(name) ? "invalid value" : std::string{err}});
      break;
    }
  }
}

} // namespace

bool is_secret_kafka_property(std::string_view name) {
  constexpr std::array<std::string_view, 2> whole_secrets{"ssl.key.pem", "sasl.oauthbearer.config"};
  if (std::find(whole_secrets.begin(), whole_secrets.end(), name) != whole_secrets.end())
    return true;
  // sasl.password, ssl.key.password, sasl.oauthbearer.client.secret: the project's
  // rule for secret keys, with librdkafka's dots read as underscores.
  std::string key{name};
  std::replace(key.begin(), key.end(), '.', '_');
  return is_secret_key(key);
}

std::vector<config_problem> kafka_settings::problems_of(const json& cfg) {
  auto out = schema::problems_of(cfg, kafka_schema());
  if (!cfg.is_object())
    return out;
  if (auto i = cfg.find("properties"); i != cfg.end()) {
    check_properties(*i, out);
    if (i->is_object() && i->contains("sasl.password"))
      for (const char* key : {"sasl_password_env", "sasl_password_file"})
        if (cfg.contains(key))
          out.push_back(
            {"properties.sasl.password",
             std::string{"only one of properties.sasl.password, "} + key + " may be set"});
  }
  for (auto& problem : secret_source::problems_of(cfg, "sasl_password"))
    out.push_back(std::move(problem));
  return out;
}

kafka_settings kafka_settings::from_config(const json& cfg) {
  if (auto problems = problems_of(cfg); !problems.empty())
    throw std::invalid_argument(problems.front().path + ": " + problems.front().message);
  auto full = schema::canonical(cfg, kafka_schema());
  kafka_settings out;
  out.bootstrap_servers = full["bootstrap_servers"].get<std::string>();
  out.topic = full["topic"].get<std::string>();
  for (const auto& [name, value] : full["properties"].items())
    out.properties[name] = value.get<std::string>();
  out.sasl_password = secret_source::from_config(full, "sasl_password");
  out.delivery_timeout = millis{full["delivery_timeout_ms"].get<int64_t>()};
  return out;
}

} // namespace custodian::drivers
