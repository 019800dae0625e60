#include <tunedhttp/pool_stats.hpp>
#include <tunedhttp/trace.hpp>

namespace tunedhttp {

std::string_view trace_point_name(TracePoint point) {
  switch (point) {
    case TracePoint::get_conn:
      return "get_conn";
    case TracePoint::dns_start:
      return "dns_start";
    case TracePoint::dns_done:
      return "dns_done";
    case TracePoint::dial_start:
      return "dial_start";
    case TracePoint::connect_start:
      return "connect_start";
    case TracePoint::connect_done:
      return "connect_done";
    case TracePoint::dial_done:
      return "dial_done";
    case TracePoint::proxy_connect_start:
      return "proxy_connect_start";
    case TracePoint::proxy_connect_done:
      return "proxy_connect_done";
    case TracePoint::tls_handshake_start:
      return "tls_handshake_start";
    case TracePoint::tls_handshake_done:
      return "tls_handshake_done";
    case TracePoint::got_conn:
      return "got_conn";
    case TracePoint::wrote_headers:
      return "wrote_headers";
    case TracePoint::wait_100_continue:
      return "wait_100_continue";
    case TracePoint::got_100_continue:
      return "got_100_continue";
    case TracePoint::got_1xx_response:
      return "got_1xx_response";
    case TracePoint::wrote_request:
      return "wrote_request";
    case TracePoint::got_first_response_byte:
      return "got_first_response_byte";
    case TracePoint::got_response_headers:
      return "got_response_headers";
    case TracePoint::response_done:
      return "response_done";
    case TracePoint::put_idle_conn:
      return "put_idle_conn";
    case TracePoint::idle_conn_closed:
      return "idle_conn_closed";
  }
  return "unknown";
}

const char* close_reason_name(CloseReason reason) {
  switch (reason) {
    case CloseReason::idle_timeout:
      return "idle_timeout";
    case CloseReason::host_cap:
      return "host_cap";
    case CloseReason::global_cap:
      return "global_cap";
    case CloseReason::server_closed:
      return "server_closed";
    case CloseReason::not_reusable:
      return "not_reusable";
    case CloseReason::error:
      return "error";
    case CloseReason::client_closed:
      return "client_closed";
    case CloseReason::dead_peer:
      return "dead_peer";
  }
  return "unknown";
}

}  // namespace tunedhttp
