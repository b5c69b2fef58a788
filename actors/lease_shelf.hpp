#pragma once
// Idle resources a pool lends to the threads of its own process, so that a
// blocking acquire in the common case costs no message and no thread hop: the
// caller takes a lease under a mutex and puts it back on release (the aim of
// HikariCP's ConcurrentBag). The pool stays the authority. Every item is a lease
// the pool opened with the shelf as its holder; the pool stocks the shelf only
// while nobody waits in line, and recalls every item before it handles any
// message but those of the hot path. An item out with a caller when it is
// recalled comes back through the pool. Plain C++, tested without actors.

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "actors/spin_lock.hpp"
#include "messages/pool_messages.hpp"

namespace custodian {

namespace drivers {
class connection;
}

class lease_shelf {
public:
  using time_point = std::chrono::steady_clock::time_point;

  /// A lease the pool opened, with the connection a caller uses.
  struct item {
    lease granted;
    std::shared_ptr<drivers::connection> conn;
  };

  /// An item the pool took back: whether a caller took it since it was stocked
  /// (then it was idle only since its last return, which the pool did not see).
  struct recalled {
    uint64_t lease = 0;
    bool used = false;
    time_point idle_since;
  };

  /// What callers did with the shelf, counted since it was made.
  struct tally {
    uint64_t taken = 0;
    /// Taken, found dead (`connection::alive`) and reported instead of used.
    uint64_t dead = 0;
  };

  /// An open lease for the shelf and since when its resource is idle.
  struct stocked {
    item it;
    time_point idle_since;
  };

  /// One take or return by a caller, for the pool to publish as an event.
  struct note {
    uint64_t lease = 0;
    std::thread::id thread;
    /// A return (with how long it was held), else a take.
    bool returned = false;
    std::chrono::microseconds held{0};
  };

  /// `noticed` runs (on the caller's thread, outside the lock) when a note is
  /// written while none waits: the pool collects them (`take_notes`) when it
  /// likes, and until it does no further call tells it again.
  explicit lease_shelf(std::function<void()> noticed = {}) : noticed_(std::move(noticed)) {}

  lease_shelf(const lease_shelf&) = delete;
  lease_shelf& operator=(const lease_shelf&) = delete;

  // The pool's side.

  /// Puts open leases on the shelf and opens it to callers. `lifo`: callers take
  /// the item put back last, else the one waiting longest.
  void stock(std::vector<stocked> items, bool lifo);

  /// Closes the shelf and takes back every item on it. Items out with callers
  /// stay theirs, but their return goes through the pool.
  std::vector<recalled> recall();

  /// Closes the shelf for good (its pool ended): items are dropped, callers
  /// find it empty, and every return goes to the pool.
  void retire();

  /// Items on the shelf now, not out with callers.
  std::size_t available() const;

  tally counted() const;

  /// The notes written since the last call, oldest first.
  std::vector<note> take_notes();

  // The caller's side.

  /// Takes an item, or nothing if the shelf is empty or closed: lease
  /// `preferred` if it is on the shelf (the one this caller put back last: a
  /// thread that keeps its connection keeps the server's side of it on the same
  /// CPU, as with a connection of its own), else by the order of `stock`.
  std::optional<item> take(uint64_t preferred = 0);

  /// Puts a taken item back: false if the pool recalled it or closed the shelf
  /// meanwhile, and the caller returns it to the pool instead.
  bool put_back(uint64_t lease);

  /// Forgets a taken item that its caller hands to the pool itself (it found the
  /// connection dead, `dead`, or left state behind that the pool must reset).
  void forget(uint64_t lease, bool dead);

private:
  struct entry {
    item it;
    time_point idle_since;
    bool out = false;
    bool used = false;
    /// Out when the pool recalled the shelf: it comes back through the pool.
    bool recalled = false;
    time_point taken_at;
  };

  /// Writes a note; true if the pool is to be told (none was waiting).
  bool write(note n);
  /// Runs `noticed` if `wanted`.
  void notice(bool wanted) const;

  mutable spin_lock mtx_;
  bool lifo_ = true;
  bool open_ = false;
  bool retired_ = false;
  /// Lease ids of the items on the shelf, in the order callers take them from
  /// the back (lifo) or the front.
  std::deque<uint64_t> available_;
  /// Every item the shelf lent, on it or out with a caller.
  std::unordered_map<uint64_t, entry> items_;
  tally tally_;
  std::vector<note> notes_;
  std::function<void()> noticed_;
};

/// How a caller thread is named as a holder ("thread 1402...").
std::string thread_holder_name(std::thread::id thread);

} // namespace custodian
