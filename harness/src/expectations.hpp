#pragma once
// Checks of a step's outcome against the scenario's expectations. Pure functions: no I/O.
// Each failure reads "got X; want Y".

#include <string>
#include <tunedhttp/harness/result.hpp>
#include <tunedhttp/harness/scenario.hpp>
#include <tunedhttp/mockserver/event_log.hpp>
#include <tunedhttp/pool_stats.hpp>
#include <vector>

#include "request_outcome.hpp"

namespace tunedhttp::harness::detail {

/// Status or error, reuse and trace points of one request.
std::vector<std::string> check_outcome(const RequestExpectation& expect,
                                       const RequestOutcome& outcome);

/// Which idle connection a reused request got, against the client's trace before it started.
std::vector<std::string> check_connection_choice(ConnectionChoice choice,
                                                 const RequestOutcome& outcome,
                                                 const std::vector<TraceEvent>& history);

/// The pool's counters.
std::vector<std::string> check_pool(const PoolExpectation& expect, const PoolStats& stats);

/// Whether every event expected to exist (count absent or > 0) is in `events` yet.
bool server_events_present(const ServerEventsStep& expect,
                           const std::vector<mockserver::Event>& events);

/// The server's event log.
std::vector<std::string> check_server_events(const ServerEventsStep& expect,
                                             const std::vector<mockserver::Event>& events);

/// Judges one measured firing time: never early, at most `tolerance` late.
TimingMeasurement judge_timing(SettingId setting, std::chrono::nanoseconds configured,
                               std::chrono::nanoseconds fired_at,
                               std::chrono::nanoseconds tolerance);

/// "fired at 180ms; want >= 200ms (early by 20ms)" style message for a failed measurement.
std::string describe_timing_failure(const TimingMeasurement& measurement);

}  // namespace tunedhttp::harness::detail
