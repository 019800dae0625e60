#include "body_stream.hpp"

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <cstring>
#include <tunedhttp/body_reader.hpp>

#include "read_response.hpp"

namespace tunedhttp {
namespace detail {

namespace asio = boost::asio;
using boost::system::error_code;

void give_back(IdleConnPool& pool, const std::shared_ptr<Connection>& connection, bool reusable,
               Tracer& tracer) {
  // Stamped before the idle timer is armed, so idle_conn is never measured short; only when
  // someone listens (a clock read costs about 25 ns on a VM).
  const auto put_at =
      tracer.enabled() ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
  std::optional<CloseReason> refused = CloseReason::not_reusable;
  if (reusable) {
    connection->ready_for_idle();
    refused = pool.put(connection);
  } else {
    connection->close();
    pool.count_close(CloseReason::not_reusable);
  }
  if (tracer.enabled()) {
    TraceEvent put;
    put.point = TracePoint::put_idle_conn;
    put.at = put_at;
    put.detail = refused ? close_reason_name(*refused) : "";
    tracer.emit(put);
  }
}

asio::awaitable<std::tuple<error_code, std::size_t>> BodyStream::read_some(
    asio::mutable_buffer buffer) {
  for (;;) {
    if (piece_used < piece.size()) {
      const std::size_t n = std::min(buffer.size(), piece.size() - piece_used);
      std::memcpy(buffer.data(), piece.data() + piece_used, n);
      piece_used += n;
      bytes_read += n;
      co_return std::tuple{error_code{}, n};
    }
    if (finished) co_return std::tuple{error_code{asio::error::eof}, std::size_t{0}};
    if (failure) co_return std::tuple{failure, std::size_t{0}};
    if (buffer.size() == 0) co_return std::tuple{error_code{}, std::size_t{0}};
    // Held here: close() may drop the stream's reference while this read is pending.
    const auto held = connection;
    ResponseStep step;
    // (Not a conditional expression: GCC 12 miscompiles co_await inside ?:.)
    BodyPace* const timers = pace && pace->enabled() ? &*pace : nullptr;
    if (held->tls) {
      step = co_await next_event(*held->tls, held->buffer, *reader, timers);
    } else {
      step = co_await next_event(held->socket, held->buffer, *reader, timers);
    }
    if (failure) co_return std::tuple{failure, std::size_t{0}};  // closed meanwhile
    piece_used = 0;
    switch (step.event) {
      case ResponseEvent::body_data:
        reader->take_body(piece);
        break;
      case ResponseEvent::complete:
        reader->take_body(piece);
        finish();
        break;
      default:
        fail(step.error ? step.error : make_error_code(errc::malformed_response));
        co_return std::tuple{failure, std::size_t{0}};
    }
  }
}

void BodyStream::finish() {
  finished = true;
  facts.response_keep_alive = reader->keep_alive();
  facts.bytes_left_over = connection->has_unread();
  facts.status = reader->status();
  tracer->emit(TracePoint::response_done);
  give_back(*pool, connection, is_reusable(facts), *tracer);
  connection.reset();
}

void BodyStream::fail(error_code error) {
  failure = error;
  if (!connection) return;
  connection->close();
  pool->count_close(CloseReason::error);
  tracer->emit(TracePoint::response_done, error);
  connection.reset();
}

void BodyStream::close() {
  if (finished || failure) return;
  // Go's bodyEOFSignal: a body closed before its end leaves the connection out of sync.
  failure = asio::error::operation_aborted;
  if (!connection) return;
  connection->close();
  tracer->emit(TracePoint::response_done, failure);
  give_back(*pool, connection, false, *tracer);
  connection.reset();
}

}  // namespace detail

BodyReader::BodyReader(std::shared_ptr<detail::BodyStream> stream) : stream_(std::move(stream)) {}

BodyReader::~BodyReader() { close(); }

BodyReader& BodyReader::operator=(BodyReader&& other) noexcept {
  if (this != &other) {
    close();
    stream_ = std::move(other.stream_);
  }
  return *this;
}

void BodyReader::close() {
  if (!stream_) return;
  auto stream = std::move(stream_);
  boost::asio::dispatch(stream->strand, [stream] { stream->close(); });
}

bool BodyReader::done() const { return !stream_ || stream_->finished; }

std::uint64_t BodyReader::bytes_read() const { return stream_ ? stream_->bytes_read : 0; }

void BodyReader::start_read(
    boost::asio::mutable_buffer buffer,
    boost::asio::any_completion_handler<void(boost::system::error_code, std::size_t)> handler) {
  namespace asio = boost::asio;
  if (!stream_) {
    // A closed or empty reader: nothing to read, said on the handler's own executor.
    // (Never inside this call: an initiating function does not complete inline.)
    auto executor =
        asio::prefer(asio::get_associated_executor(handler), asio::execution::blocking.never);
    executor.execute([handler = std::move(handler)]() mutable {
      std::move(handler)(boost::system::error_code{asio::error::operation_aborted}, 0);
    });
    return;
  }
  auto executor = asio::get_associated_executor(handler, stream_->strand);
  auto stream = stream_;
  // Any cancellation type ends the read for good: the body is closed early, as close() does
  // (so `read || timer` works as a deadline).
  auto slot = asio::get_associated_cancellation_slot(handler);
  if (slot.is_connected()) {
    slot.assign([stream](asio::cancellation_type type) {
      if (type == asio::cancellation_type::none) return;
      asio::post(stream->strand, [stream] { stream->close(); });
    });
  }
  asio::co_spawn(stream->strand, stream->read_some(buffer),
                 [stream, executor, handler = std::move(handler)](
                     std::exception_ptr failure,
                     std::tuple<boost::system::error_code, std::size_t> result) mutable {
                   auto [ec, n] = result;
                   if (failure) ec = asio::error::no_memory;
                   asio::dispatch(
                       executor, [handler = std::move(handler), ec = ec, n = n]() mutable {
                         // The slot is the caller's; it is released before the handler runs.
                         auto caller_slot = asio::get_associated_cancellation_slot(handler);
                         if (caller_slot.is_connected()) caller_slot.clear();
                         std::move(handler)(ec, n);
                       });
                 });
}

}  // namespace tunedhttp
