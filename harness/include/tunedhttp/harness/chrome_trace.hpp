#pragma once
// Timelines exported in the Chrome Trace Event format, for Perfetto and chrome://tracing.

#include <string>
#include <tunedhttp/harness/timeline.hpp>
#include <vector>

namespace tunedhttp::harness {

/// One JSON document {"traceEvents": [...], "displayTimeUnit": "ms"} for all `timelines` on one
/// time axis (ts in microseconds since the earliest event of any of them). Each timeline gets two
/// processes, client and server (process_name metadata "<title> · client" / "· server"), and one
/// thread per connection (thread_name "connection N"). Trace points and server events are instant
/// events ("ph":"i", "s":"t"); phases (dial, tls_handshake, wait_100_continue, awaiting_headers,
/// idle; on the server request and body) and limits are complete events ("ph":"X" with "dur").
std::string chrome_trace_json(const std::vector<Timeline>& timelines);

}  // namespace tunedhttp::harness
