#pragma once
// Timelines: a scenario's (or one request's) client trace and mock server events drawn on one
// time axis as an SVG, one lane per connection, with each configured limit as a marker.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <tunedhttp/harness/result.hpp>
#include <tunedhttp/mockserver/event_log.hpp>
#include <tunedhttp/settings.hpp>
#include <tunedhttp/trace.hpp>
#include <vector>

namespace tunedhttp::harness {

/// One configured limit, drawn from its governing trace point to `from + configured`.
struct TimelineLimit {
  std::string setting;                               ///< "response_header".
  std::uint64_t connection = 0;                      ///< client connection (lane); 0: none.
  std::chrono::steady_clock::time_point from{};      ///< the governing trace point's time.
  std::chrono::nanoseconds configured{0};            ///< the setting's value.
  std::optional<std::chrono::nanoseconds> fired_at;  ///< measured from `from`, when it fired.
};

/// What a timeline shows. Either side may be empty (`tunedhttp request` has no server events).
struct Timeline {
  std::string title;     ///< the scenario's name, or "GET https://...".
  std::string subtitle;  ///< e.g. "client: response_header=200ms · PASS".
  std::vector<TraceEvent> client;
  std::vector<mockserver::Event> server;
  std::vector<TimelineLimit> limits;
};

/// A scenario's timeline: its recorded trace and server events, and one limit per measured timer
/// (configured value, fire time and lateness as the runner measured them).
Timeline timeline_from_result(const ScenarioResult& result);

/// Limits for a request made outside the runner: for each timer set (non-zero) in `settings`
/// whose governing trace point is in `trace` (connect: dial_start, tls_handshake:
/// tls_handshake_start, expect_continue: wait_100_continue, response_header: wrote_request,
/// idle_conn: put_idle_conn), one limit; `fired_at` is set when the trace shows it fired
/// (the matching timeout error, or idle_conn_closed with reason idle_timeout).
std::vector<TimelineLimit> limits_from_trace(const Settings& settings,
                                             const std::vector<TraceEvent>& trace);

/// A timeline of requests made outside the runner (`tunedhttp request`): `trace` as recorded by
/// `ClientOptions::trace` (all requests of one client), no server events, and the limits
/// limits_from_trace(settings, trace) finds.
Timeline timeline_from_trace(std::string title, std::string subtitle, const Settings& settings,
                             std::vector<TraceEvent> trace);

/// The timeline as a standalone SVG document (UTF-8 text). Stable element ids name what is
/// drawn, so two runs of one scenario produce the same id set though their timings differ:
///   lane-client-N / lane-server-N    a connection's lane (server lanes paired by connect time)
///   cN-<trace_point>-rR[-k]          a client trace point (circle, with data-t-ms)
///   sN-<event_kind>-rR[-k]           a server event (circle, with data-t-ms)
///   span-cN-<phase>[-k], span-sN-<phase>[-k]   a phase (rect): dial, tls_handshake, ...
///   limit-<setting>-cN[-k], fired-<setting>-cN[-k]   a limit marker and its measured firing
/// x positions are proportional to time: x = plot_left + (t - t0) * pixels_per_ms, with t0,
/// plot_left and pixels_per_ms in the root element's data-t0-ms / data-plot-left /
/// data-px-per-ms attributes (t in ms since the earliest event drawn).
std::string render_timeline_svg(const Timeline& timeline);

/// The file name of a scenario's timeline: "response_header/fires_when_headers_are_held" →
/// "response_header--fires_when_headers_are_held.svg".
std::string timeline_file_name(const std::string& scenario_name);

}  // namespace tunedhttp::harness
