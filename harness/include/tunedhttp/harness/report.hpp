#pragma once
// Reports of scenario results: the table people read and the JSON document scripts read.

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

}  // namespace tunedhttp::harness
