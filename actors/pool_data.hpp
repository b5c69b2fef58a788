#pragma once
// The pool actor's state and the functions its handlers share, for the files
// that implement it by concern: pool.cpp (the behaviour, the pool's own states,
// draining, the sweep, its standing in the registry), pool_leases.cpp (acquires,
// waiters, the shelf, returns, execs), pool_failures.cpp (health reports,
// failures, quarantine, restarts) and pool_sizing.cpp (creating and retiring
// resources, resizing, configuring, rolling replace). Internal to actors/.

#include <deque>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <variant>

#include <caf/all.hpp>

#include "actors/acquire_completion.hpp"
#include "actors/creation_pacing.hpp"
#include "actors/deadline_index.hpp"
#include "actors/deadline_timer.hpp"
#include "actors/lease_shelf.hpp"
#include "actors/lease_table.hpp"
#include "actors/pool.hpp"
#include "actors/slot_table.hpp"
#include "actors/waiter_queue.hpp"

namespace custodian::pool_detail {

// Messages the pool sends itself; not part of the public interface.
using sweep_atom = caf::atom_constant<caf::atom("sweep")>;
using deadline_atom = caf::atom_constant<caf::atom("deadline")>;
using grow_atom = caf::atom_constant<caf::atom("grow")>;
using retry_atom = caf::atom_constant<caf::atom("retry")>;
using recover_atom = caf::atom_constant<caf::atom("recover")>;
/// Events waiting to be published in one batch: publish them now.
using flush_events_atom = caf::atom_constant<caf::atom("flushev")>;
/// A thread took from or returned to the shelf (sent by the shelf's first
/// note), and collect the shelf's notes (sent to itself a little later).
using shelf_notes_atom = caf::atom_constant<caf::atom("shelfnote")>;
using collect_notes_atom = caf::atom_constant<caf::atom("collect")>;

using pool_impl = pool_actor::extend<
  /// A resource's health status changed (from the pool's health checker).
  caf::reacts_to<health_report>,
  /// What became of a resource the pool put in quarantine.
  caf::reacts_to<quarantine_outcome>,
  /// The earliest deadline (waiter, lease TTL, lifetime, idle timeout) may have passed.
  caf::reacts_to<sweep_atom>,
  /// The drain timeout has passed.
  caf::reacts_to<deadline_atom>,
  /// The backoff after failed creations has elapsed.
  caf::reacts_to<grow_atom>,
  /// The backoff after the pool's supervisor gave up has elapsed.
  caf::reacts_to<retry_atom>,
  /// A failed resource was busy when probed in place: probe it again (slot,
  /// reason, last chance).
  caf::reacts_to<recover_atom, uint64_t, std::string, bool>,
  /// A resource was started again (resource_restart_watcher).
  caf::reacts_to<spawn_atom, std::string, resource_actor>,
  /// The supervisor restarted resources, or gave up (supervisor_watcher_actor).
  caf::reacts_to<child_restarted>, caf::reacts_to<supervisor_escalated>,
  caf::reacts_to<flush_events_atom>, caf::reacts_to<shelf_notes_atom>,
  caf::reacts_to<collect_notes_atom>>;

using time_point = std::chrono::steady_clock::time_point;

/// Why a lease past its TTL was taken back; its late return is reported as a leak.
inline const std::string leak_reason = "leaked: held past lease_ttl_ms";
inline const std::string replaced_reason = "replaced: its pool's config changed";

/// What the pool keeps of a slot's resource actor.
struct slot_link {
  /// Null until the supervisor has spawned it.
  resource_actor handle;
  /// Its connection, for holders in this process.
  std::shared_ptr<connection_view> view;
};

using slot = custodian::slot<slot_link>;

/// Who holds a lease or waits for one: an actor, or a thread using the blocking
/// facade (no address; named for leak reports).
struct holder_ref {
  caf::actor_addr actor;
  std::string thread;

