#include "request_report.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <tunedhttp/units.hpp>

namespace tunedhttp::program {

namespace {

double milliseconds(std::chrono::nanoseconds d) { return static_cast<double>(d.count()) / 1e6; }

}  // namespace

void add_trace(RequestRecord& record, const std::vector<TraceEvent>& events,
               std::chrono::steady_clock::time_point start) {
  int connection_requests = 0;
  for (const auto& event : events) {
    const std::string name{trace_point_name(event.point)};
    const auto since_start = std::chrono::duration_cast<std::chrono::nanoseconds>(event.at - start);
    auto seen = std::find_if(record.trace.begin(), record.trace.end(),
                             [&](const auto& entry) { return entry.first == name; });
    if (seen == record.trace.end()) {
      record.trace.emplace_back(name, since_start);
    } else {
      seen->second = since_start;
    }
    if (event.point == TracePoint::get_conn) ++connection_requests;
    if (event.point == TracePoint::got_conn) {
      record.reused = event.reused;
      record.idle_time = event.idle_time;
    }
    if (event.connection != 0) record.connection = event.connection;
  }
  record.retried = connection_requests > 1;
}

std::string json_line(const RequestRecord& record) {
  nlohmann::ordered_json trace = nlohmann::ordered_json::object();
  for (const auto& [name, at] : record.trace) trace[name] = milliseconds(at);
  nlohmann::ordered_json line = {
      {"worker", record.worker},
      {"seq", record.seq},
      {"status", record.status ? nlohmann::ordered_json(*record.status) : nullptr},
      {"error", record.error.empty() ? nlohmann::ordered_json(nullptr)
                                     : nlohmann::ordered_json(record.error)},
      {"message", record.message},
      {"elapsed_ms", milliseconds(record.elapsed)},
      {"reused", record.reused},
      {"connection", record.connection},
      {"idle_ms", milliseconds(record.idle_time)},
      {"retried", record.retried},
      {"bytes", record.body_bytes},
      {"trace", std::move(trace)},
  };
  // Replace, never throw, on bytes that are not UTF-8 (a server's reason phrase, say).
  return line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::string summary_line(const RequestRecord& record) {
  std::string line = "* #" + std::to_string(record.worker) + "." + std::to_string(record.seq) + " ";
  if (record.status) {
    line += std::to_string(*record.status);
    if (!record.reason.empty()) line += " " + record.reason;
    line += ", " + std::to_string(record.body_bytes) + " bytes";
  } else {
    line += record.error + " (" + record.message + ")";
  }
  line += " in " + format_duration(record.elapsed);
  if (record.connection != 0) {
    line += " on connection " + std::to_string(record.connection);
    if (record.reused) {
      line += " (reused after " + format_duration(record.idle_time) + " idle)";
    } else {
      line += " (new)";
    }
    if (record.retried) line += ", retried after a stale connection";
  }
  return line;
}

}  // namespace tunedhttp::program
