#pragma once
// An exec's command and the server's reply, between JSON and BSON. MongoDB takes
// a command's first key as its name, and the JSON a request arrives in keeps no
// key order: the command's name is put first, or the command comes as extended
// JSON text, whose order is kept exactly.

#include <bson/bson.h>
#include <utility>

#include <nlohmann/json.hpp>

#include "drivers/driver.hpp"

namespace custodian::drivers::mongodb {

/// An owned BSON document (bson_t's alignment attribute rules out unique_ptr<bson_t>).
class bson_ptr {
public:
  explicit bson_ptr(bson_t* doc) noexcept : doc_(doc) {}
  ~bson_ptr() {
    if (doc_)
      bson_destroy(doc_);
  }
  bson_ptr(bson_ptr&& other) noexcept : doc_(std::exchange(other.doc_, nullptr)) {}
  bson_ptr& operator=(bson_ptr&&) = delete;
  bson_ptr(const bson_ptr&) = delete;
  bson_ptr& operator=(const bson_ptr&) = delete;

  bson_t* get() const noexcept { return doc_; }
  const bson_t& operator*() const noexcept { return *doc_; }
  explicit operator bool() const noexcept { return doc_ != nullptr; }

private:
  bson_t* doc_;
};

/// The BSON of a request's "command": a string is extended JSON text, taken as
/// it is; an object has its command name (the key that names a MongoDB command)
/// put first. `rejected` when it is neither, or is empty.
driver_result<bson_ptr> command_of(const nlohmann::json& command);

/// A BSON document as relaxed extended JSON ({"$oid": ...}, {"$date": ...}).
nlohmann::json json_of(const bson_t& doc);

} // namespace custodian::drivers::mongodb
