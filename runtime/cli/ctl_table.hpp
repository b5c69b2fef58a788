#pragma once
// Aligned text tables and cells for custodianctl's human-readable output.

#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace custodian::ctl {

/// Columns as wide as their widest cell, two spaces apart; the last column is
/// not padded, so lines carry no trailing blanks.
class table {
public:
  explicit table(std::vector<std::string> header);

  void add(std::vector<std::string> row);
  void print(std::ostream& out) const;

private:
  std::vector<std::vector<std::string>> rows_; // the header first
};

/// A table of `rows` (a JSON array of objects): one column per JSON pointer in
/// `keys` ("/name", "/availability/level"), a missing value shown as "-".
table object_table(std::vector<std::string> header, const std::vector<std::string>& keys,
                   const nlohmann::json& rows);

/// A JSON value as a cell: strings bare, booleans yes/no, null and "" as "-",
/// anything else as compact JSON.
std::string cell(const nlohmann::json& value);

} // namespace custodian::ctl
