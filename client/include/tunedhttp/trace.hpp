#pragma once
// Trace points of a request's life, after Go's net/http/httptrace.ClientTrace.

#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace tunedhttp {

/// Where in a request's life an event happened. Each setting's timer starts at one of these
/// and is armed only after the event is recorded, so a measured fire time is never early.
enum class TracePoint {
  get_conn,                 ///< the request asks for a connection (pooled or new).
  dns_start,                ///< name resolution begins.
  dns_done,                 ///< name resolution ended (error on failure).
  dial_start,               ///< the `connect` timer starts: resolution + connect attempts.
  connect_start,            ///< one TCP connect attempt to `detail` (an address).
  connect_done,             ///< that attempt ended (error on failure).
  dial_done,                ///< the dial ended (error on failure or timeout).
  proxy_connect_start,      ///< the `proxy_connect` timer starts: CONNECT `detail` (host:port).
  proxy_connect_done,       ///< the proxy's answer to CONNECT (error unless 200; `detail`: status).
  tls_handshake_start,      ///< the `tls_handshake` timer starts.
  tls_handshake_done,       ///< handshake ended (error on failure or timeout).
  got_conn,                 ///< a connection was obtained; `reused` and `idle_time` say how.
  wrote_headers,            ///< request headers written.
  wait_100_continue,        ///< the `expect_continue` timer starts.
  got_100_continue,         ///< `100 Continue` arrived.
  got_1xx_response,         ///< another informational response (ignored).
  wrote_request,            ///< the whole request is written; the `response_header` timer starts.
  got_first_response_byte,  ///< first byte of the response arrived.
  got_response_headers,     ///< the final (non-1xx) response headers were read.
  response_done,            ///< the response body was read to the end (or the request failed).
  put_idle_conn,            ///< the connection went back to the pool (error says why not).
  idle_conn_closed,         ///< the pool closed an idle connection; `detail` says why.
};

/// Every TracePoint, in declaration order (for tables and checks that must not miss a new one).
inline constexpr TracePoint all_trace_points[] = {
    TracePoint::get_conn,
    TracePoint::dns_start,
    TracePoint::dns_done,
    TracePoint::dial_start,
    TracePoint::connect_start,
    TracePoint::connect_done,
    TracePoint::dial_done,
    TracePoint::proxy_connect_start,
    TracePoint::proxy_connect_done,
    TracePoint::tls_handshake_start,
    TracePoint::tls_handshake_done,
    TracePoint::got_conn,
    TracePoint::wrote_headers,
    TracePoint::wait_100_continue,
    TracePoint::got_100_continue,
    TracePoint::got_1xx_response,
    TracePoint::wrote_request,
    TracePoint::got_first_response_byte,
    TracePoint::got_response_headers,
    TracePoint::response_done,
    TracePoint::put_idle_conn,
    TracePoint::idle_conn_closed,
};

/// The stable snake_case name of a trace point ("wrote_request").
std::string_view trace_point_name(TracePoint point);

/// One trace event. `connection` numbers the client's connections from 1 (0: none yet);
/// `request` numbers requests from 1 (0: not tied to a request, e.g. idle_conn_closed).
/// For put_idle_conn, `detail` is empty when the connection was pooled, else the close reason.
struct TraceEvent {
  TracePoint point = TracePoint::get_conn;
  std::chrono::steady_clock::time_point at{};
  std::uint64_t connection = 0;
  std::uint64_t request = 0;
  bool reused = false;                    ///< got_conn: taken from the idle pool.
  std::chrono::nanoseconds idle_time{0};  ///< got_conn: how long it had been idle.
  boost::system::error_code error;        ///< *_done, put_idle_conn: what went wrong.
  std::string detail;                     ///< address, or a reason's name.
  /// dial_done and got_conn: the connection's socket descriptor, for inspection only
  /// (getsockopt); never close it. -1 elsewhere.
  int socket = -1;
};

/// Receives trace events. Called on the request's strand; must not block.
using TraceHook = std::function<void(const TraceEvent&)>;

}  // namespace tunedhttp