  bool operator==(const holder_ref&) const = default;
};

/// Where the answer to one acquire goes: an actor's response promise or the
/// completion of a blocking caller.
struct lease_reply {
  caf::typed_response_promise<lease> promise;
  blocking_acquire blocking;
  time_point queued_at;
};

using waiter_list = waiter_queue<lease_reply, holder_ref>;
using lease_entry = lease_table<holder_ref>::entry;

/// The holder of the leases the shelf holds (actors/lease_shelf.hpp).
inline const holder_ref shelf_holder{{}, "the shelf"};

/// How the pool stands with the registry: who hears of its changes, what it told
/// them last, and the availability its dependencies give it.
struct pool_standing {
  pool_watcher_actor watcher;
  pool_report reported;
  availability_notice notice;
};

struct pool_data {
  static inline const char* name = "custodian.pool";

  pool_config cfg;
  /// What every resource is made from: the config's template with pool and driver.
  std::shared_ptr<const resource_config> resource_template;
  resource_context ctx;
  /// Spawns, owns and restarts the resources; monitored: when it gives up, the
  /// pool goes to `error` and tries again with a new one.
  pool_supervisor_actor supervisor;
  /// Counts the supervisors: replies meant for an earlier one are ignored.
  uint64_t generation = 0;
  /// Why the last supervisor gave up, and how many tries in a row failed since.
  std::string escalation;
  uint32_t failed_tries = 0;
  /// Probes the resources; null without a health config.
  health_checker_actor checker;
  /// Holds ejected resources and tries to recover them; spawned on first use.
  quarantine_actor quarantine;
  /// The quarantine policy changed while resources were in quarantine: they finish
  /// on the old schedule, and a new quarantine takes the next ejection after them.
  bool quarantine_outdated = false;
  /// Slot ids by resource id, for health reports.
  std::map<std::string, uint64_t> by_resource;
  pool_state state = pool_state::creating;
  /// Every resource, its state and health, and the counts of each.
  slot_table<slot_link> slots;
  lease_table<holder_ref> leases;
  waiter_list waiters;
  deadline_index lifetimes;
  std::set<caf::actor_addr> monitored;
  /// The holder of the latest acquire: skips the monitor lookup for a client that
  /// acquires in a loop.
  caf::actor_addr last_watched;
  pool_stats counters;
  /// The one timer of the sweep.
  deadline_timer sweep_timer;
  caf::typed_response_promise<pool_state> drain_reply;
  /// Spaces out creations after failures by their class, and knows when the
  /// backend is down (acquires are then told why at once).
  creation_pacing pacing;
  std::mt19937_64 rng;
  pool_standing standing;
  /// A rolling replace (the slots made from an earlier config are marked
  /// outdated): the replacement being created (its slot id; 0 = none), and
  /// replacements ready for which no outdated slot could be retired yet (it was
  /// leased): the pool is that far above max_size.
  uint64_t replacing = 0;
  std::size_t spare = 0;
  /// Idle resources lent to this process's threads (actors/lease_shelf.hpp):
  /// stocked once a thread acquires, until an actor does; held (not stocked)
  /// while a message other than the hot path's is handled; the longest idle
  /// since of what was stocked, for the idle sweep.
  std::shared_ptr<lease_shelf> shelf;
  bool shelf_wanted = false;
  /// Times in a row the pool found nobody waiting in line since someone last
  /// did: under contention the line is fair, so the shelf waits for calm.
  uint32_t calm = std::numeric_limits<uint32_t>::max();
  uint32_t shelf_held = 0;
  std::optional<time_point> shelf_oldest;
  /// Events of threads' takes and returns on the shelf waiting to be published
  /// in one batch, and whether the flush is due; any other event publishes them
  /// first, so that the pool's events keep their order.
  std::vector<event> pending_events;
  bool flush_armed = false;
  /// What resources are yet to be told of their leases, by slot, in order: told
  /// with the batch, or at once before the pool asks that resource anything
  /// else (`resource_now`). A message per lease would wake the resource (and
  /// the bus) on every acquire and return.
  std::unordered_map<uint64_t, std::vector<std::variant<lease_note, lease_end>>> lease_moves;

  pool_data() = default;
  pool_data(const pool_data&) = delete;
  pool_data& operator=(const pool_data&) = delete;

  // Runs when the pool ends for any reason: its resources end with their
  // supervisor, and threads find its shelf empty.
  ~pool_data() {
    if (!pending_events.empty() && ctx.events)
      caf::anon_send(ctx.events, publish_atom::value, std::move(pending_events));
    if (shelf)
      shelf->retire();
    if (supervisor)
      caf::anon_send_exit(supervisor, caf::exit_reason::user_shutdown);
  }

