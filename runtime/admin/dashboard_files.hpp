#pragma once
// The dashboard's static files (runtime/admin/dashboard/), embedded into the binary at
// build time by cmake/embed_files.cmake, so a node serves them without a file tree.

#include <span>
#include <string_view>

namespace custodian {

struct embedded_file {
  std::string_view name; ///< File name, e.g. "app.js".
  std::string_view content;
};

std::span<const embedded_file> dashboard_files();

} // namespace custodian
