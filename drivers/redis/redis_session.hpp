#pragma once
// What the commands of one holder leave on a connection for the next holder: a
// MULTI not ended, WATCHed keys, another database SELECTed, a client mode
// (tracking, no-evict, another user AUTHenticated). The pool resets a connection
// that has any of them before it hands it out again.

#include <cstdint>
#include <string>
#include <vector>

namespace custodian::drivers {

class session_state {
public:
  explicit session_state(int64_t home_db) : home_db_(home_db), db_(home_db) {}

  /// Records what `argv` did; `succeeded`: the server did not answer an error.
  /// Commands queued inside a MULTI count as done (they may run at EXEC).
  void observe(const std::vector<std::string>& argv, bool succeeded);

  /// Whether the next holder would inherit any of it.
  bool dirty() const;

  /// Back to a fresh connection's state (after RESET and SELECT of the home db).
  void clear() { *this = session_state{home_db_}; }

  int64_t db() const noexcept { return db_; }

private:
  int64_t home_db_;
  int64_t db_;
  bool in_multi_ = false;
  bool watching_ = false;
  bool client_mode_ = false;
};

} // namespace custodian::drivers
