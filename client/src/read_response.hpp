#pragma once
// Reading a response from a connection: the socket is read only when the reader needs more.
// Shared by the exchange (up to the headers, or the whole body) and the streamed body reader.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/read_size.hpp>
#include <boost/beast/http/error.hpp>
#include <chrono>
#include <string>
#include <tuple>
#include <type_traits>

#include "body_pace.hpp"
#include "response_reader.hpp"
#include "tls_stream.hpp"
#include "tracer.hpp"
#include "with_timeout.hpp"

namespace tunedhttp::detail {

/// Records the trace point of an event up to the final headers: got_100_continue,
/// got_1xx_response or got_response_headers (with the status). Both drivers of an exchange (the
/// coroutines in exchange.cpp and bodiless_exchange.cpp) trace through this, so alike.
inline void trace_response_event(Tracer& tracer, const ResponseStep& step) {
  if (!tracer.enabled()) return;  // no status formatted for nobody
  switch (step.event) {
    case ResponseEvent::continue_100:
      return tracer.emit(TracePoint::got_100_continue);
    case ResponseEvent::informational:
      return tracer.emit(TracePoint::got_1xx_response, {}, std::to_string(step.status));
    case ResponseEvent::final_headers:
      return tracer.emit(TracePoint::got_response_headers, {}, std::to_string(step.status));
    default:
      return;
  }
}

/// One read of `stream` into `buffer`. A TLS stream first gives what it can decrypt from bytes
/// it already has, without going through the event loop.
template <class Stream>
boost::asio::awaitable<std::tuple<boost::system::error_code, std::size_t>> read_some(
    Stream& stream, boost::asio::mutable_buffer buffer) {
  if constexpr (std::is_same_v<Stream, TlsStream>) {
    boost::system::error_code ec;
    const std::size_t n = stream.read_buffered(buffer, ec);
    if (ec != boost::asio::error::would_block) co_return std::tuple{ec, n};
  }
  co_return co_await stream.async_read_some(buffer,
                                            boost::asio::as_tuple(boost::asio::use_awaitable));
}

/// Feeds the bytes already read to `reader` and reads the socket only when it needs more, up to
/// its next event. Beast's async_read would go through the event loop even when the buffer
/// already holds what is asked for (it posts its completion), which is the common case here: a
/// small response arrives whole with its first read.
///
/// With `pace` (a body being read, its timers on), each read of the socket must end by the
/// pace's deadline, else the step fails with body_read_idle_timeout or low_speed_timeout.
template <class Stream, class Reader>
boost::asio::awaitable<ResponseStep> next_event(Stream& stream, boost::beast::flat_buffer& buffer,
                                                Reader& reader, BodyPace* pace = nullptr) {
  namespace asio = boost::asio;
  for (;;) {
    // Fed even when nothing is buffered: a response may be complete with its headers.
    const auto step = reader.feed(buffer.data());
    buffer.consume(step.consumed);
    if (step.event != ResponseEvent::need_more) co_return step;
    ResponseStep failed;
    failed.event = ResponseEvent::failed;
    const auto size = boost::beast::read_size(buffer, 65536);
    if (size == 0) {
      failed.error = translate_read_error(boost::beast::http::error::buffer_overflow);
      co_return failed;
    }
    boost::system::error_code ec;
    std::size_t n = 0;
    if (pace) {
      const auto started = std::chrono::steady_clock::now();
      auto read = co_await with_deadline(
          stream.async_read_some(buffer.prepare(size), asio::as_tuple(asio::use_awaitable)),
          *pace->read_deadline(started));
      if (!read) {
        failed.error = pace->expired(started);
        co_return failed;
      }
      std::tie(ec, n) = *read;
      pace->on_bytes(std::chrono::steady_clock::now(), n);
    } else if constexpr (std::is_same_v<Stream, TlsStream>) {
      std::tie(ec, n) = co_await read_some(stream, buffer.prepare(size));
    } else {
      std::tie(ec, n) = co_await stream.async_read_some(buffer.prepare(size),
                                                        asio::as_tuple(asio::use_awaitable));
    }
    buffer.commit(n);
    if (ec == asio::error::eof) co_return reader.feed_eof();
    if (ec) {
      failed.error = translate_read_error(ec);
      co_return failed;
    }
  }
}

}  // namespace tunedhttp::detail
