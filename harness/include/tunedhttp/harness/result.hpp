#pragma once
// What running a scenario found: pass or fail with reasons, and each timer measured.

#include <chrono>
#include <cstdint>
#include <string>
#include <tunedhttp/mockserver/event_log.hpp>
#include <tunedhttp/settings_table.hpp>
#include <tunedhttp/trace.hpp>
#include <vector>

namespace tunedhttp::harness {

/// One timer measured against its configured value: passes iff
/// `configured <= fired_at <= configured + tolerance` (never early, at most tolerance late).
struct TimingMeasurement {
  SettingId setting = SettingId::connect;  ///< whose timer (its row names it).
  std::chrono::nanoseconds configured;     ///< the expected firing time (`fires_after`).
  std::chrono::nanoseconds fired_at;       ///< measured from the timer's governing trace point.
  std::chrono::nanoseconds tolerance;      ///< allowed lateness (already scaled).
  bool passed = false;
  /// The governing trace point's time (fired_at counts from here) and the client connection it
  /// happened on (0 when unknown). Timelines draw the limit from this point.
  std::chrono::steady_clock::time_point started{};
  std::uint64_t connection = 0;
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
  /// Everything recorded before teardown, for timelines and trace export: the client-wide trace
  /// and the mock server's event log, in recording order.
  std::vector<TraceEvent> client_trace;
  std::vector<mockserver::Event> server_events;
  /// Whose client ran: "tunedhttp" or "go".
  std::string peer = "tunedhttp";
  /// The client's new connections and reuses over the scenario (as its pool counted them).
  std::uint64_t dials = 0;
  std::uint64_t reuses = 0;
  /// The first error a request step ended with ("" when none), for comparisons.
  std::string first_error;
};

}  // namespace tunedhttp::harness
