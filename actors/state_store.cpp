#include "actors/state_store.hpp"

#include <memory>
#include <utility>

#include <caf/all.hpp>

namespace custodian {

namespace {

struct state_store_state {
  static inline const char* name = "custodian.state_store";

  std::shared_ptr<store_backend> store;
};

using self_ptr = state_store_actor::stateful_pointer<state_store_state>;

template <class T>
caf::result<T> reply(caf::expected<T> x) {
  if (!x)
    return std::move(x.error());
  return std::move(*x);
}

caf::result<caf::ok_atom> reply(const caf::expected<void>& x) {
  if (!x)
    return x.error();
  return caf::ok_atom::value;
}

state_store_actor::behavior_type state_store(self_ptr self, std::shared_ptr<store_backend> store) {
  self->state.store = std::move(store);
  auto& st = *self->state.store;
  return {
    [&st](caf::put_atom, const config_version& v) { return reply(st.put_config(v)); },
    [&st](history_atom, const std::string& pool) { return reply(st.history(pool)); },
    [&st](caf::get_atom, config_atom) { return reply(st.current_configs()); },
    [&st](caf::put_atom, const state_updates& u) { return reply(st.apply(u)); },
    [&st](caf::get_atom, state_atom) { return reply(st.states()); },
    [&st](caf::put_atom, const quarantine_record& q) { return reply(st.keep_quarantine(q)); },
    [&st](release_atom, const std::string& id) { return reply(st.release_quarantine(id)); },
    [&st](caf::get_atom, quarantine_atom) { return reply(st.quarantine()); },
    [&st](caf::put_atom, const audit_record& a) { return reply(st.append_audit(a)); },
    [&st](caf::get_atom, audit_atom, uint64_t since, uint32_t limit) {
      return reply(st.audit(since, limit));
    },
    [&st](backup_atom) { return reply(st.backup(caf::make_timestamp())); },
    [&st](restore_atom, const std::string& doc) { return reply(st.restore(doc)); },
  };
}

} // namespace

caf::expected<state_store_actor> spawn_state_store(caf::actor_system& sys,
                                                   const state_store_config& cfg) {
  auto store = open_store_backend(cfg);
  if (!store)
    return std::move(store.error());
  // Detached: SQLite blocks this actor's own thread, nobody else's.
  return sys.spawn<caf::detached>(state_store, std::shared_ptr<store_backend>{std::move(*store)});
}

} // namespace custodian
