#include "exchange.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/read_size.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>
#include <optional>
#include <tuple>
#include <type_traits>
#include <vector>

#include "body_exchange.hpp"
#include "exchange_rules.hpp"
#include "read_response.hpp"
#include "request_head.hpp"
#include "signal.hpp"
#include "with_timeout.hpp"

namespace tunedhttp::detail {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using boost::system::error_code;

// A BodySource is read and written this many bytes at a time.
constexpr std::size_t source_piece = 64 * 1024;

// Repeats `write_some()` (an awaitable of (error, bytes)) until `done()`, each write limited to
// `idle` (request_write_idle, positive): past it, request_write_idle_timeout.
template <class WriteSome, class Done>
asio::awaitable<std::tuple<error_code, std::size_t>> write_each_within(
    WriteSome write_some, Done done, std::chrono::nanoseconds idle) {
  std::size_t written = 0;
  while (!done(written)) {
    auto some = co_await with_timeout(write_some(written), idle);
    if (!some) co_return std::tuple{error_code{errc::request_write_idle_timeout}, written};
    const auto [ec, n] = *some;
    written += n;
    if (ec) co_return std::tuple{ec, written};
  }
  co_return std::tuple{error_code{}, written};
}

// Writes what `serializer` has left, each write under `idle` (positive). Without the limit the
// callers use Beast's async_write directly (no coroutine frame of this one's).
template <class Stream>
asio::awaitable<std::tuple<error_code, std::size_t>> write_rest_within(
    Stream& stream, http::request_serializer<http::string_body>& serializer,
    std::chrono::nanoseconds idle) {
  // (A coroutine itself, so that what the lambdas refer to lives in its frame.)
  co_return co_await write_each_within(
      [&](std::size_t) {
        return http::async_write_some(stream, serializer, asio::as_tuple(asio::use_awaitable));
      },
      [&](std::size_t) { return serializer.is_done(); }, idle);
}

// Writes all of `bytes`, each write under `idle` (request_write_idle) when it is positive.
template <class Stream>
asio::awaitable<std::tuple<error_code, std::size_t>> write_all_within(
    Stream& stream, asio::const_buffer bytes, std::chrono::nanoseconds idle) {
  if (idle <= std::chrono::nanoseconds::zero()) {
    co_return co_await asio::async_write(stream, bytes, asio::as_tuple(asio::use_awaitable));
  }
  co_return co_await write_each_within(
      [&stream, bytes](std::size_t written) {
        return stream.async_write_some(bytes + written, asio::as_tuple(asio::use_awaitable));
      },
      [size = bytes.size()](std::size_t written) { return written >= size; }, idle);
}

// Writes `head` (all of a request without a body). On a plain socket (non-blocking, see the
// dialer) it is written in place, and only what the socket cannot take now goes through the
// event loop, under request_write_idle.
template <class Stream>
asio::awaitable<std::tuple<error_code, std::size_t>> write_head(Stream& stream,
                                                                const std::string& head,
                                                                std::chrono::nanoseconds idle) {
  error_code ec;
  std::size_t written = stream.write_some(asio::buffer(head), ec);
  if (ec == asio::error::would_block || ec == asio::error::try_again) ec = {};
  if (!ec && written < head.size()) {
    std::size_t rest = 0;
    std::tie(ec, rest) = co_await write_all_within(stream, asio::buffer(head) + written, idle);
    written += rest;
  }
  // A TLS request's records may still wait for room in the socket.
  if constexpr (std::is_same_v<Stream, TlsStream>) {
    if (!ec && stream.output_pending()) ec = co_await stream.flush();
  }
  co_return std::tuple{ec, written};
}

// Reads responses until a final (non-1xx) one's headers are in `reader`. Calls `on_continue`
// for each `100 Continue`. `got_bytes` tells whether any response byte arrived.
template <class Stream, class Reader, class OnContinue>
asio::awaitable<error_code> read_final_headers(Stream& stream, Connection& connection,
                                               Reader& reader, Tracer& tracer,
                                               OnContinue on_continue, bool& got_bytes) {
  if (connection.buffer.size() == 0) {
    // A reused connection already has this read in flight since it went idle: adopted, not
    // cancelled (idle_read.hpp says why).
    std::tuple<error_code, std::size_t> read;
    if constexpr (std::is_same_v<Stream, TlsStream>) {
      // The adopted read is of ciphertext. It may hold only session tickets, or a close_notify:
      // the first response byte is the first decrypted one.
      if (connection.idle_read.adoptable()) {
        const auto [ec, n] =
            co_await connection.idle_read.async_adopt(asio::as_tuple(asio::use_awaitable));
        if (ec) co_return translate_read_error(ec);
        stream.commit_raw(n);
      }
      read = co_await read_some(stream, connection.buffer.prepare(TlsStream::first_read_size));
    } else {
      if (connection.idle_read.adoptable()) {
        read = co_await connection.idle_read.async_adopt(asio::as_tuple(asio::use_awaitable));
      } else {
        read = co_await stream.async_read_some(connection.buffer.prepare(first_read_size),
                                               asio::as_tuple(asio::use_awaitable));
      }
    }
    const auto [ec, n] = read;
    if (ec) co_return translate_read_error(ec);
    connection.buffer.commit(n);
  }
  if (!got_bytes) {
    got_bytes = true;
    tracer.emit(TracePoint::got_first_response_byte);
  }
  for (;;) {
    const auto step = co_await next_event(stream, connection.buffer, reader);
    trace_response_event(tracer, step);
    switch (step.event) {
      case ResponseReader::Event::final_headers:
        co_return error_code{};
      case ResponseReader::Event::continue_100:
        on_continue();
        break;
      case ResponseReader::Event::informational:
        break;
      default:  // failed (need_more and complete do not come before the final headers)
        co_return step.error ? step.error : make_error_code(errc::malformed_response);
    }
  }
}

// `Reader`: ResponseReader (the whole body is read before run() returns) or
// StreamingResponseReader (run() returns at the final headers; the caller reads the body).
template <class Stream, class Reader>
class Exchange {
 public:
  Exchange(Stream& stream, Connection& connection, Request& request, const ClientOptions& options,
           Tracer& tracer, Reader& reader, BodySource* source)
      : stream_(stream),
        connection_(connection),
        request_(request),
        options_(options),
        tracer_(tracer),
        reader_(reader),
        source_(source) {}

