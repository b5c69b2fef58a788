#pragma once
// The failover figures, by the peers' definitions (their analyze.mjs, described
// in bench/README.md): one run's record turned into `key=value` figures, and the
// runs of one scenario summarised as `key=min/median/max`, with the distinct
// error texts the callers saw.

#include <map>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "bench/failover_record.hpp"

namespace custodian::bench {

/// A figure's value: a number (rounded to whole ms or a count), a word
/// ("yes"/"no", "ok"), or none ("na").
using figure_value = std::variant<std::monostate, double, std::string>;

struct run_figures {
  std::vector<std::pair<std::string, figure_value>> figures;
  /// (phase, text) of every failure that counts, texts with ports and ids masked.
  std::vector<std::pair<std::string, std::string>> errors;
};

/// The figures of one run of `record.scenario` ("restart...", "wrongpw",
/// "terminate"). Throws std::runtime_error when an event the definitions need is
/// missing (the run did not finish).
run_figures figures_of(const run_record& record);

/// "peer=... config=... scenario=... run=i key=value ..."
std::string run_line(const run_record& record, const run_figures& figures);

/// The runs of one scenario: "peer=... scenario=... runs=N key=min/median/max ...",
/// then one "... error_phase=P count=N in_runs=k/N text=T" line per distinct error.
std::vector<std::string> summary_lines(const run_record& first,
                                       const std::vector<run_figures>& runs);

} // namespace custodian::bench
