#pragma once
// A response body read by the caller, in pieces (Client::async_request_stream).

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/system/error_code.hpp>
#include <cstdint>
#include <memory>

namespace tunedhttp {

namespace detail {
struct BodyStream;
}

/// The body of a streamed response, pulled by the caller with async_read_some, with Go's
/// bodyEOFSignal rules for its connection:
/// - read to the end (async_read_some completes with `boost::asio::error::eof`), the connection
///   goes back to the idle pool when the exchange allows it (keep-alive on both sides, in sync),
///   with trace points `response_done` and `put_idle_conn` as for a whole response;
/// - closed (close(), or the reader destroyed) before the end, the connection is closed and
///   never reused (`put_idle_conn` with detail `not_reusable`).
///
/// Moves, never copies. One read at a time, as with an Asio stream. Any member function may be
/// called from any thread; reads run on the request's strand.
class BodyReader {
 public:
  /// A reader of nothing: every read completes with `boost::asio::error::operation_aborted`,
  /// as after close().
  BodyReader() = default;
  /// For the client: the stream of one response.
  explicit BodyReader(std::shared_ptr<detail::BodyStream> stream);
  /// Closes the connection unless the body was read to the end.
  ~BodyReader();
  BodyReader(BodyReader&&) noexcept = default;
  /// Closes this reader's connection (as the destructor does), then takes `other`'s.
  BodyReader& operator=(BodyReader&& other) noexcept;
  BodyReader(const BodyReader&) = delete;
  BodyReader& operator=(const BodyReader&) = delete;

  /// Reads some of the body into `buffer`.
  ///
  /// Completes when at least one byte was read, at the end of the body (0 bytes and
  /// `boost::asio::error::eof`, again on every later call), or on the first error: a network
  /// error, `errc::server_closed_connection` when the body is cut short, and, when the client's
  /// settings enable them, `errc::body_read_idle_timeout` (no body byte for `body_read_idle`)
  /// or `errc::low_speed_timeout`. After an error every read fails with the same error.
  ///
  /// @param buffer where the bytes go; must remain valid until the handler is called.
  /// @param token completion token with signature `void(boost::system::error_code,
  ///        std::size_t)`.
  ///
  /// Per-operation cancellation: any type (terminal, partial, total) ends the read with
  /// `boost::asio::error::operation_aborted` and closes the body early, as close() does (the
  /// connection is closed, never reused; later reads fail the same way). This is how a caller
  /// puts a deadline on a read: `co_await (body.async_read_some(b, use_awaitable) ||
  /// timer.async_wait(use_awaitable))`.
  template <class CompletionToken>
  auto async_read_some(boost::asio::mutable_buffer buffer, CompletionToken&& token) {
    return boost::asio::async_initiate<CompletionToken,
                                       void(boost::system::error_code, std::size_t)>(
        [this](auto handler, boost::asio::mutable_buffer into) {
          start_read(into, std::move(handler));
        },
        token, buffer);
  }

  /// The body was read to the end (and the connection given back or closed as its exchange
  /// decided). Call it between reads, not while one is pending.
  bool done() const;
  /// Body bytes read so far (between reads, as done()).
  std::uint64_t bytes_read() const;
  /// Closes the connection now unless the body was read to the end; further reads fail with
  /// `boost::asio::error::operation_aborted`.
  void close();

 private:
  void start_read(
      boost::asio::mutable_buffer buffer,
      boost::asio::any_completion_handler<void(boost::system::error_code, std::size_t)> handler);

  std::shared_ptr<detail::BodyStream> stream_;
};

/// A response whose status line and headers have been read, and whose body is still to be
/// read from `body`.
struct StreamedResponse {
  boost::beast::http::response_header<> header;
  BodyReader body;
};

}  // namespace tunedhttp
