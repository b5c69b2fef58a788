#include "runtime/cli/ctl_table.hpp"

#include <algorithm>

namespace custodian::ctl {

table::table(std::vector<std::string> header) {
  rows_.push_back(std::move(header));
}

void table::add(std::vector<std::string> row) {
  rows_.push_back(std::move(row));
}

void table::print(std::ostream& out) const {
  std::vector<std::size_t> widths;
  for (const auto& row : rows_) {
    widths.resize(std::max(widths.size(), row.size()));
    for (std::size_t i = 0; i < row.size(); ++i)
      widths[i] = std::max(widths[i], row[i].size());
  }
  for (const auto& row : rows_) {
    for (std::size_t i = 0; i < row.size(); ++i) {
      out << row[i];
      if (i + 1 < row.size())
        out << std::string(widths[i] - row[i].size() + 2, ' ');
    }
    out << '\n';
  }
}

table object_table(std::vector<std::string> header, const std::vector<std::string>& keys,
                   const nlohmann::json& rows) {
  table t(std::move(header));
  for (const auto& row : rows) {
    std::vector<std::string> cells;
    for (const auto& key : keys) {
      nlohmann::json::json_pointer at(key);
      cells.push_back(row.is_object() && row.contains(at) ? cell(row[at]) : "-");
    }
    t.add(std::move(cells));
  }
  return t;
}

std::string cell(const nlohmann::json& value) {
  if (value.is_null() || (value.is_string() && value.get_ref<const std::string&>().empty()))
    return "-";
  if (value.is_string())
    return value.get<std::string>();
  if (value.is_boolean())
    return value.get<bool>() ? "yes" : "no";
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

} // namespace custodian::ctl