  asio::awaitable<ExchangeOutcome> run() {
    const auto& settings = options_.settings;
    const bool wait_for_continue =
        waits_for_continue(has_body(), request_[http::field::expect],
                           settings.expect_continue > std::chrono::nanoseconds::zero());
    error_code ec;
    // (Not a conditional expression: GCC 12 miscompiles co_await inside ?:.)
    if (wait_for_continue) {
      ec = co_await send_while_reading(true);
    } else if (has_body()) {
      ec = co_await send_while_reading(false);
    } else {
      ec = co_await send_then_read_headers();
    }
    if constexpr (Reader::streaming) {
      outcome_.body_skipped = body_skipped();
      outcome_.answered_early = answered_early();
    } else {
      if (!ec) ec = co_await read_body();
    }
    co_await stop_body_writer();
    outcome_.error = ec;
    // A streamed body's response_done comes when the caller has read it.
    if (!Reader::streaming || ec) tracer_.emit(TracePoint::response_done, ec);
    co_return std::move(outcome_);
  }

 private:
  // The plain order: the whole request, then the response headers under response_header.
  asio::awaitable<error_code> send_then_read_headers() {
    // No body: the whole request is written from one buffer (request_head.hpp).
    format_bodiless_request(request_, connection_.head);
    auto [ec, written] =
        co_await write_head(stream_, connection_.head, options_.settings.request_write_idle);
    outcome_.wrote_anything = written > 0;
    if (ec) co_return ec;
    tracer_.emit(TracePoint::wrote_headers);
    tracer_.emit(TracePoint::wrote_request);
    auto read = co_await with_timeout(
        read_final_headers(
            stream_, connection_, reader_, tracer_, [] {}, outcome_.got_response_bytes),
        options_.settings.response_header);
    if (!read) co_return errc::response_header_timeout;
    co_return *read;
  }

