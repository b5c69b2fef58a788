#pragma once
// The benchmark's reading of a PostgreSQL log whose lines start with %n (epoch
// seconds with ms, "1764614400.123 [pid] ..."): when the server said something,
// in epoch ms, the clock of bench/wall_clock.hpp.

#include <cstddef>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>

namespace custodian::bench {

/// The log's size now: the offset from which the lines of what follows are read.
inline std::size_t log_size(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  return in ? static_cast<std::size_t>(in.tellg()) : 0;
}

/// Calls `each(stamp_ms, line)` for every stamped line from byte `offset` on.
template <class F>
void for_each_stamped_line(const std::string& path, std::size_t offset, F&& each) {
  std::ifstream in(path, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(offset));
  std::string line;
  while (std::getline(in, line)) {
    char* end = nullptr;
    double seconds = std::strtod(line.c_str(), &end);
    if (end != line.c_str() && *end == ' ')
      each(seconds * 1000.0, line);
  }
}

/// The stamp of the first line from `offset` on that contains `text`.
inline std::optional<double> first_stamp(const std::string& path, std::size_t offset,
                                         const std::string& text) {
  std::optional<double> found;
  for_each_stamped_line(path, offset, [&](double ms, const std::string& line) {
    if (!found && line.find(text) != std::string::npos)
      found = ms;
  });
  return found;
}

/// Lines containing `text` stamped within [from_ms, to_ms], and the first and
/// last of their stamps (as the peers' pgctl.sh logcount).
struct stamped_count {
  int count = 0;
  double first = 0;
  double last = 0;
};

inline stamped_count count_stamped(const std::string& path, double from_ms, double to_ms,
                                   const std::string& text) {
  stamped_count c;
  for_each_stamped_line(path, 0, [&](double ms, const std::string& line) {
    if (ms < from_ms || ms > to_ms || line.find(text) == std::string::npos)
      return;
    if (c.count++ == 0)
      c.first = ms;
    c.last = ms;
  });
  return c;
}

} // namespace custodian::bench
