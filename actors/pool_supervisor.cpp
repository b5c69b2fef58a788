#include "actors/pool_supervisor.hpp"

#include <memory>
#include <utility>

#include <caf/all.hpp>

#include "actors/supervisor.hpp"

namespace custodian {

pool_supervisor_actor spawn_pool_supervisor(caf::actor_system& sys, const std::string& pool,
                                            const supervision_config& cfg,
                                            supervisor_watcher_actor watcher) {
  supervisor_config sup;
  sup.name = "pool " + pool;
  sup.strategy = cfg.strategy;
  sup.max_restarts = cfg.max_restarts;
  sup.period = cfg.period;
  sup.watcher = std::move(watcher);
  return spawn_supervisor(sys, std::move(sup));
}

child_spec resource_child(std::shared_ptr<const resource_config> resource_template,
                          resource_context ctx, std::string id, connection_view_ptr view,
                          resource_restart_watcher watcher) {
  auto starts = std::make_shared<uint64_t>(0);
  child_spec spec;
  spec.id = id;
  spec.restart = restart_type::permanent;
  // A resource is stopped once it has drained (or could not): nothing is left to
  // wind down, and its connection is closed by a blocking worker as it ends.
  spec.shutdown = std::chrono::milliseconds{0};
  // The template is shared by every resource of the pool: a child holds only
  // what is its own.
  spec.start = [templ = std::move(resource_template), ctx = std::move(ctx), id = std::move(id),
                view = std::move(view), watcher, starts](caf::actor_system& sys) {
    auto cfg = *templ;
    cfg.id = id;
    cfg.view = view;
    auto res = spawn_resource(sys, std::move(cfg), ctx);
    if ((*starts)++ > 0)
      caf::anon_send(watcher, spawn_atom::value, id, res);
    return caf::actor_cast<caf::actor>(res);
  };
  return spec;
}

} // namespace custodian
