#include "drivers/mongodb/mongodb_config.hpp"

#include <memory>
#include <mongoc/mongoc.h>
#include <mutex>
#include <stdexcept>

namespace custodian::drivers {

namespace {

using json = nlohmann::json;

const schema::field& mongodb_schema() {
  static const schema::field f =
    schema::object("", {
                         schema::required(schema::text("uri", "", schema::non_empty_problem)),
                         schema::optional_text("username", schema::non_empty_problem),
                         schema::optional_text("password_env", schema::env_name_problem),
                         schema::optional_text("password_file", schema::non_empty_problem),
                         schema::text("database", "admin", schema::non_empty_problem),
                         schema::integer("connect_timeout_ms", 5'000, 1, INT32_MAX),
                         schema::integer("server_selection_timeout_ms", 0, 0, INT32_MAX),
                       });
  return f;
}

using uri_ptr = std::unique_ptr<mongoc_uri_t, decltype(&mongoc_uri_destroy)>;

/// URI options that one of the driver's keys sets: one place for each setting.
struct owned_option {
  const char* option;
  const char* key;
};
constexpr owned_option owned_options[] = {
  {MONGOC_URI_CONNECTTIMEOUTMS, "connect_timeout_ms"},
  {MONGOC_URI_SERVERSELECTIONTIMEOUTMS, "server_selection_timeout_ms"},
  {MONGOC_URI_SERVERSELECTIONTRYONCE, "server_selection_timeout_ms"},
};

/// The problems of the URI itself, at "uri" (and what it implies for the other keys).
void check_uri(const json& cfg, std::vector<config_problem>& out) {
  auto text = cfg.find("uri");
  if (text == cfg.end() || !text->is_string() || text->get<std::string>().empty())
    return; // the schema said so
  ensure_mongoc_init();
  bson_error_t error{};
  uri_ptr uri{mongoc_uri_new_with_error(text->get<std::string>().c_str(), &error),
              mongoc_uri_destroy};
  if (!uri) {
    out.push_back({"uri", std::string{"not a MongoDB URI: "} + error.message});
    return;
  }
  if (mongoc_uri_get_password(uri.get()) ||
      mongoc_uri_has_option(uri.get(), MONGOC_URI_TLSCERTIFICATEKEYFILEPASSWORD))
    out.push_back({"uri", "must not contain a password (it would show wherever the config does): "
                          "use password_env or password_file"});
  if (mongoc_uri_get_srv_hostname(uri.get()))
    out.push_back({"uri", "mongodb+srv:// is not supported: libmongoc's DNS lookups for it cannot "
                          "be bounded; list the hosts in a mongodb:// URI"});
  for (const auto& owned : owned_options)
    if (mongoc_uri_has_option(uri.get(), owned.option))
      out.push_back({"uri", std::string{"option "} + owned.option + " is set by " + owned.key});
  bool uri_user = mongoc_uri_get_username(uri.get()) != nullptr;
  if (uri_user && cfg.contains("username"))
    out.push_back({"username", "the uri names a user already"});
  if (!uri_user && !cfg.contains("username"))
    for (const char* key : {"password_env", "password_file"})
      if (cfg.contains(key))
        out.push_back({key, "needs a user: set username (or a user in the uri)"});
}

} // namespace

namespace {

/// libmongoc logs every failed read and each custom stream at WARNING or DEBUG
/// on stderr; the driver's errors carry what matters, so only its errors stay.
void errors_only(mongoc_log_level_t level, const char* domain, const char* message, void* data) {
  if (level <= MONGOC_LOG_LEVEL_CRITICAL)
    mongoc_log_default_handler(level, domain, message, data);
}

} // namespace

void ensure_mongoc_init() {
  static std::once_flag once;
  std::call_once(once, [] {
    mongoc_init();
    mongoc_log_set_handler(errors_only, nullptr);
  });
}

std::vector<config_problem> mongodb_settings::problems_of(const json& cfg) {
  auto out = schema::problems_of(cfg, mongodb_schema());
  if (!cfg.is_object())
    return out;
  check_uri(cfg, out);
  for (auto& problem : secret_source::problems_of(cfg, "password"))
    out.push_back(std::move(problem));
  return out;
}

mongodb_settings mongodb_settings::from_config(const json& cfg) {
  if (auto problems = problems_of(cfg); !problems.empty())
    throw std::invalid_argument(problems.front().path + ": " + problems.front().message);
  auto full = schema::canonical(cfg, mongodb_schema());
  mongodb_settings out;
  out.uri = full["uri"].get<std::string>();
  if (full["username"].is_string())
    out.username = full["username"].get<std::string>();
  out.password = secret_source::from_config(full, "password");
  out.database = full["database"].get<std::string>();
  out.connect_timeout = millis{full["connect_timeout_ms"].get<int64_t>()};
  out.server_selection_timeout = millis{full["server_selection_timeout_ms"].get<int64_t>()};
  return out;
}

} // namespace custodian::drivers
