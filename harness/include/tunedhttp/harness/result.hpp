#pragma once
// What running a scenario found: pass or fail with reasons, and each timer measured.

#include <chrono>
#include <string>
#include <vector>

namespace tunedhttp::harness {

/// One timer measured against its configured value: passes iff
/// `configured <= fired_at <= configured + tolerance` (never early, at most tolerance late).
struct TimingMeasurement {
  std::string timer;                    ///< "response_header".
  std::chrono::nanoseconds configured;  ///< the expected firing time (`fires_after`).
  std::chrono::nanoseconds fired_at;    ///< measured from the timer's governing trace point.
  std::chrono::nanoseconds tolerance;   ///< allowed lateness (already scaled).
  bool passed = false;
  /// fired_at - configured: negative means early.
  std::chrono::nanoseconds lateness() const { return fired_at - configured; }
};

/// The result of one scenario.
struct ScenarioResult {
  std::string name;
  std::string file;
  std::string group;       ///< folder / setting name.
  std::string configured;  ///< the client settings the file sets: "response_header=200ms".
  bool passed = false;
  /// Why it failed, each "where: got X; want Y". Empty iff passed.
  std::vector<std::string> failures;
  std::vector<TimingMeasurement> timings;
  std::chrono::nanoseconds elapsed{0};  ///< wall time of the whole scenario.
};

}  // namespace tunedhttp::harness
