// Phases, event placement and connection pairing shared by the SVG and the Chrome trace.
#include "timeline_model.hpp"

#include <algorithm>
#include <optional>
#include <set>
#include <tunedhttp/settings_table.hpp>

namespace tunedhttp::harness::detail {

std::vector<TraceEvent> placed_client_events(const std::vector<TraceEvent>& trace) {
  std::map<std::uint64_t, std::uint64_t> connection_of_request;
  for (const auto& event : trace) {
    if (event.connection != 0 && event.request != 0) {
      connection_of_request.emplace(event.request, event.connection);
    }
  }
  std::vector<TraceEvent> placed = trace;
  for (auto& event : placed) {
    if (event.connection != 0 || event.request == 0) continue;
    if (auto it = connection_of_request.find(event.request); it != connection_of_request.end()) {
      event.connection = it->second;
    }
  }
  std::stable_sort(placed.begin(), placed.end(),
                   [](const TraceEvent& a, const TraceEvent& b) { return a.at < b.at; });
  return placed;
}

std::vector<Span> client_spans(const std::vector<TraceEvent>& placed) {
  std::vector<Span> spans;
  for (std::size_t i = 0; i < placed.size(); ++i) {
    const auto& begin = placed[i];
    // Each timer's phase runs from its start to the first of its stop points; for
    // awaiting_headers the failure case has no got_response_headers, so response_done
    // (recorded also on failure) closes it.
    for (const auto& row : settings_table) {
      if (row.phase.empty() || begin.point != row.starts) continue;
      const auto stops = row.stop_points();
      // put_idle_conn with a detail is "not pooled": no idle phase.
      if (begin.point == TracePoint::put_idle_conn && (begin.error || !begin.detail.empty())) {
        continue;
      }
      bool ended = false;
      for (std::size_t j = i + 1; j < placed.size(); ++j) {
        const auto& end = placed[j];
        if (end.connection != begin.connection) continue;
        if (std::find(stops.begin(), stops.end(), end.point) == stops.end()) continue;
        if (row.scope != TimerScope::idle && end.request != begin.request) continue;
        spans.push_back({std::string(row.phase), begin.connection, begin.at, end.at,
                         static_cast<bool>(end.error), false});
        ended = true;
        break;
      }
      // A connection still idle when the recording ended: idle up to the last event.
      if (!ended && begin.point == TracePoint::put_idle_conn && placed.back().at > begin.at) {
        spans.push_back(
            {std::string(row.phase), begin.connection, begin.at, placed.back().at, false, true});
      }
    }
  }
  return spans;
}

std::vector<Span> server_spans(const std::vector<mockserver::Event>& events) {
  using mockserver::EventKind;
  std::vector<Span> spans;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const auto& begin = events[i];
    const char* name = begin.kind == EventKind::request_headers_read ? "request"
                       : begin.kind == EventKind::body_first_byte    ? "body"
                                                                     : nullptr;
    if (name == nullptr) continue;
    const EventKind end_kind = begin.kind == EventKind::request_headers_read
                                   ? EventKind::response_done
                                   : EventKind::body_done;
    for (std::size_t j = i + 1; j < events.size(); ++j) {
      const auto& end = events[j];
      if (end.connection != begin.connection) continue;
      // A body that stalls (stall_body) or stops being read (stop_reading) ends the span as a
      // close does: nothing more comes for that request, and the close itself may come later.
      const bool stalled =
          (end.kind == EventKind::body_stalled || end.kind == EventKind::reading_stopped) &&
          end.request == begin.request;
      const bool closed = end.kind == EventKind::closed_by_peer ||
                          end.kind == EventKind::closed_by_server || stalled;
      if ((end.kind == end_kind && end.request == begin.request) || closed) {
        spans.push_back({name, begin.connection, begin.at, end.at, closed, false});
        break;
      }
    }
  }
  return spans;
}

std::map<std::uint64_t, std::uint64_t> pair_connections(
    const std::vector<TraceEvent>& placed, const std::vector<mockserver::Event>& server) {
  std::map<std::uint64_t, TimePoint> accepted;
  for (const auto& event : server) {
    if (event.kind == mockserver::EventKind::accepted) accepted.emplace(event.connection, event.at);
  }
  std::map<std::uint64_t, std::uint64_t> pairs;
  std::set<std::uint64_t> taken;
  for (const auto& event : placed) {
    const bool connected =
        (event.point == TracePoint::connect_done || event.point == TracePoint::dial_done) &&
        !event.error && event.connection != 0;
    if (!connected || pairs.count(event.connection) != 0) continue;
    std::optional<std::uint64_t> best;
    std::chrono::nanoseconds best_distance{};
    for (const auto& [connection, at] : accepted) {
      if (taken.count(connection) != 0) continue;
      const auto distance = at > event.at ? at - event.at : event.at - at;
      if (!best || distance < best_distance) {
        best = connection;
        best_distance = distance;
      }
    }
    if (best) {
      pairs[event.connection] = *best;
      taken.insert(*best);
    }
  }
  return pairs;
}

TimePoint timeline_origin(const Timeline& timeline) {
  std::optional<TimePoint> origin;
  auto consider = [&](TimePoint t) {
    if (!origin || t < *origin) origin = t;
  };
  for (const auto& event : timeline.client) consider(event.at);
  for (const auto& event : timeline.server) consider(event.at);
  for (const auto& limit : timeline.limits) consider(limit.from);
  return origin.value_or(TimePoint{});
}

}  // namespace tunedhttp::harness::detail
