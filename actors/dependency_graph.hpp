#pragma once
// Pools and what they depend on: the order to start and stop them, and how one
// pool's trouble reaches the pools that depend on it (the cascade). A hard
// dependency that is down makes its dependants unavailable, naming the root cause;
// a soft one makes them degraded. Plain C++, tested without actors.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "messages/pool_health.hpp"

namespace custodian {

enum class dependency_kind : uint8_t { hard, soft };

std::string to_string(dependency_kind kind);

struct dependency {
  std::string pool;
  dependency_kind kind = dependency_kind::hard;
};

class dependency_graph {
public:
  /// Declares a pool and its dependencies; declaring it again replaces them.
  void add(const std::string& pool, std::vector<dependency> depends_on);
  /// Forgets a pool; edges of others to it stay (validate names them).
  void remove(const std::string& pool);

  /// Checks that every dependency is a declared pool and that there is no cycle.
  /// Returns what is wrong, naming the pool or the cycle ("a -> b -> a").
  std::optional<std::string> validate() const;

  /// Pools in an order where each comes after its dependencies (ties by name).
  /// Only meaningful once `validate` found nothing wrong.
  std::vector<std::string> start_order() const;

  /// The reverse of `start_order`: dependants stop before what they depend on.
  std::vector<std::string> stop_order() const;

  /// Each pool's availability given the pools' own health (a pool missing from
  /// `health` counts as healthy). A pool's own trouble counts first; then an
  /// unavailable hard dependency makes it unavailable, and an unavailable or
  /// degraded soft dependency, or a degraded hard one, makes it degraded.
  std::map<std::string, availability>
  cascade(const std::map<std::string, pool_health>& health) const;

  /// Why `pool` has the availability `cascaded` (a result of `cascade`) gives it,
  /// naming the dependency it comes through and the root cause ("hard dependency
  /// db is unhealthy (root cause: db)"); empty while it is available.
  std::string explain(const std::string& pool,
                      const std::map<std::string, availability>& cascaded) const;

  /// The pools that declare `pool` as a dependency, hard or soft.
  std::vector<std::string> dependants(const std::string& pool) const;

  /// What `pool` was declared with; empty for an unknown pool.
  std::vector<dependency> dependencies(const std::string& pool) const;

private:
  /// What an upstream pool's availability makes of a dependant through one edge.
  static availability::level through(dependency_kind kind, availability::level upstream);

  std::map<std::string, std::vector<dependency>> edges_;
};

} // namespace custodian
