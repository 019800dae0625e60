// `tunedhttp run --compare go`: each scenario by our client and by Go's, side by side.
#include <algorithm>
#include <array>
#include <sstream>
#include <tunedhttp/harness/report.hpp>
#include <tunedhttp/http_syntax.hpp>
#include <tunedhttp/units.hpp>

#include "text_table.hpp"

namespace tunedhttp::harness {
namespace {

// result, error, fired at, lateness, dials, reuses.
std::array<std::string, 6> side(const ScenarioResult& result) {
  std::string fired = "-";
  std::string lateness = "-";
  if (!result.timings.empty()) {
    const auto& m = result.timings.front();
    fired = format_duration(m.fired_at);
    const auto late = m.lateness();
    lateness = late < std::chrono::nanoseconds{0} ? "-" + format_duration(-late)
                                                  : "+" + format_duration(late);
  }
  return {result.passed ? "pass" : "FAIL",
          result.first_error.empty() ? "-" : result.first_error,
          fired,
          lateness,
          std::to_string(result.dials),
          std::to_string(result.reuses)};
}

}  // namespace

Comparison compare_results(ScenarioResult ours, ScenarioResult go,
                           std::optional<std::string> declared) {
  Comparison c{std::move(ours), std::move(go), std::move(declared), "", false};
  if (!c.ours.passed) {
    c.verdict = "fails";
  } else if (c.declared) {
    c.verdict = "differs on purpose";
    c.ok = true;
  } else if (!c.go.passed) {
    c.verdict = "differs";
  } else {
    c.verdict = "agree";
    c.ok = true;
  }
  return c;
}

std::string format_comparison_table(const std::vector<Comparison>& comparisons) {
  using Row = std::array<std::string, 14>;
  const Row header = {"scenario", "verdict", "ours",  "error",    "fired at", "lateness", "dials",
                      "reuses",   "go",      "error", "fired at", "lateness", "dials",    "reuses"};
  std::vector<Row> rows;
  for (const auto& c : comparisons) {
    const auto ours = side(c.ours);
    const auto go = side(c.go);
    Row row;
    row[0] = printable(c.ours.name);
    row[1] = c.verdict;
    std::copy(ours.begin(), ours.end(), row.begin() + 2);
    std::copy(go.begin(), go.end(), row.begin() + 8);
    rows.push_back(row);
  }
  std::ostringstream out;
  out << detail::aligned_columns(header, rows, false);
  std::size_t failed = 0;
  for (const auto& c : comparisons) {
    if (c.declared) {
      out << "\n"
          << printable(c.ours.name) << ": Go differs on purpose: " << printable(*c.declared)
          << "\n";
    }
    if (c.ok) continue;
    ++failed;
    out << "\n"
        << c.verdict << ": " << printable(c.ours.name) << " (" << printable(c.ours.file) << ")\n";
    for (const auto* result : {&c.ours, &c.go}) {
      for (const auto& failure : result->failures) {
        out << "  " << result->peer << ": " << printable(failure) << "\n";
      }
    }
  }
  out << "\n"
      << comparisons.size() - failed << " passed, " << failed << " failed, " << comparisons.size()
      << " scenarios compared with Go (timing tolerance " << format_duration(timing_tolerance())
      << ")\n";
  return out.str();
}

}  // namespace tunedhttp::harness
