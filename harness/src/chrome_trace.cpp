// Chrome Trace Event format export (the "JSON Object Format" of the Trace Event Format document):
// metadata names the processes (client, server per timeline) and threads (one per connection);
// trace points and server events are thread-scoped instant events, phases and limits complete
// events.
#include <nlohmann/json.hpp>
#include <set>
#include <tunedhttp/error.hpp>
#include <tunedhttp/harness/chrome_trace.hpp>

#include "timeline_model.hpp"

namespace tunedhttp::harness {
namespace {

using json = nlohmann::json;
using detail::TimePoint;

double to_us(std::chrono::nanoseconds d) {
  return std::chrono::duration<double, std::micro>(d).count();
}

json metadata(const char* name, int pid, std::uint64_t tid, const std::string& value) {
  return {{"name", name}, {"ph", "M"},  {"ts", 0},
          {"pid", pid},   {"tid", tid}, {"args", {{"name", value}}}};
}

json instant(const std::string& name, const char* category, double ts, int pid, std::uint64_t tid,
             json args) {
  return {{"name", name}, {"cat", category}, {"ph", "i"},  {"s", "t"},
          {"ts", ts},     {"pid", pid},      {"tid", tid}, {"args", std::move(args)}};
}

json complete(const std::string& name, const char* category, double ts, double dur, int pid,
              std::uint64_t tid, json args) {
  return {{"name", name}, {"cat", category}, {"ph", "X"},  {"ts", ts},
          {"dur", dur},   {"pid", pid},      {"tid", tid}, {"args", std::move(args)}};
}

}  // namespace

std::string chrome_trace_json(const std::vector<Timeline>& timelines) {
  // One origin for all timelines: scenarios run one after another, so they line up in time.
  std::optional<TimePoint> origin;
  for (const auto& timeline : timelines) {
    const bool empty =
        timeline.client.empty() && timeline.server.empty() && timeline.limits.empty();
    if (empty) continue;
    const TimePoint first = detail::timeline_origin(timeline);
    if (!origin || first < *origin) origin = first;
  }
  auto ts_of = [&](TimePoint t) { return to_us(t - origin.value_or(t)); };

  json events = json::array();
  int pid = 0;
  for (const auto& timeline : timelines) {
    const int client_pid = ++pid;
    const int server_pid = ++pid;
    events.push_back(metadata("process_name", client_pid, 0, timeline.title + " · client"));
    events.push_back(metadata("process_name", server_pid, 0, timeline.title + " · server"));
    events.push_back({{"name", "process_sort_index"},
                      {"ph", "M"},
                      {"ts", 0},
                      {"pid", client_pid},
                      {"tid", 0},
                      {"args", {{"sort_index", client_pid}}}});
    events.push_back({{"name", "process_sort_index"},
                      {"ph", "M"},
                      {"ts", 0},
                      {"pid", server_pid},
                      {"tid", 0},
                      {"args", {{"sort_index", server_pid}}}});

    const auto placed = detail::placed_client_events(timeline.client);
    std::set<std::uint64_t> client_threads;
    std::set<std::uint64_t> server_threads;
    for (const auto& e : placed) client_threads.insert(e.connection);
    for (const auto& l : timeline.limits) client_threads.insert(l.connection);
    for (const auto& e : timeline.server) server_threads.insert(e.connection);
    for (auto tid : client_threads) {
      events.push_back(metadata("thread_name", client_pid, tid,
                                tid == 0 ? "no connection" : "connection " + std::to_string(tid)));
    }
    for (auto tid : server_threads) {
      events.push_back(
          metadata("thread_name", server_pid, tid, "connection " + std::to_string(tid)));
    }

    for (const auto& e : placed) {
      json args = {{"request", e.request}};
      if (e.error) {
        args["error"] = error_name(e.error);
        args["message"] = e.error.message();
      }
      if (!e.detail.empty()) args["detail"] = e.detail;
      if (e.point == TracePoint::got_conn) {
        args["reused"] = e.reused;
        args["idle_time_ms"] = to_us(e.idle_time) / 1000;
      }
      events.push_back(instant(std::string(trace_point_name(e.point)), "client", ts_of(e.at),
                               client_pid, e.connection, std::move(args)));
    }
    for (const auto& span : detail::client_spans(placed)) {
      events.push_back(complete(span.name, "client_phase", ts_of(span.begin),
                                to_us(span.end - span.begin), client_pid, span.connection,
                                {{"failed", span.failed}, {"open", span.open}}));
    }
    for (const auto& e : timeline.server) {
      json args = {{"request", e.request}};
      if (!e.detail.empty()) args["detail"] = e.detail;
      events.push_back(instant(std::string(mockserver::event_kind_name(e.kind)), "server",
                               ts_of(e.at), server_pid, e.connection, std::move(args)));
    }
    for (const auto& span : detail::server_spans(timeline.server)) {
      events.push_back(complete(span.name, "server_phase", ts_of(span.begin),
                                to_us(span.end - span.begin), server_pid, span.connection,
                                {{"failed", span.failed}}));
    }
    for (const auto& limit : timeline.limits) {
      const double configured_ms = to_us(limit.configured) / 1000;
      json args = {{"configured_ms", configured_ms}};
      if (limit.fired_at) {
        args["fired_at_ms"] = to_us(*limit.fired_at) / 1000;
        args["lateness_ms"] = to_us(*limit.fired_at - limit.configured) / 1000;
      }
      events.push_back(complete("limit " + limit.setting, "limit", ts_of(limit.from),
                                to_us(limit.configured), client_pid, limit.connection, args));
      if (limit.fired_at) {
        events.push_back(instant("fired " + limit.setting, "limit",
                                 ts_of(limit.from + *limit.fired_at), client_pid, limit.connection,
                                 std::move(args)));
      }
    }
  }
  json document = {{"traceEvents", std::move(events)}, {"displayTimeUnit", "ms"}};
  return document.dump(1) + "\n";
}

}  // namespace tunedhttp::harness
