#include "drivers/mongodb/mongodb_command.hpp"

#include <memory>
#include <string>
#include <string_view>

namespace custodian::drivers::mongodb {

namespace {

using json = nlohmann::json;

/// MongoDB's command names, those that are also options of other commands last
/// ({"findAndModify": ..., "update": ...}, {"aggregate": ..., "explain": true}).
constexpr std::string_view command_names[] = {"aggregate",
                                              "find",
                                              "findAndModify",
                                              "findandmodify",
                                              "getMore",
                                              "insert",
                                              "delete",
                                              "count",
                                              "distinct",
                                              "mapReduce",
                                              "bulkWrite",
                                              "createIndexes",
                                              "dropIndexes",
                                              "listIndexes",
                                              "reIndex",
                                              "listCollections",
                                              "listDatabases",
                                              "create",
                                              "drop",
                                              "dropDatabase",
                                              "collMod",
                                              "renameCollection",
                                              "convertToCapped",
                                              "cloneCollectionAsCapped",
                                              "killCursors",
                                              "ping",
                                              "hello",
                                              "isMaster",
                                              "ismaster",
                                              "buildInfo",
                                              "buildinfo",
                                              "serverStatus",
                                              "dbStats",
                                              "collStats",
                                              "dataSize",
                                              "validate",
                                              "compact",
                                              "currentOp",
                                              "killOp",
                                              "hostInfo",
                                              "connectionStatus",
                                              "getLog",
                                              "top",
                                              "profile",
                                              "getParameter",
                                              "setParameter",
                                              "getCmdLineOpts",
                                              "listCommands",
                                              "whatsmyuri",
                                              "fsync",
                                              "shutdown",
                                              "replSetGetStatus",
                                              "replSetGetConfig",
                                              "replSetStepDown",
                                              "replSetFreeze",
                                              "createUser",
                                              "updateUser",
                                              "dropUser",
                                              "usersInfo",
                                              "grantRolesToUser",
                                              "revokeRolesFromUser",
                                              "createRole",
                                              "dropRole",
                                              "rolesInfo",
                                              "endSessions",
                                              "startSession",
                                              "killSessions",
                                              "commitTransaction",
                                              "abortTransaction",
                                              "listShards",
                                              "enableSharding",
                                              "shardCollection",
                                              "update",
                                              "explain"};

/// `obj` as JSON text with `first` as its first key.
std::string text_with_first(const json& obj, const std::string& first) {
  std::string out = "{" + json(first).dump() + ":" + obj.at(first).dump();
  for (const auto& [key, value] : obj.items())
    if (key != first)
      out += "," + json(key).dump() + ":" + value.dump();
  return out + "}";
}

driver_error bad_command(const std::string& why) {
  return {driver_errc::rejected, "mongodb: bad request: command: " + why};
}

} // namespace

driver_result<bson_ptr> command_of(const json& command) {
  std::string text;
  if (command.is_string()) {
    text = command.get<std::string>();
  } else if (command.is_object() && !command.empty()) {
    auto name = command.begin().key();
    for (auto candidate : command_names)
      if (command.contains(candidate)) {
        name = std::string{candidate};
        break;
      }
    text = text_with_first(command, name);
  } else {
    return bad_command("must be a non-empty object, or extended JSON text");
  }
  bson_error_t error{};
  bson_ptr doc{bson_new_from_json(reinterpret_cast<const uint8_t*>(text.data()),
                                  static_cast<ssize_t>(text.size()), &error)};
  if (!doc)
    return bad_command(std::string{"not extended JSON: "} + error.message);
  if (bson_empty(doc.get()))
    return bad_command("must not be empty");
  return doc;
}

json json_of(const bson_t& doc) {
  size_t len = 0;
  std::unique_ptr<char, decltype(&bson_free)> text{bson_as_relaxed_extended_json(&doc, &len),
                                                   bson_free};
  return text ? json::parse(std::string_view{text.get(), len}) : json::object();
}

} // namespace custodian::drivers::mongodb
