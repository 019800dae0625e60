#pragma once
// The mock server's events as JSON lines, the form `serve --events` prints and the control API's
// GET /events returns (docs/faults.md, docs/control-api.md).

#include <chrono>
#include <string>
#include <tunedhttp/mockserver/event_log.hpp>

namespace tunedhttp::program {

/// One JSON object on one line for an event:
/// {"kind":..,"at_ms":..,"connection":..,"request":..,"detail":..,"seq":..}, in that order;
/// `at_ms` is milliseconds since `origin` (Server::started_at()), to the microsecond.
std::string event_json_line(const mockserver::Event& event,
                            std::chrono::steady_clock::time_point origin);

}  // namespace tunedhttp::program
