#include "drivers/redis/redis_session.hpp"

#include <charconv>

#include "drivers/redis/redis_command.hpp"

namespace custodian::drivers {

void session_state::observe(const std::vector<std::string>& argv, bool succeeded) {
  auto name = command_name(argv);
  // A nested MULTI is an error that leaves the transaction open: still in it.
  if (name == "MULTI") {
    in_multi_ = true;
  } else if (name == "EXEC" || name == "DISCARD") {
    in_multi_ = false; // even when EXEC fails (EXECABORT), the transaction ended
    watching_ = false;
  } else if (!succeeded) {
    return;
  } else if (name == "WATCH") {
    watching_ = true;
  } else if (name == "UNWATCH") {
    watching_ = false;
  } else if (name == "SELECT" && argv.size() == 2) {
    int64_t db = 0;
    const auto& text = argv[1];
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), db);
    if (ec == std::errc{} && end == text.data() + text.size())
      db_ = db;
  } else if (name == "AUTH" || name == "READONLY" || name == "CLIENT TRACKING" ||
             name == "CLIENT NO-EVICT" || name == "CLIENT NO-TOUCH") {
    client_mode_ = true;
  }
}

bool session_state::dirty() const {
  return in_multi_ || watching_ || db_ != home_db_ || client_mode_;
}

} // namespace custodian::drivers
