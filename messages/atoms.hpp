#pragma once
// Atoms of the Custodian vocabulary (CAF 0.17: at most 10 characters each).

#include <caf/atom.hpp>

namespace custodian {

// Resource lifecycle operations.
using initialize_atom = caf::atom_constant<caf::atom("initialize")>;
using acquire_atom = caf::atom_constant<caf::atom("acquire")>;
using release_atom = caf::atom_constant<caf::atom("release")>;
using maintain_atom = caf::atom_constant<caf::atom("maintain")>;
using drain_atom = caf::atom_constant<caf::atom("drain")>;
using fail_atom = caf::atom_constant<caf::atom("fail")>;
using exec_atom = caf::atom_constant<caf::atom("exec")>;
using ping_atom = caf::atom_constant<caf::atom("ping")>;

// Pool operations.
using return_atom = caf::atom_constant<caf::atom("return")>;
using suspend_atom = caf::atom_constant<caf::atom("suspend")>;
using resume_atom = caf::atom_constant<caf::atom("resume")>;
using resize_atom = caf::atom_constant<caf::atom("resize")>;

// Registry.
using add_atom = caf::atom_constant<caf::atom("add")>;

// Health checking.
using watch_atom = caf::atom_constant<caf::atom("watch")>;
using unwatch_atom = caf::atom_constant<caf::atom("unwatch")>;

// Quarantine.
using eject_atom = caf::atom_constant<caf::atom("eject")>;
using quarantine_atom = caf::atom_constant<caf::atom("quarantine")>;

// Queries.
using status_atom = caf::atom_constant<caf::atom("status")>;
using history_atom = caf::atom_constant<caf::atom("history")>;
using stats_atom = caf::atom_constant<caf::atom("stats")>;

// Operating pools at run time.
using configure_atom = caf::atom_constant<caf::atom("configure")>;
using resources_atom = caf::atom_constant<caf::atom("resources")>;
using remove_atom = caf::atom_constant<caf::atom("remove")>;

// Event bus.
using publish_atom = caf::atom_constant<caf::atom("publish")>;
using subscribe_atom = caf::atom_constant<caf::atom("subscribe")>;
using unsubscribe_atom = caf::atom_constant<caf::atom("unsubscrib")>;
using ack_atom = caf::atom_constant<caf::atom("ack")>;
using flush_atom = caf::atom_constant<caf::atom("flush")>;

// State store.
using config_atom = caf::atom_constant<caf::atom("config")>;
using state_atom = caf::atom_constant<caf::atom("state")>;
using audit_atom = caf::atom_constant<caf::atom("audit")>;
using backup_atom = caf::atom_constant<caf::atom("backup")>;
using restore_atom = caf::atom_constant<caf::atom("restore")>;

// Supervision.
using adopt_atom = caf::atom_constant<caf::atom("adopt")>;
using shutdown_atom = caf::atom_constant<caf::atom("shutdown")>;
using spawn_atom = caf::atom_constant<caf::atom("spawn")>;
using start_atom = caf::atom_constant<caf::atom("start")>;
using stop_atom = caf::atom_constant<caf::atom("stop")>;
using children_atom = caf::atom_constant<caf::atom("children")>;

} // namespace custodian
