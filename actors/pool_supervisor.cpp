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

child_spec resource_child(resource_config resource_template, resource_context ctx, std::string id,
                          connection_view_ptr view, resource_restart_watcher watcher) {
  resource_template.id = id;
  resource_template.view = std::move(view);
  auto starts = std::make_shared<uint64_t>(0);
  child_spec spec;
  spec.id = std::move(id);
  spec.restart = restart_type::permanent;
  // A resource told to stop ends at once; its connection is closed by a blocking
  // worker, bounded by the cleanup timeout.
  spec.shutdown = resource_template.cleanup_timeout;
  spec.start = [cfg = std::move(resource_template), ctx = std::move(ctx), watcher,
                starts](caf::actor_system& sys) {
    auto res = spawn_resource(sys, cfg, ctx);
    if ((*starts)++ > 0)
      caf::anon_send(watcher, spawn_atom::value, cfg.id, res);
    return caf::actor_cast<caf::actor>(res);
  };
  return spec;
}

} // namespace custodian
