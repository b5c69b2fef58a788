#include "drivers/mongodb/mongodb_driver.hpp"

#include <algorithm>
#include <string_view>
#include <vector>

#include "drivers/deadline.hpp"
#include "drivers/mongodb/mongodb_command.hpp"
#include "drivers/mongodb/mongodb_streams.hpp"

namespace custodian::drivers {

namespace {

using json = nlohmann::json;
using mongodb::bson_ptr;
using uri_ptr = std::unique_ptr<mongoc_uri_t, decltype(&mongoc_uri_destroy)>;

/// The class of a server's error code (docs/drivers.md, "mongodb").
driver_errc class_of_server_code(uint32_t code) {
  switch (code) {
  case 18: // AuthenticationFailed
    return driver_errc::auth;
  case 10107: // NotWritablePrimary
  case 13435: // NotPrimaryNoSecondaryOk
    return driver_errc::read_only;
  case 13436: // NotPrimaryOrSecondary: recovering
  case 91:    // ShutdownInProgress
  case 11600: // InterruptedAtShutdown
  case 11602: // InterruptedDueToReplStateChange
  case 189:   // PrimarySteppedDown
  case 6:     // HostUnreachable (a mongos to its shard)
  case 7:     // HostNotFound
  case 89:    // NetworkTimeout
  case 9001:  // SocketException
    return driver_errc::unavailable;
  default: // the command itself: unknown, bad arguments, not authorized, duplicate key
    return driver_errc::rejected;
  }
}

/// Whether a call ran into its deadline. libmongoc turns a wait's deadline into
/// whole milliseconds rounded down, so such a wait may end just before it.
bool ran_out(const deadline& until) {
  return until.remaining() < millis{5};
}

/// The class of a libmongoc error (error API version 2).
driver_error error_of(const bson_error_t& e, const mongodb_streams& streams,
                      const deadline& until) {
  std::string text = std::string{"mongodb: "} + e.message;
  const auto& connect_failure = streams.connect_failure();
  switch (e.domain) {
  case MONGOC_ERROR_SERVER:
  case MONGOC_ERROR_WRITE_CONCERN:
    return {class_of_server_code(e.code), text + " (code " + std::to_string(e.code) + ")"};
  case MONGOC_ERROR_STREAM:
    if (connect_failure &&
        (e.code == MONGOC_ERROR_STREAM_CONNECT || e.code == MONGOC_ERROR_STREAM_NAME_RESOLUTION))
      return *connect_failure;
    return {ran_out(until) ? driver_errc::timeout : driver_errc::broken, text};
  case MONGOC_ERROR_SERVER_SELECTION:
    // Why no server could be used: the driver's connect says, else a scan that
    // timed out, else servers that answer but none suits (no primary).
    if (connect_failure)
      return {connect_failure->code, text};
    if (ran_out(until) || std::string_view{e.message}.find("timeout") != std::string_view::npos)
      return {driver_errc::timeout, text};
    return {driver_errc::unavailable, text};
  case MONGOC_ERROR_CLIENT:
    if (e.code == MONGOC_ERROR_CLIENT_AUTHENTICATE || e.code == MONGOC_ERROR_CLIENT_GETNONCE)
      return {driver_errc::auth, text};
    if (e.code == MONGOC_ERROR_CLIENT_NOT_READY || e.code == MONGOC_ERROR_CLIENT_NO_ACCEPTABLE_PEER)
      return {driver_errc::broken, text};
    return {driver_errc::rejected, text};
  case MONGOC_ERROR_SASL:
  case MONGOC_ERROR_SCRAM:
    return {driver_errc::auth, text};
  case MONGOC_ERROR_PROTOCOL:
    return {driver_errc::broken, text};
  default:
    return {driver_errc::rejected, text};
  }
}

bson_ptr ping_command() {
  bson_ptr cmd{bson_new()};
  BSON_APPEND_INT32(cmd.get(), "ping", 1);
  return cmd;
}

driver_error bad_request(const std::string& why) {
  return {driver_errc::rejected, "mongodb: bad request: " + why};
}

} // namespace

// --- mongodb_connection ----------------------------------------------------------

mongodb_connection::mongodb_connection(mongoc_client_t* client,
                                       std::unique_ptr<mongodb_streams> streams,
                                       std::string database)
    : client_(client), streams_(std::move(streams)), database_(std::move(database)) {}

mongodb_connection::~mongodb_connection() {
  if (client_)
    destroy_client(deadline{millis{0}});
}

void mongodb_connection::destroy_client(const deadline& until) {
  // Ending the client's sessions is its last message to the server: bounded too.
  streams_->begin_call(until);
  mongoc_client_destroy(std::exchange(client_, nullptr));
  streams_->end_call();
}

driver_result<json> mongodb_connection::run(const std::string& database, const bson_t& command,
                                            const deadline& until) {
  bson_t reply; // initialized by libmongoc whatever happens
  bson_error_t error{};
  streams_->begin_call(until);
  bool ok =
    mongoc_client_command_simple(client_, database.c_str(), &command, nullptr, &reply, &error);
  streams_->end_call();
  struct destroyed_on_return {
    bson_t* doc;
    ~destroyed_on_return() { bson_destroy(doc); }
  } guard{&reply};
  if (!ok)
    return error_of(error, *streams_, until);
  return mongodb::json_of(reply);
}

bool mongodb_connection::do_alive() {
  return streams_->peers_present();
}

driver_status mongodb_connection::do_ping(millis timeout) {
  auto reply = run("admin", *ping_command(), deadline{timeout});
  if (!reply)
    return reply.error();
  return done{};
}

driver_result<json> mongodb_connection::do_exec(const json& request, millis timeout) {
  deadline until{timeout};
  if (!request.is_object() || !request.contains("command"))
    return bad_request("must be an object {\"command\": {...}, \"database\"?: \"...\"}");
  static const std::vector<std::string_view> keys{"command", "database"};
  for (const auto& [key, value] : request.items())
    if (std::find(keys.begin(), keys.end(), key) == keys.end())
      return bad_request("unknown key \"" + key + "\"" + schema::suggestion(key, keys));
  auto database = database_;
  if (auto db = request.find("database"); db != request.end()) {
    if (!db->is_string() || db->get<std::string>().empty())
      return bad_request("database: must be a non-empty string");
    database = db->get<std::string>();
  }
  auto command = mongodb::command_of(request["command"]);
  if (!command)
    return command.error();
  return run(database, *command.value(), until);
}

driver_status mongodb_connection::do_reset(millis) {
  return done{};
}

driver_status mongodb_connection::do_close(millis timeout) {
  destroy_client(deadline{timeout});
  return done{};
}

// --- mongodb_driver ----------------------------------------------------------------

mongodb_driver::mongodb_driver(mongodb_settings settings) : settings_(std::move(settings)) {}

std::vector<config_problem> mongodb_driver::problems_of(const json& driver_config) {
  return mongodb_settings::problems_of(driver_config);
}

std::shared_ptr<mongodb_driver> mongodb_driver::from_config(const json& driver_config) {
  return std::make_shared<mongodb_driver>(mongodb_settings::from_config(driver_config));
}

std::string mongodb_driver::name() const {
  return "mongodb";
}

driver_result<std::shared_ptr<connection>>
mongodb_driver::do_connect(const std::string& resource_id, millis timeout) {
  deadline until{timeout};
  ensure_mongoc_init();
  bson_error_t error{};
  uri_ptr uri{mongoc_uri_new_with_error(settings_.uri.c_str(), &error), mongoc_uri_destroy};
  if (!uri)
    return driver_error{driver_errc::rejected, std::string{"mongodb: uri: "} + error.message};
  if (!settings_.username.empty())
    mongoc_uri_set_username(uri.get(), settings_.username.c_str());
  if (!settings_.password.empty()) {
    auto password = settings_.password.resolve();
    if (!password)
      return password.error();
    mongoc_uri_set_password(uri.get(), password.value().c_str());
  }
  auto connect_timeout = std::max(millis{1}, std::min(settings_.connect_timeout, timeout));
  mongoc_uri_set_option_as_int32(uri.get(), MONGOC_URI_CONNECTTIMEOUTMS,
                                 static_cast<int32_t>(connect_timeout.count()));
  // Single-threaded clients try once by default: a call fails at the first scan
  // that finds no server, and the pool replaces the client.
  bool try_once = settings_.server_selection_timeout.count() == 0;
  mongoc_uri_set_option_as_bool(uri.get(), MONGOC_URI_SERVERSELECTIONTRYONCE, try_once);
  // libmongoc's selection loop does not see the call's deadline: its bound is
  // kept within this connect's timeout.
  if (!try_once)
    mongoc_uri_set_option_as_int32(
      uri.get(), MONGOC_URI_SERVERSELECTIONTIMEOUTMS,
      static_cast<int32_t>(std::min(settings_.server_selection_timeout, timeout).count()));
  if (!mongoc_uri_get_appname(uri.get()))
    mongoc_uri_set_appname(uri.get(), ("custodian-" + resource_id).c_str()); // in server logs
  mongoc_client_t* client = mongoc_client_new_from_uri_with_error(uri.get(), &error);
  if (!client)
    return driver_error{driver_errc::rejected, std::string{"mongodb: "} + error.message};
  mongoc_client_set_error_api(client, MONGOC_ERROR_API_VERSION_2);
  auto streams = std::make_unique<mongodb_streams>(connect_timeout, uri.get());
  streams->attach(client);
  auto conn = std::make_shared<mongodb_connection>(client, std::move(streams), settings_.database);
  if (auto answered = conn->run("admin", *ping_command(), until); !answered) {
    conn->close(until.remaining());
    return answered.error();
  }
  return std::shared_ptr<connection>{std::move(conn)};
}

} // namespace custodian::drivers