  // A request with a body is written while its response is already being read, as Go's
  // writeLoop and readLoop do: a server may answer before it has read the body. With
  // `wait_for_100`, the headers go first, then up to expect_continue for `100 Continue` (a final
  // status may come instead), then the body; the rest of response_header runs from there. What
  // each end means is BodyExchange's decision (body_exchange.hpp); this carries it out.
  asio::awaitable<error_code> send_while_reading(bool wait_for_100) {
    if (wait_for_100) {
      auto [ec, written] = co_await http::async_write_header(stream_, serializer(),
                                                             asio::as_tuple(asio::use_awaitable));
      outcome_.wrote_anything = written > 0;
      if (ec) co_return ec;
      tracer_.emit(TracePoint::wrote_headers);
      tracer_.emit(TracePoint::wait_100_continue);
    }

    auto executor = co_await asio::this_coro::executor;
    Signal continue_or_final(executor);
    headers_done_.emplace(executor);
    progress_.emplace(executor);
    body_.emplace(wait_for_100);
    // The reader runs beside us on the same strand; we always wait for it before returning,
    // so the references it holds stay valid.
    asio::co_spawn(
        executor,
        [&]() -> asio::awaitable<void> {
          read_error_ = co_await read_final_headers(
              stream_, connection_, reader_, tracer_, [&] { continue_or_final.notify(); },
              outcome_.got_response_bytes);
        },
        // Signalled from the completion handler, after the reader's frame is gone.
        [&](std::exception_ptr failure) {
          if (failure) read_error_ = asio::error::no_memory;
          body_->reader_done(read_error_);
          headers_done_->notify();
          progress_->notify();
          continue_or_final.notify();
        });

    auto step = body_->start();
    if (step == BodyStep::wait_for_continue) {
      co_await continue_or_final.wait_for(options_.settings.expect_continue);
      step = body_->continue_wait_ended();
    }
    if (step == BodyStep::write_body) {
      start_body_writer(executor, wait_for_100);
      step = body_->body_started();
    }
    if (step == BodyStep::wait_for_progress) {
      co_await progress_->wait_for(std::chrono::nanoseconds::zero());
      step = body_->progress();
    }
    if (step == BodyStep::wait_for_headers) {
      // (Awaited outside the condition: GCC 12 miscompiles co_await inside an if condition.)
      const bool in_time = co_await headers_done_->wait_for(options_.settings.response_header);
      step = body_->header_wait_ended(in_time);
    }
    if (step == BodyStep::stop_reader) co_await stop_reader();
    co_return body_->error();
  }

  // Writes the rest of the request (the body, and the headers unless they went first) beside
  // the reader. The writer may outlive send_while_reading, never run(): it only touches members.
  void start_body_writer(const asio::any_io_executor& executor, bool headers_sent) {
    body_sent_.emplace(executor);
    asio::co_spawn(
        executor,
        [this, headers_sent]() -> asio::awaitable<void> {
          // As Go's WroteHeaders: once the headers are handed over, before they are flushed, so
          // a server never sees a byte before the trace says the headers went.
          if (!headers_sent) tracer_.emit(TracePoint::wrote_headers);
          const auto idle = options_.settings.request_write_idle;
          std::tuple<error_code, std::size_t> result;
          if (idle > std::chrono::nanoseconds::zero()) {
            result = co_await write_rest_within(stream_, serializer(), idle);
          } else {
            result = co_await http::async_write(stream_, serializer(),
                                                asio::as_tuple(asio::use_awaitable));
          }
          auto [ec, written] = result;
          if (!ec && source_) {
            std::size_t from_source = 0;
            std::tie(ec, from_source) = co_await write_source();
            written += from_source;
          }
          if (!headers_sent) outcome_.wrote_anything = written > 0;
          // The moment the write ends; response_header is armed after it, never looking early.
          if (!ec) tracer_.emit(TracePoint::wrote_request);
          // Told here rather than from the completion handler, which runs later: a response
          // read in between would be taken for an early answer and cost the connection its reuse.
          body_->body_done(ec);
          body_sent_->notify();
          progress_->notify();
        },
        [this](std::exception_ptr failure) {
          if (!failure) return;
          body_->body_done(asio::error::no_memory);
          body_sent_->notify();
          progress_->notify();
        });
  }

  // Closing the connection ends the reader's pending read; it is awaited so that the references
  // it holds stay valid until it is gone.
  asio::awaitable<void> stop_reader() {
    connection_.close();
    co_await headers_done_->wait_for(std::chrono::nanoseconds::zero());
  }

  // An early response is complete (or failed) while the body writer still runs: closing the
  // connection ends the write, and the writer is awaited so that nothing outlives the exchange.
  asio::awaitable<void> stop_body_writer() {
    if (body_sent_ && !body_sent_->notified()) {
      connection_.close();
      co_await body_sent_->wait_for(std::chrono::nanoseconds::zero());
    }
  }

