#include "drivers/secret_source.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <sstream>

namespace custodian::drivers {

secret_source secret_source::from_env(std::string variable) {
  secret_source s;
  s.kind_ = kind::env;
  s.where_ = std::move(variable);
  return s;
}

secret_source secret_source::from_file(std::string path) {
  secret_source s;
  s.kind_ = kind::file;
  s.where_ = std::move(path);
  return s;
}

secret_source secret_source::from_provider(provider fn) {
  secret_source s;
  s.kind_ = kind::provider;
  s.provider_ = std::move(fn);
  return s;
}

secret_source secret_source::from_value(std::string value) {
  secret_source s;
  s.kind_ = kind::value;
  s.value_ = std::make_shared<const std::string>(std::move(value));
  return s;
}

namespace {

std::string with_suffix(std::string_view key, std::string_view suffix) {
  return std::string{key} + std::string{suffix};
}

const nlohmann::json* string_at(const nlohmann::json& cfg, const std::string& key) {
  if (!cfg.is_object())
    return nullptr;
  auto i = cfg.find(key);
  return i != cfg.end() && i->is_string() ? &*i : nullptr;
}

} // namespace

secret_source secret_source::from_config(const nlohmann::json& cfg, std::string_view key) {
  if (auto v = string_at(cfg, with_suffix(key, "_env")))
    return from_env(v->get<std::string>());
  if (auto v = string_at(cfg, with_suffix(key, "_file")))
    return from_file(v->get<std::string>());
  if (auto v = string_at(cfg, std::string{key}))
    return from_value(v->get<std::string>());
  return {};
}

std::vector<config_problem> secret_source::problems_of(const nlohmann::json& cfg,
                                                       std::string_view key) {
  std::vector<std::string> set;
  for (auto name : {std::string{key}, with_suffix(key, "_env"), with_suffix(key, "_file")})
    if (cfg.is_object() && cfg.contains(name))
      set.push_back(name);
  if (set.size() <= 1)
    return {};
  return {{set[1], "only one of " + schema::comma_list(set) + " may be set"}};
}

driver_result<std::string> secret_source::resolve() const {
  switch (kind_) {
  case kind::none:
    return std::string{};
  case kind::value:
    return *value_;
  case kind::env: {
    const char* v = std::getenv(where_.c_str());
    if (!v)
      return driver_error{driver_errc::auth, describe() + " is not set"};
    return std::string{v};
  }
  case kind::file: {
    std::ifstream in{where_, std::ios::binary};
    if (!in)
      return driver_error{driver_errc::auth,
                          "cannot read " + describe() + ": " + std::strerror(errno)};
    std::ostringstream text;
    text << in.rdbuf();
    auto secret = text.str();
    while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r'))
      secret.pop_back();
    return secret;
  }
  case kind::provider:
    try {
      return provider_();
    } catch (const std::exception& ex) {
      // The provider's message is the application's: it is trusted not to hold the secret.
      return driver_error{driver_errc::auth, describe() + " failed: " + ex.what()};
    } catch (...) {
      return driver_error{driver_errc::auth, describe() + " failed"};
    }
  }
  return std::string{};
}

std::string secret_source::describe() const {
  switch (kind_) {
  case kind::none:
    return "none";
  case kind::env:
    return "environment variable " + where_;
  case kind::file:
    return "file " + where_;
  case kind::provider:
    return "the application's provider";
  case kind::value:
    return "the config";
  }
  return "none";
}

} // namespace custodian::drivers
