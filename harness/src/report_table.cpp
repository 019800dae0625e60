// The table `tunedhttp run` prints after the scenarios ran.
#include <algorithm>
#include <array>
#include <sstream>
#include <tunedhttp/harness/report.hpp>
#include <tunedhttp/http_syntax.hpp>
#include <tunedhttp/units.hpp>

#include "text_table.hpp"

namespace tunedhttp::harness {
namespace {

std::string signed_duration(std::chrono::nanoseconds d) {
  return d < std::chrono::nanoseconds{0} ? "-" + format_duration(-d) : "+" + format_duration(d);
}

// The row's timing columns: the worst-judged measurement (a failing one first, else the latest).
std::array<std::string, 3> timing_columns(const ScenarioResult& result) {
  if (result.timings.empty())
    return {result.configured.empty() ? "-" : result.configured, "-", "-"};
  const TimingMeasurement* shown = &result.timings.back();
  for (const auto& m : result.timings) {
    if (!m.passed) {
      shown = &m;
      break;
    }
  }
  std::string configured =
      std::string(setting_row(shown->setting).name) + " " + format_duration(shown->configured);
  if (result.timings.size() > 1) {
    configured += " (" + std::to_string(result.timings.size()) + " timings)";
  }
  return {configured, format_duration(shown->fired_at), signed_duration(shown->lateness())};
}

}  // namespace

std::string format_result_line(const ScenarioResult& result) {
  std::string line = (result.passed ? "PASS " : "FAIL ") + printable(result.name) + " (" +
                     format_duration(result.elapsed);
  if (!result.timings.empty()) {
    line += ", " + std::string(setting_row(result.timings.front().setting).name) + " " +
            signed_duration(result.timings.front().lateness()) + " late";
  }
  return line + ")";
}

std::string format_table(const std::vector<ScenarioResult>& results) {
  const std::array<std::string, 5> header = {"scenario", "result", "configured", "fired at",
                                             "lateness"};
  std::vector<std::array<std::string, 5>> rows;
  for (const auto& result : results) {
    auto timing = timing_columns(result);
    rows.push_back(
        {printable(result.name), result.passed ? "pass" : "FAIL", timing[0], timing[1], timing[2]});
  }
  std::ostringstream out;
  out << detail::aligned_columns(header, rows, true);

  std::size_t failed = 0;
  for (const auto& result : results) {
    if (result.passed) continue;
    ++failed;
    // Names, paths and messages may hold what a file wrote: no control character reaches the
    // terminal as such.
    out << "\nFAIL " << printable(result.name) << " (" << printable(result.file) << ")\n";
    for (const auto& failure : result.failures) out << "  " << printable(failure) << '\n';
  }
  out << '\n'
      << results.size() - failed << " passed, " << failed << " failed, " << results.size()
      << " scenarios (timing tolerance " << format_duration(timing_tolerance()) << ")\n";
  return out.str();
}

}  // namespace tunedhttp::harness
