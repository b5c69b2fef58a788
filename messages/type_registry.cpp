#include "messages/type_registry.hpp"

// CAF's deserializer reads enum vectors through an uninitialised temporary that it
// assigns before use; GCC cannot see that and warns inside CAF's headers.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <caf/actor_system_config.hpp>

#include "messages/errors.hpp"
#include "messages/event.hpp"
#include "messages/event_bus_actor.hpp"
#include "messages/health_checker_actor.hpp"
#include "messages/health_messages.hpp"
#include "messages/health_status.hpp"
#include "messages/lifecycle_state.hpp"
#include "messages/pool_actor.hpp"
#include "messages/pool_health.hpp"
#include "messages/pool_messages.hpp"
#include "messages/pool_state.hpp"
#include "messages/quarantine_actor.hpp"
#include "messages/quarantine_messages.hpp"
#include "messages/registry_actor.hpp"
#include "messages/registry_messages.hpp"
#include "messages/resource_actor.hpp"
#include "messages/resource_messages.hpp"
#include "messages/root_actor.hpp"
#include "messages/state_store_actor.hpp"
#include "messages/store_messages.hpp"
#include "messages/supervisor_actor.hpp"
#include "messages/supervisor_messages.hpp"

namespace custodian {

void register_message_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<lifecycle_state>("custodian.lifecycle_state");
  cfg.add_message_type<transition_record>("custodian.transition_record");
  cfg.add_message_type<std::vector<transition_record>>("custodian.transition_records");
  cfg.add_message_type<resource_status>("custodian.resource_status");
  cfg.add_message_type<ping_result>("custodian.ping_result");
  cfg.add_message_type<lease_note>("custodian.lease_note");
  cfg.add_message_type<lease_end>("custodian.lease_end");
  cfg.add_message_type<event>("custodian.event");
  cfg.add_message_type<std::vector<event>>("custodian.events");
  cfg.add_message_type<event_filter>("custodian.event_filter");
  cfg.add_message_type<event_batch>("custodian.event_batch");
  cfg.add_message_type<event_bus_stats>("custodian.event_bus_stats");
  cfg.add_message_type<pool_state>("custodian.pool_state");
  cfg.add_message_type<lease>("custodian.lease");
  cfg.add_message_type<call_stats>("custodian.call_stats");
  cfg.add_message_type<pool_stats>("custodian.pool_stats");
  cfg.add_message_type<resource_summary>("custodian.resource_summary");
  cfg.add_message_type<std::vector<resource_summary>>("custodian.resource_summaries");
  cfg.add_message_type<pool_actor>("custodian.pool_actor");
  cfg.add_message_type<std::vector<pool_actor>>("custodian.pool_actors");
  cfg.add_message_type<pool_health>("custodian.pool_health");
  cfg.add_message_type<availability>("custodian.availability");
  cfg.add_message_type<availability_notice>("custodian.availability_notice");
  cfg.add_message_type<pool_report>("custodian.pool_report");
  cfg.add_message_type<pool_watcher_actor>("custodian.pool_watcher_actor");
  cfg.add_message_type<pool_summary>("custodian.pool_summary");
  cfg.add_message_type<std::vector<pool_summary>>("custodian.pool_summaries");
  cfg.add_message_type<drain_report>("custodian.drain_report");
  cfg.add_message_type<registry_actor>("custodian.registry_actor");
  cfg.add_message_type<shutdown_report>("custodian.shutdown_report");
  cfg.add_message_type<health_status>("custodian.health_status");
  cfg.add_message_type<health_report>("custodian.health_report");
  cfg.add_message_type<std::vector<health_report>>("custodian.health_reports");
  cfg.add_message_type<health_checker_actor>("custodian.health_checker_actor");
  cfg.add_message_type<health_watcher_actor>("custodian.health_watcher_actor");
  cfg.add_message_type<quarantine_outcome>("custodian.quarantine_outcome");
  cfg.add_message_type<quarantine_entry>("custodian.quarantine_entry");
  cfg.add_message_type<std::vector<quarantine_entry>>("custodian.quarantine_entries");
  cfg.add_message_type<quarantine_actor>("custodian.quarantine_actor");
  cfg.add_message_type<quarantine_watcher_actor>("custodian.quarantine_watcher_actor");
  cfg.add_message_type<child_info>("custodian.child_info");
  cfg.add_message_type<std::vector<child_info>>("custodian.child_infos");
  cfg.add_message_type<child_restarted>("custodian.child_restarted");
  cfg.add_message_type<supervisor_escalated>("custodian.supervisor_escalated");
  cfg.add_message_type<supervisor_actor>("custodian.supervisor_actor");
  cfg.add_message_type<supervisor_watcher_actor>("custodian.supervisor_watcher_actor");
  cfg.add_message_type<resource_actor>("custodian.resource_actor");
  cfg.add_message_type<root_actor>("custodian.root_actor");
  cfg.add_message_type<event_bus_actor>("custodian.event_bus_actor");
  cfg.add_message_type<event_sink_actor>("custodian.event_sink_actor");
  cfg.add_message_type<config_version>("custodian.config_version");
  cfg.add_message_type<std::vector<config_version>>("custodian.config_versions");
  cfg.add_message_type<pool_state_record>("custodian.pool_state_record");
  cfg.add_message_type<resource_state_record>("custodian.resource_state_record");
  cfg.add_message_type<state_updates>("custodian.state_updates");
  cfg.add_message_type<quarantine_record>("custodian.quarantine_record");
  cfg.add_message_type<std::vector<quarantine_record>>("custodian.quarantine_records");
  cfg.add_message_type<audit_record>("custodian.audit_record");
  cfg.add_message_type<std::vector<audit_record>>("custodian.audit_records");
  cfg.add_message_type<state_store_actor>("custodian.state_store_actor");
  cfg.add_error_category(
    error_category,
    [](uint8_t code, caf::atom_value, const caf::message& ctx) { return render_error(code, ctx); });
}

} // namespace custodian
