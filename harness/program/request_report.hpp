#pragma once
// What `tunedhttp request` reports about one request: a JSON line (--json) or a one-line
// summary (-v). No I/O here, so both formats are easy to read and to test.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tunedhttp/trace.hpp>
#include <utility>
#include <vector>

namespace tunedhttp::program {

/// The outcome of one request of `tunedhttp request`, as printed.
struct RequestRecord {
  int worker = 1;                  ///< 1..--parallel
  int seq = 1;                     ///< 1..--count, within the worker
  std::optional<unsigned> status;  ///< the final status; none when the request failed
  std::string reason;              ///< the status line's reason phrase ("OK")
  std::string error;               ///< short error name (`response_header_timeout`); empty: none
  std::string message;             ///< the error's message, or the reason phrase on success
  std::chrono::nanoseconds elapsed{0};    ///< from the request's start to its completion
  bool reused = false;                    ///< the (last) connection came from the idle pool
  std::uint64_t connection = 0;           ///< the client's connection number (0: none obtained)
  std::chrono::nanoseconds idle_time{0};  ///< how long a reused connection had been idle
  bool retried = false;  ///< a stale reused connection failed and the request was sent again
  std::uint64_t body_bytes = 0;  ///< size of the response body read
  /// Trace point name → time since the request began, in the order first seen. A point seen
  /// twice (a retry) keeps its last time, so the trace describes the attempt that counted.
  std::vector<std::pair<std::string, std::chrono::nanoseconds>> trace;
};

/// Builds a record's connection and trace fields from the request's trace events, with times
/// measured from `start`.
void add_trace(RequestRecord& record, const std::vector<TraceEvent>& events,
               std::chrono::steady_clock::time_point start);

/// One JSON object on one line, without the newline:
/// {"worker":1,"seq":1,"status":200,"error":null,"message":"OK","elapsed_ms":1.234,...}.
/// Times are milliseconds with nanosecond precision.
std::string json_line(const RequestRecord& record);

/// A one-line human summary without the newline, e.g.
/// "* #1.1 200 OK, 512 bytes in 12.3ms on connection 1 (reused after 1.5s idle)".
std::string summary_line(const RequestRecord& record);

}  // namespace tunedhttp::program
