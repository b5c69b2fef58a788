#pragma once
// The typed interface of the state store: the node's persistence. A reply means
// the write has committed (it survives a kill -9 from then on).

#include <cstdint>
#include <string>
#include <vector>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "messages/atoms.hpp"
#include "messages/store_messages.hpp"

namespace custodian {

using state_store_actor = caf::typed_actor<
  /// Stores a config as its pool's next version and replies that version; a config
  /// whose text equals the latest version's replies that version, writing nothing.
  /// With `deleted`: records the pool's deletion and forgets its pool, resource and
  /// quarantine records. bad_request (unknown source, config not a JSON object),
  /// not_found (deleting a pool that is not live), store_error.
  caf::replies_to<caf::put_atom, config_version>::with<uint32_t>,
  /// Every version of a pool, oldest first. not_found (no versions), store_error.
  caf::replies_to<history_atom, std::string>::with<std::vector<config_version>>,
  /// The latest version of every live (not deleted) pool, by name. store_error.
  caf::replies_to<caf::get_atom, config_atom>::with<std::vector<config_version>>,
  /// Writes every update in one transaction. store_error (nothing written).
  caf::replies_to<caf::put_atom, state_updates>::with<caf::ok_atom>,
  /// The latest state of every pool and resource, by name. store_error.
  caf::replies_to<caf::get_atom, state_atom>::with<state_updates>,
  /// Keeps a resource's quarantine record, replacing an older one. store_error.
  caf::replies_to<caf::put_atom, quarantine_record>::with<caf::ok_atom>,
  /// Forgets a resource's quarantine record (none: nothing to do). store_error.
  caf::replies_to<release_atom, std::string>::with<caf::ok_atom>,
  /// Every quarantine record, by resource. store_error.
  caf::replies_to<caf::get_atom, quarantine_atom>::with<std::vector<quarantine_record>>,
  /// Appends an operator action to the audit log and replies its seq. bad_request
  /// (detail not a JSON object), store_error.
  caf::replies_to<caf::put_atom, audit_record>::with<uint64_t>,
  /// At most `limit` audit records with a seq above `since`, oldest first.
  /// store_error.
  caf::replies_to<caf::get_atom, audit_atom, uint64_t, uint32_t>::with<std::vector<audit_record>>,
  /// The backup document as JSON text, secrets redacted. store_error.
  caf::replies_to<backup_atom>::with<std::string>,
  /// Replaces configs and quarantine records by a backup's and appends its audit
  /// log, all or nothing. bad_request (naming the JSON path), store_error.
  caf::replies_to<restore_atom, std::string>::with<caf::ok_atom>>;

} // namespace custodian
