#include "actors/restart_strategy.hpp"

namespace custodian {

std::vector<std::size_t> affected_children(restart_strategy strategy, std::size_t count,
                                           std::size_t ended) {
  if (ended >= count)
    return {};
  std::size_t first = 0;
  switch (strategy) {
  case restart_strategy::one_for_one:
    return {ended};
  case restart_strategy::one_for_all:
    first = 0;
    break;
  case restart_strategy::rest_for_one:
    first = ended;
    break;
  }
  std::vector<std::size_t> result;
  for (auto i = first; i < count; ++i)
    result.push_back(i);
  return result;
}

std::vector<std::size_t> children_to_restart(restart_strategy strategy,
                                             const std::vector<restart_type>& children,
                                             std::size_t ended, bool abnormally) {
  if (ended >= children.size())
    return {};
  auto restarts = [&](std::size_t i, bool abnormal) {
    switch (children[i]) {
    case restart_type::permanent:
      return true;
    case restart_type::transient:
      return abnormal;
    case restart_type::temporary:
      break;
    }
    return false;
  };
  if (!restarts(ended, abnormally))
    return {};
  // The siblings are stopped by the supervisor: for them that is an abnormal end.
  std::vector<std::size_t> result;
  for (auto i : affected_children(strategy, children.size(), ended))
    if (i == ended || restarts(i, true))
      result.push_back(i);
  return result;
}

bool restart_intensity::allow(time_point now) {
  while (!recent_.empty() && now - recent_.front() >= period_)
    recent_.pop_front();
  recent_.push_back(now);
  return recent_.size() <= max_restarts_;
}

} // namespace custodian
