#pragma once
// What one request of a scenario step did, as the runner recorded it.

#include <boost/system/error_code.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <tunedhttp/trace.hpp>
#include <vector>

namespace tunedhttp::harness::detail {

struct RequestOutcome {
  bool completed = false;
  boost::system::error_code error;
  std::string error_name;  ///< error_name(error); empty on success.
  std::string error_message;
  unsigned status = 0;
  std::chrono::steady_clock::time_point started;
  std::chrono::steady_clock::time_point completed_at;
  std::vector<TraceEvent> trace;  ///< this request's events, in order.
  /// TCP keep-alive options read from the socket at got_conn (getsockopt).
  struct KeepAlive {
    bool read = false;  ///< false: no socket was seen (or getsockopt failed).
    bool enabled = false;
    int idle_seconds = 0;
    int interval_seconds = 0;
  } keep_alive;

  /// The first event at `point`, if any.
  const TraceEvent* find(TracePoint point) const {
    for (const auto& event : trace) {
      if (event.point == point) return &event;
    }
    return nullptr;
  }
};

}  // namespace tunedhttp::harness::detail
