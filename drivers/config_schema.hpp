#pragma once
// A small schema language for JSON configs: the node's config and every driver's
// `driver_config` are checked with it, so all of them report problems the same
// way (a JSON path and why; unknown keys with a did-you-mean) and fill in their
// defaults from one table. Plain C++, no CAF.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace custodian {

/// One thing wrong with a config.
struct config_problem {
  /// JSON path: "pools[2].max_size", "node.admin.port"; "" for the root.
  std::string path;
  std::string message;

  bool operator==(const config_problem&) const = default;
};

namespace schema {

/// A check of a string value: empty when it is fine, else why not.
using string_check = std::string (*)(const std::string&);

enum class kind : uint8_t {
  integer,
  number,
  boolean,
  string,
  choice,
  object,     ///< always present; missing keys take their defaults
  section,    ///< an object that may be null or absent: the feature is off
  list,       ///< an array of `fields[0]`; no item schema = validated elsewhere
  any_object, ///< an object checked by someone else (the driver)
  map,        ///< an object whose keys are free and whose values follow `fields[0]`
};

struct field {
  std::string_view key;
  kind type = kind::object;
  nlohmann::json fallback; ///< the default of a scalar
  bool required = false;
  double lo = 0;
  double hi = 0;
  bool open_lo = false; ///< lo itself is out of range
  std::vector<std::string_view> choices;
  string_check check = nullptr;
  std::vector<field> fields;
};

field make(std::string_view key, kind type, nlohmann::json fallback = nullptr);
field integer(std::string_view key, int64_t fallback, int64_t lo, int64_t hi);
field number(std::string_view key, double fallback, double lo, double hi, bool open_lo = false);
field boolean(std::string_view key, bool fallback);
field text(std::string_view key, std::string fallback, string_check check = nullptr);
/// A string key with no default: absent stays absent (null in the canonical form),
/// for keys whose absence means "not set" (one of several secret sources, say).
field optional_text(std::string_view key, string_check check = nullptr);
field choice(std::string_view key, std::string fallback, std::vector<std::string_view> choices);
field object(std::string_view key, std::vector<field> fields, kind type = kind::object);
field list(std::string_view key, std::vector<field> item = {});
/// An object of free keys whose values all follow `value` (headers, env).
field map(std::string_view key, field value);
field required(field f);

/// Checks `v` against `f` at `path`, adding every problem to `out`.
void check(const nlohmann::json& v, const field& f, const std::string& path,
           std::vector<config_problem>& out);

/// Every problem of `v` against `f`, at paths relative to `v` ("" = `v` itself).
std::vector<config_problem> problems_of(const nlohmann::json& v, const field& f);

/// `v` (checked against `f`) with every missing key filled in.
nlohmann::json canonical(const nlohmann::json& v, const field& f);

/// "a.b" from "a" and "b"; "b" when the prefix is empty.
std::string join(const std::string& prefix, std::string_view key);
/// "a[3]".
std::string index(const std::string& prefix, std::size_t i);
/// "a, b, c".
std::string comma_list(const std::vector<std::string_view>& items);
std::string comma_list(const std::vector<std::string>& items);
/// ` (did you mean "x"?)` for the closest candidate within 2 edits, else "".
std::string suggestion(std::string_view word, const std::vector<std::string_view>& candidates);

/// 30 days: bounds every duration so that sums and conversions cannot overflow.
inline constexpr int64_t max_ms = 30LL * 24 * 3600 * 1000;

/// Common checks of strings.
std::string env_name_problem(const std::string& s);
std::string non_empty_problem(const std::string& s);

} // namespace schema
} // namespace custodian