  http::request_serializer<http::string_body>& serializer() {
    if (!serializer_) serializer_.emplace(request_);
    return *serializer_;
  }

  bool has_body() const { return !request_.body().empty() || (source_ && source_->size > 0); }
  bool body_skipped() const { return body_ && body_->body_skipped(); }
  bool answered_early() const { return body_ && body_->answered_early(); }

  // The body from the BodySource, a piece at a time, each write under request_write_idle.
  asio::awaitable<std::tuple<error_code, std::size_t>> write_source() {
    std::vector<char> piece(source_piece);
    std::uint64_t left = source_->size;
    std::size_t written = 0;
    const auto idle = options_.settings.request_write_idle;
    while (left > 0) {
      error_code ec;
      outcome_.source_read = true;
      const std::size_t n = source_->read(
          asio::buffer(piece.data(),
                       static_cast<std::size_t>(std::min<std::uint64_t>(piece.size(), left))),
          ec);
      if (ec) co_return std::tuple{ec, written};
      // Shorter than its Content-Length (Go: "http: ContentLength=N with Body length M").
      if (n == 0) co_return std::tuple{error_code{errc::invalid_request}, written};
      const auto [write_error, sent] =
          co_await write_all_within(stream_, asio::buffer(piece.data(), n), idle);
      written += sent;
      if (write_error) co_return std::tuple{write_error, written};
      left -= n;
    }
    co_return std::tuple{error_code{}, written};
  }

  asio::awaitable<error_code> read_body() {
    // Armed after got_response_headers was recorded: never early.
    BodyPace pace(options_.settings, std::chrono::steady_clock::now());
    const auto step =
        co_await next_event(stream_, connection_.buffer, reader_, pace.enabled() ? &pace : nullptr);
    if (step.event != ResponseReader::Event::complete) {
      co_return step.error ? step.error : make_error_code(errc::malformed_response);
    }
    ReuseFacts facts;
    facts.response_keep_alive = reader_.keep_alive();
    facts.request_keep_alive = request_.keep_alive();
    facts.body_skipped = body_skipped();
    facts.answered_early = answered_early();
    facts.bytes_left_over = connection_.has_unread();
    facts.status = reader_.status();
    outcome_.reusable = is_reusable(facts);
    outcome_.response = reader_.release();
    co_return error_code{};
  }

  Stream& stream_;
  Connection& connection_;
  Request& request_;
  const ClientOptions& options_;
  Tracer& tracer_;
  // Beast's serializer, for a request with a body only (one without is format_bodiless_request's).
  std::optional<http::request_serializer<http::string_body>> serializer_;
  Reader& reader_;
  BodySource* source_;  ///< the body, when it is not in the request
  ExchangeOutcome outcome_;
  // Between the reader, the body writer and send_while_reading (all on one strand).
  std::optional<BodyExchange> body_;  ///< a request with a body: its decisions
  std::optional<Signal> headers_done_;
  std::optional<Signal> body_sent_;
  std::optional<Signal> progress_;  // the first of headers_done_ and body_sent_
  error_code read_error_;
};

}  // namespace

asio::awaitable<ExchangeOutcome> run_exchange(Connection& connection, Request& request,
                                              const ClientOptions& options, Tracer& tracer,
                                              BodySource* source) {
  ResponseReader reader(options.header_limit, options.body_limit,
                        request.method() == http::verb::head);
  if (connection.tls) {
    Exchange exchange(*connection.tls, connection, request, options, tracer, reader, source);
    co_return co_await exchange.run();
  }
  Exchange exchange(connection.socket, connection, request, options, tracer, reader, source);
  co_return co_await exchange.run();
}

asio::awaitable<ExchangeOutcome> run_exchange_to_headers(Connection& connection, Request& request,
                                                         const ClientOptions& options,
                                                         Tracer& tracer,
                                                         StreamingResponseReader& reader,
                                                         BodySource* source) {
  if (connection.tls) {
    Exchange exchange(*connection.tls, connection, request, options, tracer, reader, source);
    co_return co_await exchange.run();
  }
  Exchange exchange(connection.socket, connection, request, options, tracer, reader, source);
  co_return co_await exchange.run();
}

}  // namespace tunedhttp::detail
