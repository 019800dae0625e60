#pragma once
// One request/response exchange on a connection, under `expect_continue` and
// `response_header`.

#include <boost/asio/awaitable.hpp>
#include <tunedhttp/client.hpp>

#include "connection.hpp"
#include "tracer.hpp"

namespace tunedhttp::detail {

/// What an exchange did, for the caller's pool and retry decisions.
struct ExchangeOutcome {
  boost::system::error_code error;
  Response response;
  bool reusable = false;            ///< in sync, response read to the end, keep-alive on both sides
  bool wrote_anything = false;      ///< any byte of the request reached the socket
  bool got_response_bytes = false;  ///< any byte of a response arrived
};

/// Writes `request` (target already in origin form) and reads the whole response.
boost::asio::awaitable<ExchangeOutcome> run_exchange(Connection& connection, Request& request,
                                                     const ClientOptions& options, Tracer& tracer);

}  // namespace tunedhttp::detail
