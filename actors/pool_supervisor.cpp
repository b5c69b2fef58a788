#include "actors/pool_supervisor.hpp"

#include <map>
#include <utility>

#include <caf/all.hpp>

namespace custodian {

namespace {

struct pool_supervisor_state {
  static inline const char* name = "custodian.pool_supervisor";

  resource_config resource_template;
  resource_context ctx;
  /// Monitored, not linked: a resource killed outright (a kill cannot be trapped)
  /// must not take its supervisor and pool down with it.
  std::map<caf::actor_addr, resource_actor> resources;

  pool_supervisor_state() = default;
  pool_supervisor_state(const pool_supervisor_state&) = delete;
  pool_supervisor_state& operator=(const pool_supervisor_state&) = delete;

  // Runs when the supervisor ends for any reason: its resources end with it.
  ~pool_supervisor_state() {
    for (auto& [addr, handle] : resources)
      caf::anon_send_exit(handle, caf::exit_reason::user_shutdown);
  }
};

using self_ptr = pool_supervisor_actor::stateful_pointer<pool_supervisor_state>;

pool_supervisor_actor::behavior_type pool_supervisor(self_ptr self, resource_config templ,
                                                     resource_context ctx) {
  self->state.resource_template = std::move(templ);
  self->state.ctx = std::move(ctx);
  // A resource ends alone (retired or crashed): its pool, which monitors it too,
  // replaces it.
  self->set_down_handler([self](caf::down_msg& msg) { self->state.resources.erase(msg.source); });
  // The pool's end, or a stop from above, ends the supervisor, and so every resource.
  self->set_exit_handler([self](caf::exit_msg& msg) {
    self->quit(msg.reason ? msg.reason : caf::exit_reason::user_shutdown);
  });
  return {
    [self](spawn_atom, const std::string& id, const connection_view_ptr& view) {
      auto cfg = self->state.resource_template;
      cfg.id = id;
      cfg.view = view;
      auto res = spawn_resource(self->system(), std::move(cfg), self->state.ctx);
      self->monitor(res);
      self->state.resources.emplace(res.address(), res);
      return res;
    },
  };
}

} // namespace

pool_supervisor_actor spawn_pool_supervisor(caf::actor_system& sys, resource_config templ,
                                            resource_context ctx) {
  return sys.spawn(pool_supervisor, std::move(templ), std::move(ctx));
}

} // namespace custodian
