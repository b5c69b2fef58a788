#pragma once
// A request from a thread that is not an actor (the facade, the node's API), with
// a bound: the answer, or the error that came instead (a timeout included). Each
// caller turns the error into its own kind (lease_error, api_error).

#include <optional>
#include <utility>

#include <caf/actor_system.hpp>
#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/scoped_actor.hpp>

namespace custodian {

/// Asks as `self`, for a caller whose requests must come from one actor (the
/// holder of a lease it takes and gives back, say).
template <class T, class Handle, class... Ts>
caf::expected<T> blocking_ask(caf::scoped_actor& self, const Handle& whom, caf::timespan within,
                              Ts&&... xs) {
  std::optional<T> out;
  caf::error failed;
  self->request(whom, within, std::forward<Ts>(xs)...)
    .receive([&](T& x) { out = std::move(x); }, [&](caf::error& err) { failed = std::move(err); });
  if (!out)
    return failed;
  return std::move(*out);
}

template <class T, class Handle, class... Ts>
caf::expected<T> blocking_ask(caf::actor_system& sys, const Handle& whom, caf::timespan within,
                              Ts&&... xs) {
  caf::scoped_actor self{sys};
  return blocking_ask<T>(self, whom, within, std::forward<Ts>(xs)...);
}

} // namespace custodian
