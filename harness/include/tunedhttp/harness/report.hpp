#pragma once
// Reports of scenario results: the table people read and the JSON document scripts read.

#include <optional>
#include <string>
#include <tunedhttp/harness/result.hpp>
#include <vector>

namespace tunedhttp::harness {

/// A fixed-width table: scenario, result, configured, fired at, lateness; then each failure.
std::string format_table(const std::vector<ScenarioResult>& results);

/// One line for a finished scenario: "PASS response_header/fires (203ms, +3ms late)".
std::string format_result_line(const ScenarioResult& result);

/// The JSON report (docs/scenarios.md, "JSON report"): {"passed", "total", "failed",
/// "scenarios": [{"name", "file", "group", "result", "configured", "elapsed_ms", "failures",
/// "timings": [{"timer", "configured_ms", "fired_at_ms", "lateness_ms", "tolerance_ms",
/// "passed"}]}]}.
std::string format_json(const std::vector<ScenarioResult>& results);

/// One scenario run by our client and by Go's (`tunedhttp run --compare go`), and the verdict.
struct Comparison {
  ScenarioResult ours;
  ScenarioResult go;
  std::optional<std::string> declared;  ///< the scenario's `go: {differs: "why"}`
  /// "agree" (both pass), "differs on purpose" (declared; ours passes), "differs" (not
  /// declared: ours passes, Go does not), "fails" (ours does not pass).
  std::string verdict;
  bool ok = false;  ///< agree or differs on purpose
};

/// Judges one pair (see Comparison::verdict).
Comparison compare_results(ScenarioResult ours, ScenarioResult go,
                           std::optional<std::string> declared);

/// The side-by-side table: scenario, verdict, then for ours and Go: result, error, fired at,
/// lateness, dials, reuses; then each difference with the failures that show it.
std::string format_comparison_table(const std::vector<Comparison>& comparisons);

/// The same as JSON: {"passed", "total", "failed", "scenarios": [{"name", "verdict", "declared",
/// "ours": {...}, "go": {...}}]}, each side as in format_json plus "error", "dials", "reuses".
std::string format_comparison_json(const std::vector<Comparison>& comparisons);

}  // namespace tunedhttp::harness
