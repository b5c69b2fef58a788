#include "drivers/config_schema.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

namespace custodian::schema {

using json = nlohmann::json;

std::string join(const std::string& prefix, std::string_view key) {
  return prefix.empty() ? std::string{key} : prefix + "." + std::string{key};
}

std::string index(const std::string& prefix, std::size_t i) {
  return prefix + "[" + std::to_string(i) + "]";
}

namespace {

template <class Strings>
std::string comma_list_of(const Strings& items) {
  std::string out;
  for (const auto& item : items)
    out += (out.empty() ? "" : ", ") + std::string{item};
  return out;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  auto lower = [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  };
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    auto diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      auto above = row[j];
      row[j] = std::min(
        {row[j] + 1, row[j - 1] + 1, diagonal + (lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

/// "a, b, c".
template <class Strings>
std::string comma_list(const Strings& items) {
  std::string out;
  for (const auto& item : items)
    out += (out.empty() ? "" : ", ") + std::string{item};
  return out;
}

} // namespace

std::string comma_list(const std::vector<std::string_view>& items) {
  return comma_list_of(items);
}

std::string comma_list(const std::vector<std::string>& items) {
  return comma_list_of(items);
}

/// ` (did you mean "x"?)` for the closest candidate within 2 edits, else "".
std::string suggestion(std::string_view word, const std::vector<std::string_view>& candidates) {
  std::string_view best;
  std::size_t best_distance = 3;
  for (auto c : candidates)
    if (auto d = edit_distance(word, c); d < best_distance && d < std::max(word.size(), c.size())) {
      best = c;
      best_distance = d;
    }
  return best.empty() ? "" : " (did you mean \"" + std::string{best} + "\"?)";
}

std::string env_name_problem(const std::string& s) {
  auto ok = [](unsigned char c) { return std::isalnum(c) || c == '_'; };
  if (!s.empty() &&
      (std::isdigit(static_cast<unsigned char>(s[0])) || !std::all_of(s.begin(), s.end(), ok)))
    return "must be the name of an environment variable ([A-Za-z_][A-Za-z0-9_]*)";
  return {};
}

std::string non_empty_problem(const std::string& s) {
  return s.empty() ? "must not be empty" : std::string{};
}

field make(std::string_view key, kind type, json fallback) {
  field f;
  f.key = key;
  f.type = type;
  f.fallback = std::move(fallback);
  return f;
}

field integer(std::string_view key, int64_t fallback, int64_t lo, int64_t hi) {
  auto f = make(key, kind::integer, fallback);
  f.lo = double(lo);
  f.hi = double(hi);
  return f;
}

field number(std::string_view key, double fallback, double lo, double hi, bool open_lo) {
  auto f = make(key, kind::number, fallback);
  f.lo = lo;
  f.hi = hi;
  f.open_lo = open_lo;
  return f;
}

field boolean(std::string_view key, bool fallback) {
  return make(key, kind::boolean, fallback);
}

field text(std::string_view key, std::string fallback, string_check check) {
  auto f = make(key, kind::string, std::move(fallback));
  f.check = check;
  return f;
}

field optional_text(std::string_view key, string_check check) {
  auto f = make(key, kind::string);
  f.check = check;
  return f;
}

field choice(std::string_view key, std::string fallback, std::vector<std::string_view> choices) {
  auto f = make(key, kind::choice, std::move(fallback));
  f.choices = std::move(choices);
  return f;
}

field object(std::string_view key, std::vector<field> fields, kind type) {
  auto f = make(key, type);
  f.fields = std::move(fields);
  return f;
}

field list(std::string_view key, std::vector<field> item) {
  auto f = make(key, kind::list, json::array());
  f.fields = std::move(item);
  return f;
}

field map(std::string_view key, field value) {
  auto f = make(key, kind::map, json::object());
  f.fields.push_back(std::move(value));
  return f;
}

field required(field f) {
  f.required = true;
  return f;
}

/// 1 rather than 1.0.
std::string number_text(double x) {
  return x == std::trunc(x) && std::abs(x) < 1e15 ? std::to_string(int64_t(x)) : json(x).dump();
}

std::string range_text(const field& f) {
  return std::string(f.open_lo ? "(" : "[") + number_text(f.lo) + ", " + number_text(f.hi) + "]";
}

/// Checks `v` against `f` at `path`, adding every problem to `out`.
void check(const json& v, const field& f, const std::string& path,
           std::vector<config_problem>& out) {
  auto bad = [&](std::string message) { out.push_back({path, std::move(message)}); };
  switch (f.type) {
  case kind::integer: {
    if (!v.is_number_integer())
      return bad("must be an integer");
    // Unsigned values beyond int64 are past every limit anyway.
    double x = v.is_number_unsigned() ? double(v.get<uint64_t>()) : double(v.get<int64_t>());
    if (x < f.lo)
      bad("must be ≥ " + number_text(f.lo));
    else if (x > f.hi)
      bad("must be ≤ " + number_text(f.hi));
    return;
  }
  case kind::number: {
    if (!v.is_number())
      return bad("must be a number");
    auto x = v.get<double>();
    if (!std::isfinite(x) || x < f.lo || x > f.hi || (f.open_lo && x == f.lo))
      bad("must be in " + range_text(f));
    return;
  }
  case kind::boolean:
    if (!v.is_boolean())
      bad("must be true or false");
    return;
  case kind::string:
    if (!v.is_string())
      return bad("must be a string");
    if (f.check)
      if (auto why = f.check(v.get<std::string>()); !why.empty())
        bad(why);
    return;
  case kind::choice: {
    auto listed = comma_list(f.choices);
    if (!v.is_string())
      return bad("must be one of: " + listed);
    auto s = v.get<std::string>();
    if (std::find(f.choices.begin(), f.choices.end(), s) == f.choices.end())
      bad("must be one of: " + listed + suggestion(s, f.choices));
    return;
  }
  case kind::any_object:
    if (!v.is_object())
      bad("must be an object");
    return;
  case kind::map:
    if (!v.is_object())
      return bad("must be an object");
    for (const auto& item : v.items())
      check(item.value(), f.fields[0], join(path, item.key()), out);
    return;
  case kind::list:
    if (!v.is_array())
      return bad("must be an array");
    if (!f.fields.empty())
      for (std::size_t i = 0; i < v.size(); ++i)
        check(v[i], f.fields[0], index(path, i), out);
    return;
  case kind::section:
  case kind::object: {
    if (f.type == kind::section && v.is_null())
      return;
    if (!v.is_object())
      return bad(f.type == kind::section ? "must be an object (or null: off)"
                                         : "must be an object");
    std::vector<std::string_view> keys;
    for (const auto& sub : f.fields)
      keys.push_back(sub.key);
    for (const auto& item : v.items()) {
      const auto& key = item.key();
      auto sub = std::find_if(f.fields.begin(), f.fields.end(),
                              [&](const field& s) { return s.key == key; });
      if (sub == f.fields.end())
        out.push_back({join(path, key), "unknown key" + suggestion(key, keys)});
      else
        check(item.value(), *sub, join(path, key), out);
    }
    for (const auto& sub : f.fields)
      if (sub.required && !v.contains(sub.key))
        out.push_back({join(path, sub.key), "required"});
    return;
  }
  }
}

/// `v` (checked against `f`) with every missing key filled in.
json canonical(const json& v, const field& f) {
  switch (f.type) {
  case kind::section:
  case kind::object: {
    if (!v.is_object())
      return f.type == kind::section ? json(nullptr) : canonical(json::object(), f);
    json result = json::object();
    for (const auto& sub : f.fields) {
      std::string key{sub.key};
      if (v.contains(key))
        result[key] = canonical(v[key], sub);
      else if (sub.type == kind::object)
        result[key] = canonical(json::object(), sub);
      else if (sub.type == kind::section)
        result[key] = nullptr;
      else
        result[key] = sub.fallback;
    }
    return result;
  }
  case kind::map: {
    if (!v.is_object())
      return v;
    json result = json::object();
    for (const auto& item : v.items())
      result[item.key()] = canonical(item.value(), f.fields[0]);
    return result;
  }
  case kind::list: {
    if (f.fields.empty() || !v.is_array())
      return v;
    json result = json::array();
    for (const auto& item : v)
      result.push_back(canonical(item, f.fields[0]));
    return result;
  }
  default:
    return v;
  }
}

std::vector<config_problem> problems_of(const json& v, const field& f) {
  std::vector<config_problem> out;
  check(v, f, "", out);
  return out;
}

} // namespace custodian::schema
