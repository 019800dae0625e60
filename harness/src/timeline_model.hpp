#pragma once
// What timelines and trace export share: phases (spans) derived from the trace and the server's
// events, client events placed on their connection, and client ↔ server connection pairing.

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <tunedhttp/harness/timeline.hpp>
#include <vector>

namespace tunedhttp::harness::detail {

using TimePoint = std::chrono::steady_clock::time_point;

/// A phase on one connection: dial, tls_handshake, wait_100_continue, awaiting_headers, idle
/// (client); request, body (server). `failed`: it ended in an error.
struct Span {
  std::string name;
  std::uint64_t connection = 0;
  TimePoint begin{};
  TimePoint end{};
  bool failed = false;
  /// Still going when the recording ended (a connection still idle): `end` is the last event.
  bool open = false;
};

/// The client trace with every event placed on a connection: events recorded before a
/// connection was known (get_conn, dns_*) take the connection their request later got.
std::vector<TraceEvent> placed_client_events(const std::vector<TraceEvent>& trace);

/// Client phases, from placed events.
std::vector<Span> client_spans(const std::vector<TraceEvent>& placed);

/// Server phases.
std::vector<Span> server_spans(const std::vector<mockserver::Event>& events);

/// Client connection → server connection, paired by time: a client connection whose connect
/// succeeded takes the unpaired server connection accepted nearest to that moment.
std::map<std::uint64_t, std::uint64_t> pair_connections(
    const std::vector<TraceEvent>& placed, const std::vector<mockserver::Event>& server);

/// The earliest time anything in the timeline happened (events and limit starts); a
/// default-constructed time point when it is empty.
TimePoint timeline_origin(const Timeline& timeline);

}  // namespace tunedhttp::harness::detail