  bool serving() const { return state == pool_state::active || state == pool_state::scaling; }

  bool closing() const {
    return state == pool_state::draining || state == pool_state::destroying ||
           state == pool_state::destroyed;
  }
};

using self_ptr = pool_impl::stateful_pointer<pool_data>;

std::optional<uint64_t> take_idle(self_ptr self);
void record_wait(pool_data& st, caf::timespan waited);
lease open_lease(self_ptr self, uint64_t slot_id, holder_ref holder, time_point queued_at);
void tell_lease_end(self_ptr self, const lease_entry& entry, std::string reason);
uint64_t microseconds_of(caf::timespan t);
void publish_shelf_note(self_ptr self, const lease_shelf::note& n, std::string resource);
void publish_soon(self_ptr self, event ev);
void flush_events(self_ptr self);
void tell_resource(self_ptr self, uint64_t slot_id, std::variant<lease_note, lease_end> move);
void flush_lease_moves(self_ptr self);
const resource_actor& resource_now(self_ptr self, uint64_t slot_id);
void collect_shelf_notes(self_ptr self);
void grant(self_ptr self, uint64_t slot_id, holder_ref holder, lease_reply& reply);
bool may_shelve(self_ptr self);
void stock_shelf(self_ptr self);
bool recall_shelf(self_ptr self);
void expire_waiters(self_ptr self, time_point now);
bool needs_check(self_ptr self, const slot& s);
void check_then_grant(self_ptr self, uint64_t slot_id, holder_ref holder, lease_reply reply,
                      time_point deadline);
void hand_over(self_ptr self, uint64_t slot_id, holder_ref holder, lease_reply& reply,
               time_point deadline);
void serve_waiters(self_ptr self);
void watch(self_ptr self, const caf::actor_addr& holder);
void enqueue(self_ptr self, caf::timespan timeout, holder_ref holder, lease_reply reply);
caf::result<lease> acquire_for_actor(self_ptr self, caf::timespan timeout);
void acquire_for_thread(self_ptr self, caf::timespan timeout, const blocking_acquire& reply);
void reset_then_back_in_line(self_ptr self, uint64_t slot_id, const std::string& why);
void give_back(self_ptr self, uint64_t slot_id);
caf::error close_lease(self_ptr self, uint64_t id);
void report_reclaimed(self_ptr self, const lease_table<holder_ref>::entry& entry,
                      const char* reason);
void on_holder_down(self_ptr self, const caf::down_msg& msg);
void back_in_line(self_ptr self, uint64_t slot_id, slot_state from);
void fail_leased(self_ptr self, uint64_t lease_id, const std::string& reason);
caf::error unusable_lease(self_ptr self, uint64_t id);
void fail_slot(self_ptr self, uint64_t slot_id, const std::string& reason);
void end_exec(self_ptr self, uint64_t slot_id, const std::optional<std::string>& broke);
bool taken_back(self_ptr self, uint64_t id);
void deliver(self_ptr self, uint64_t lease_id, bool was_taken_back,
             caf::typed_response_promise<std::string>& promise,
             caf::expected<std::string>& outcome);
caf::result<std::string> exec(self_ptr self, uint64_t lease_id, std::string request);
caf::result<caf::ok_atom> report_failure(self_ptr self, uint64_t lease_id, std::string reason);
caf::result<caf::ok_atom> maintain_by_hand(self_ptr self, const std::string& id);
void clear_failures(pool_data& st, uint64_t slot_id);
void forget_health(self_ptr self, uint64_t slot_id);
void watch_health(self_ptr self, uint64_t slot_id);
caf::timespan check_timeout(const pool_data& st);
void revalidate_idle(self_ptr self);
quarantine_actor& quarantine_of(self_ptr self);
void eject(self_ptr self, uint64_t slot_id, const std::string& reason);
void recover_in_place(self_ptr self, uint64_t slot_id, std::string reason, bool last_chance);
void mark_degraded(pool_data& st, uint64_t slot_id);
void on_failure(self_ptr self, uint64_t slot_id, const std::string& reason);
void on_quarantine_outcome(self_ptr self, const quarantine_outcome& outcome);
caf::result<caf::ok_atom> quarantine_by_hand(self_ptr self, const std::string& resource,
                                             const std::string& reason);
caf::result<caf::ok_atom> release_by_hand(self_ptr self, const std::string& resource);
caf::result<std::vector<quarantine_entry>> quarantine_entries(self_ptr self);
void on_restarted(self_ptr self, const child_restarted& note);
void on_resource_started(self_ptr self, const std::string& id, const resource_actor& handle);
void on_health(self_ptr self, const health_report& report);
void start_checker(self_ptr self);
void replace_checker(self_ptr self);
void stop_resource(self_ptr self, const std::string& id);
void drop_from_quarantine(self_ptr self, const slot& s);
void finish_retirement(self_ptr self, uint64_t slot_id);
void on_outdated_gone(self_ptr self);
void retire(self_ptr self, uint64_t slot_id, const std::string& reason);
time_point lifetime_end(self_ptr self, time_point now);
void on_created(self_ptr self, uint64_t slot_id);
void on_creation_failed(self_ptr self, uint64_t slot_id, const caf::error& err);
void initialize(self_ptr self, uint64_t slot_id, resource_actor handle);
uint64_t create_resource(self_ptr self);
void grow(self_ptr self);
void settle_scaling(self_ptr self);
caf::result<pool_stats> resize(self_ptr self, uint32_t min_idle, uint32_t max_size);
void make_template(pool_data& st);
void roll(self_ptr self);
void retire_replaced(self_ptr self);
void begin_roll(self_ptr self);
caf::result<caf::ok_atom> configure(self_ptr self, const pool_update& update);
caf::error pool_error(self_ptr self, errc code, const std::string& what);
void publish(self_ptr self, std::string kind, std::string resource, std::string from,
             std::string to, std::string detail);
void set_state(self_ptr self, pool_state to, const std::string& reason);
std::string holder_name(const holder_ref& holder);
std::string slot_name(self_ptr self, uint64_t slot_id);
std::optional<time_point> idle_deadline(const pool_data& st);
std::size_t idle_now(const pool_data& st);
std::optional<time_point> shelf_deadline(const pool_data& st);
void arm_sweep(self_ptr self);
caf::error timeout_error(self_ptr self);
caf::error backend_down_error(self_ptr self);
void refuse(lease_reply& reply, caf::error err);
void sweep(self_ptr self);
void start_supervisor(self_ptr self);
void forget_all_slots(self_ptr self);
void on_supervisor_down(self_ptr self, const caf::error& reason);
void retry(self_ptr self);
void check_drained(self_ptr self);
caf::result<pool_state> begin_drain(self_ptr self);
void on_drain_deadline(self_ptr self);
caf::result<pool_state> suspend(self_ptr self);
caf::result<pool_state> resume(self_ptr self);
pool_stats stats_of(self_ptr self);
std::vector<resource_summary> resources_of(self_ptr self);
void review_standing(self_ptr self);
caf::result<pool_report> set_watcher(self_ptr self, pool_watcher_actor watcher);
caf::error refusal_by_dependency(self_ptr self);
void on_availability(self_ptr self, availability_notice notice);
caf::result<pool_state> start(self_ptr self);
caf::result<caf::ok_atom> release_lease(self_ptr self, uint64_t id);
void on_recover(self_ptr self, uint64_t slot_id, const std::string& reason, bool last_chance);
void on_escalated(self_ptr self, const supervisor_escalated& note);
pool_impl::behavior_type pool(self_ptr self, pool_config cfg, resource_context ctx,
                              pool_start start_mode);

/// Holds the shelf's resources with the pool while a message that may look at or
/// change them is handled, and stocks the shelf again after: the shelf lends
/// resources only between the messages of the blocking hot path.
class shelf_hold {
public:
  explicit shelf_hold(self_ptr self) : self_(self) {
    recall_shelf(self_);
    ++self_->state.shelf_held;
  }
  ~shelf_hold() {
    --self_->state.shelf_held;
    stock_shelf(self_);
  }
  shelf_hold(const shelf_hold&) = delete;
  shelf_hold& operator=(const shelf_hold&) = delete;

private:
  self_ptr self_;
};

} // namespace custodian::pool_detail
