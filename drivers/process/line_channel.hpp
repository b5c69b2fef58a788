#pragma once
// Lines to a child's stdin and from its stdout, each call bounded by a deadline:
// writes and reads are non-blocking and wait with poll, a partial line is kept
// for the next read, and a line longer than the limit is an error rather than
// memory without end. Writing to a child that closed its stdin fails with an
// error, never with SIGPIPE (blocked on the calling thread for the write only).
// Error messages are what the child did ("closed its stdout"): the caller names it.

#include <cstddef>
#include <string>

#include "drivers/deadline.hpp"
#include "drivers/driver.hpp"

namespace custodian::drivers {

class line_channel {
public:
  /// `to_child` and `from_child` are non-blocking descriptors the caller owns.
  line_channel(int to_child, int from_child, std::size_t max_line_bytes)
      : to_child_(to_child), from_child_(from_child), max_line_(max_line_bytes) {}

  /// Writes `line` and "\n". `broken` when the child closed its stdin, `timeout`.
  driver_status write_line(const std::string& line, const deadline& until);
  /// The next line, without its "\n". `broken` at the end of its output or for a
  /// line over the limit, `timeout`.
  driver_result<std::string> read_line(const deadline& until);

  /// Whether output is waiting that no read asked for (non-blocking).
  bool has_unread();
  /// Drops the output waiting now, reading what arrived until `until` at most.
  void discard_unread(const deadline& until);
  /// Whether the child closed its stdout (non-blocking).
  bool output_closed() const;
  /// Whether a call failed because the child closed its end (it is ending, often).
  bool closed_by_child() const noexcept { return closed_; }

private:
  int to_child_;
  int from_child_;
  std::size_t max_line_;
  std::string buffer_;
  /// Bytes of `buffer_` known to hold no "\n".
  std::size_t scanned_ = 0;
  bool closed_ = false;
};

} // namespace custodian::drivers
