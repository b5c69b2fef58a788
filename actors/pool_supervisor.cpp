#include "actors/pool_supervisor.hpp"

#include <set>
#include <utility>

#include <caf/all.hpp>

namespace custodian {

namespace {

struct pool_supervisor_state {
  static inline const char* name = "custodian.pool_supervisor";

  resource_config resource_template;
  resource_context ctx;
  std::set<caf::actor_addr> resources;

  pool_supervisor_state() = default;
};

using self_ptr = pool_supervisor_actor::stateful_pointer<pool_supervisor_state>;

pool_supervisor_actor::behavior_type pool_supervisor(self_ptr self, resource_config templ,
                                                     resource_context ctx) {
  self->state.resource_template = std::move(templ);
  self->state.ctx = std::move(ctx);
  self->set_exit_handler([self](caf::exit_msg& msg) {
    // A resource ends alone (retired or crashed): its pool, which monitors it,
    // replaces it. The pool's end, or a stop from above, ends every resource.
    if (self->state.resources.erase(msg.source) == 0)
      self->quit(msg.reason ? msg.reason : caf::exit_reason::user_shutdown);
  });
  return {
    [self](spawn_atom, const std::string& id, const connection_view_ptr& view) {
      auto cfg = self->state.resource_template;
      cfg.id = id;
      cfg.view = view;
      auto res = spawn_resource(self->system(), std::move(cfg), self->state.ctx);
      self->link_to(res);
      self->state.resources.insert(res.address());
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
