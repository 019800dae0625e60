// The JSON report of `tunedhttp run --json`.
#include <nlohmann/json.hpp>
#include <tunedhttp/harness/report.hpp>

namespace tunedhttp::harness {
namespace {

double milliseconds(std::chrono::nanoseconds d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

}  // namespace

static nlohmann::json scenario_json(const ScenarioResult& result) {
  nlohmann::json timings = nlohmann::json::array();
  for (const auto& m : result.timings) {
    timings.push_back({{"timer", setting_row(m.setting).name},
                       {"configured_ms", milliseconds(m.configured)},
                       {"fired_at_ms", milliseconds(m.fired_at)},
                       {"lateness_ms", milliseconds(m.lateness())},
                       {"tolerance_ms", milliseconds(m.tolerance)},
                       {"passed", m.passed}});
  }
  return {{"name", result.name},
          {"file", result.file},
          {"group", result.group},
          {"peer", result.peer},
          {"result", result.passed ? "pass" : "fail"},
          {"configured", result.configured},
          {"elapsed_ms", milliseconds(result.elapsed)},
          {"failures", result.failures},
          {"timings", timings},
          {"error", result.first_error},
          {"dials", result.dials},
          {"reuses", result.reuses}};
}

std::string format_json(const std::vector<ScenarioResult>& results) {
  nlohmann::json scenarios = nlohmann::json::array();
  std::size_t failed = 0;
  for (const auto& result : results) {
    if (!result.passed) ++failed;
    scenarios.push_back(scenario_json(result));
  }
  nlohmann::json report = {{"passed", failed == 0},
                           {"total", results.size()},
                           {"failed", failed},
                           {"scenarios", scenarios}};
  return report.dump(2) + "\n";
}

std::string format_comparison_json(const std::vector<Comparison>& comparisons) {
  nlohmann::json scenarios = nlohmann::json::array();
  std::size_t failed = 0;
  for (const auto& c : comparisons) {
    if (!c.ok) ++failed;
    scenarios.push_back({{"name", c.ours.name},
                         {"verdict", c.verdict},
                         {"declared", c.declared ? nlohmann::json(*c.declared) : nullptr},
                         {"ours", scenario_json(c.ours)},
                         {"go", scenario_json(c.go)}});
  }
  nlohmann::json report = {{"passed", failed == 0},
                           {"total", comparisons.size()},
                           {"failed", failed},
                           {"scenarios", scenarios}};
  return report.dump(2) + "\n";
}

}  // namespace tunedhttp::harness
