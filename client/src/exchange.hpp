#pragma once
// One request/response exchange on a connection, under `expect_continue` and
// `response_header`.

#include <boost/asio/awaitable.hpp>
#include <tunedhttp/body_source.hpp>
#include <tunedhttp/client.hpp>

#include "connection.hpp"
#include "response_reader.hpp"
#include "tracer.hpp"

namespace tunedhttp::detail {

/// What an exchange did, beside its response: what the caller's retry and reuse decide from.
struct ExchangeFacts {
  boost::system::error_code error;
  bool reusable = false;            ///< in sync, response read to the end, keep-alive on both sides
  bool wrote_anything = false;      ///< any byte of the request reached the socket
  bool got_response_bytes = false;  ///< any byte of a response arrived
  /// For a streamed body's reuse decision, made when it has been read (ReuseFacts):
  bool body_skipped = false;    ///< a final status came before `100 Continue`
  bool answered_early = false;  ///< the response came before the body was fully written
  bool source_read = false;     ///< the BodySource was read (a retry needs its rewind)
};

/// An exchange's facts and its response (empty without a whole-body read).
struct ExchangeOutcome : ExchangeFacts {
  Response response;
};

/// Writes `request` (target already in origin form; with `source`, its body comes from there,
/// its Content-Length already set) and reads the whole response.
boost::asio::awaitable<ExchangeOutcome> run_exchange(Connection& connection, Request& request,
                                                     const ClientOptions& options, Tracer& tracer,
                                                     BodySource* source);

/// Writes `request` and reads up to the final response's headers into `reader`, which the
/// caller then reads the body from (the outcome's response is empty, `reusable` unset). A
/// response that comes while the request body is still being written stops the write (the
/// connection is closed): its body can be read only as far as it was already received.
boost::asio::awaitable<ExchangeOutcome> run_exchange_to_headers(
    Connection& connection, Request& request, const ClientOptions& options, Tracer& tracer,
    StreamingResponseReader& reader, BodySource* source);

}  // namespace tunedhttp::detail
