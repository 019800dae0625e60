#pragma once
// What the mock server answers on a path: plain values, no Asio, so that scenario models and
// response templates can hold routes without the server's headers.

#include <cstdint>
#include <map>
#include <string>

namespace tunedhttp::mockserver {

/// What the server answers on a path (or on every path without a route).
struct Route {
  unsigned status = 200;
  std::string body = "ok\n";                   ///< body text, unless body_size is set.
  std::uint64_t body_size = 0;                 ///< if non-zero: that many 'x' bytes.
  std::map<std::string, std::string> headers;  ///< extra response headers.
  bool chunked = false;  ///< send the body with `Transfer-Encoding: chunked` (one chunk, or
                         ///< one per drip_body piece) instead of Content-Length.
  bool close = false;    ///< answer with `Connection: close` and close after the response.
};

/// What is wrong with `route` (a status outside 200-599, a header name that is not a token, a
/// header value with CR, LF or another control character), naming the field; empty when the
/// server can send it. The Server constructor refuses routes for which this is not empty.
std::string route_problem(const Route& route);

}  // namespace tunedhttp::mockserver
