#include "actors/slot_table.hpp"

namespace custodian {

std::string to_string(slot_state x) {
  switch (x) {
  case slot_state::creating:
    return "creating";
  case slot_state::idle:
    return "idle";
  case slot_state::validating:
    return "validating";
  case slot_state::leased:
    return "leased";
  case slot_state::recovering:
    return "recovering";
  case slot_state::quarantined:
    return "quarantined";
  case slot_state::retiring:
    return "retiring";
  }
  return "unknown";
}

void slot_counts::count(slot_state x, int by) {
  auto add = [by](std::size_t& n) { n += static_cast<std::size_t>(static_cast<long>(by)); };
  switch (x) {
  case slot_state::creating:
    add(creating);
    break;
  case slot_state::idle:
    add(idle);
    break;
  case slot_state::leased:
    add(leased);
    break;
  case slot_state::quarantined:
    add(quarantined);
    break;
  case slot_state::retiring:
    add(retiring);
    break;
  case slot_state::validating:
  case slot_state::recovering:
    break;
  }
}

void slot_counts::count(health_status x, int by) {
  auto n = static_cast<std::size_t>(static_cast<long>(by));
  if (x == health_status::degraded)
    degraded += n;
  else if (x == health_status::unhealthy)
    unhealthy += n;
}

} // namespace custodian
