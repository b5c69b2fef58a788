#pragma once
// Where the node keeps its state: the config names it, the state store opens it.

#include <cstdint>

namespace custodian {

enum class store_kind : uint8_t {
  sqlite, ///< a SQLite file (WAL, fsynced commits)
  memory, ///< nothing survives the process (tests, throwaway nodes)
};

} // namespace custodian
