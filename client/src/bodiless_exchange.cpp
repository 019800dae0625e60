#include "bodiless_exchange.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/read_size.hpp>
#include <boost/beast/http/error.hpp>
#include <string>

#include "exchange_rules.hpp"
#include "read_response.hpp"

namespace tunedhttp::detail {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using boost::system::error_code;

BodilessExchange::BodilessExchange(Request&& request, const ClientOptions& options, Tracer tracer,
                                   std::optional<WireForm> wire,
                                   std::optional<asio::any_io_executor> strand)
    : request_(std::move(request)),
      wire_(wire),
      strand_(std::move(strand)),
      options_(options),
      tracer_(std::move(tracer)),
      reader_(options.header_limit, options.body_limit, request_.method() == http::verb::head) {}

template <class Initiate, class Handler>
void BodilessExchange::launch(Initiate initiate, Handler handler) {
  // On a serial executor the socket's own runs the handler: binding it to that executor again
  // would only add a type-erased dispatch to every completion.
  if (strand_) return initiate(asio::bind_executor(*strand_, std::move(handler)));
  initiate(std::move(handler));
}

asio::any_io_executor BodilessExchange::executor() const {
  return strand_ ? *strand_ : asio::any_io_executor(connection_->socket.get_executor());
}

void BodilessExchange::start(std::shared_ptr<Connection> connection) {
  connection_ = std::move(connection);
  starting_ = true;
  // The whole request from one buffer, written in place: the socket is non-blocking (dialer),
  // and only what it cannot take now goes through the event loop.
  if (wire_) {
    format_bodiless_request(request_, *wire_, connection_->head);
  } else {
    format_bodiless_request(request_, connection_->head);
  }
  error_code ec;
  const auto head = asio::buffer(connection_->head);
  const std::size_t written = connection_->tls ? connection_->tls->write_some(head, ec)
                                               : connection_->socket.write_some(head, ec);
  if (ec == asio::error::would_block || ec == asio::error::try_again) ec = {};
  outcome_.wrote_anything = written > 0;
  if (ec) {
    fail(ec);
  } else {
    write_rest(written);
  }
  starting_ = false;
}

// What the socket did not take at once, each write under request_write_idle, as
// write_all_within does (exchange.cpp). Over TLS this includes records still pending after
// all of the head was encrypted (an empty write sends them).
void BodilessExchange::write_rest(std::size_t written) {
  const auto rest = asio::buffer(connection_->head) + written;
  const bool pending = connection_->tls && connection_->tls->output_pending();
  if (rest.size() == 0 && !pending) return on_written();
  arm(Limit::request_write_idle, options_.settings.request_write_idle);
  auto on_write = [self = shared_from_this(), written](const error_code& ec, std::size_t n) {
    self->disarm();
    self->outcome_.wrote_anything = self->outcome_.wrote_anything || n > 0;
    if (ec || self->expired_ != Limit::none) return self->fail(self->io_error(ec, false));
    self->write_rest(written + n);
  };
  launch(
      [this, rest](auto handler) {
        if (connection_->tls) return connection_->tls->async_write_some(rest, std::move(handler));
        connection_->socket.async_write_some(rest, std::move(handler));
      },
      std::move(on_write));
}

void BodilessExchange::on_written() {
  tracer_.emit(TracePoint::wrote_headers);
  tracer_.emit(TracePoint::wrote_request);
  // Armed after wrote_request was recorded: never early.
  arm(Limit::response_header, options_.settings.response_header);
  read_first();
}

// A reused connection already has this read in flight since it went idle: adopted, not
// cancelled (idle_read.hpp says why).
void BodilessExchange::read_first() {
  auto& buffer = connection_->buffer;
  if (buffer.size() != 0) return on_first_read({}, 0);
  // From the read's handler, with no type-erased handler between (adopted() hops onto the
  // request's strand when there is one).
  if (connection_->idle_read.adopt_directly(
          std::shared_ptr<IdleReadAdopter>(shared_from_this(), this))) {
    return;
  }
  read_some(buffer.prepare(connection_->tls ? TlsStream::first_read_size : first_read_size),
            &BodilessExchange::on_first_read);
}

void BodilessExchange::adopted(const IdleReadResult& read) {
  // From the read's handler, on the socket's executor: onto the strand first, if there is one.
  if (!strand_) return on_adopted(read);
  asio::dispatch(*strand_, [self = shared_from_this(), read] { self->on_adopted(read); });
}

void BodilessExchange::on_adopted(const IdleReadResult& read) {
  if (!connection_->tls) return on_first_read(read.error, read.bytes);
  // The adopted read is of ciphertext. It may hold only session tickets, or a close_notify:
  // the first response byte is the first decrypted one.
  if (read.error || expired_ != Limit::none) return fail(io_error(read.error, true));
  connection_->tls->commit_raw(read.bytes);
  read_some(connection_->buffer.prepare(TlsStream::first_read_size),
            &BodilessExchange::on_first_read);
}

void BodilessExchange::read_some(asio::mutable_buffer into, ReadDone then) {
  auto on_read = [self = shared_from_this(), then](const error_code& ec, std::size_t n) {
    ((*self).*then)(ec, n);
  };
  if (connection_->tls) {
    // What TLS can decrypt from bytes it already has comes without the event loop.
    error_code ec;
    const std::size_t n = connection_->tls->read_buffered(into, ec);
    if (ec != asio::error::would_block) return (this->*then)(ec, n);
  }
  launch(
      [this, into](auto handler) {
        if (connection_->tls) return connection_->tls->async_read_some(into, std::move(handler));
        connection_->socket.async_read_some(into, std::move(handler));
      },
      std::move(on_read));
}

void BodilessExchange::on_first_read(const error_code& ec, std::size_t n) {
  if (ec || expired_ != Limit::none) return fail(io_error(ec, true));
  connection_->buffer.commit(n);
  outcome_.got_response_bytes = true;
  tracer_.emit(TracePoint::got_first_response_byte);
  parse();
}

// Feeds what is buffered to the parser until it needs more bytes or the response ends, as
// next_event does (read_response.hpp); the events before the final headers as
// read_final_headers does.
void BodilessExchange::parse() {
  auto& buffer = connection_->buffer;
  for (;;) {
    const auto step = reader_.feed(buffer.data());
    buffer.consume(step.consumed);
    trace_response_event(tracer_, step);
    switch (step.event) {
      case ResponseEvent::need_more: {
        const auto size = boost::beast::read_size(buffer, 65536);
        if (size == 0) return fail(translate_read_error(http::error::buffer_overflow));
        return read_some(buffer.prepare(size), &BodilessExchange::on_read);
      }
      case ResponseEvent::continue_100:
      case ResponseEvent::informational:
        break;
      case ResponseEvent::final_headers:
        disarm();  // response_header covers the headers only
        break;
      case ResponseEvent::complete:
        if (reader_.status() != 0) return complete_response();
        return fail(make_error_code(errc::malformed_response));
      default:  // failed (a whole-body reader has no body_data)
        return fail(step.error ? step.error : make_error_code(errc::malformed_response));
    }
  }
}

void BodilessExchange::on_read(const error_code& ec, std::size_t n) {
  connection_->buffer.commit(n);
  if (expired_ != Limit::none) return fail(io_error(ec, true));
  if (ec == asio::error::eof) {
    // The end of a close-delimited body, or a response cut short.
    const auto step = reader_.feed_eof();
    if (step.event == ResponseEvent::complete && reader_.status() != 0) return complete_response();
    return fail(step.error ? step.error : make_error_code(errc::malformed_response));
  }
  if (ec) return fail(translate_read_error(ec));
  parse();
}

void BodilessExchange::complete_response() {
  ReuseFacts facts;
  facts.response_keep_alive = reader_.keep_alive();
  facts.request_keep_alive = request_.keep_alive();
  facts.bytes_left_over = connection_->has_unread();
  facts.status = reader_.status();
  outcome_.reusable = is_reusable(facts);
  finish();  // the response stays in the parser until finished() releases it (release_response)
}

void BodilessExchange::fail(error_code ec) {
  outcome_.error = ec;
  finish();
}

void BodilessExchange::finish() {
  disarm();
  tracer_.emit(TracePoint::response_done, outcome_.error);
  // An initiating function never completes inside itself.
  if (starting_) {
    asio::post(executor(), [self = shared_from_this()] { self->finished(); });
    return;
  }
  finished();
}

void BodilessExchange::arm(Limit limit, std::chrono::nanoseconds duration) {
  if (duration <= std::chrono::nanoseconds::zero()) return;
  if (!timer_) timer_ = std::make_unique<asio::steady_timer>(connection_->socket.get_executor());
  limit_ = limit;
  timer_->expires_after(duration);
  auto on_fired = [self = shared_from_this(), arming = ++arming_](const error_code& ec) {
    if (ec || arming != self->arming_ || self->limit_ == Limit::none) return;
    // Closing ends the read or write in flight; its handler reports the limit's error.
    self->expired_ = self->limit_;
    self->connection_->close();
  };
  launch([this](auto handler) { timer_->async_wait(std::move(handler)); }, std::move(on_fired));
}

void BodilessExchange::disarm() {
  if (limit_ == Limit::none) return;
  limit_ = Limit::none;
  ++arming_;
  timer_->cancel();
}

error_code BodilessExchange::io_error(const error_code& ec, bool reading) const {
  switch (expired_) {
    case Limit::request_write_idle:
      return errc::request_write_idle_timeout;
    case Limit::response_header:
      return errc::response_header_timeout;
    case Limit::none:
      break;
  }
  // A write's error is the socket's own; a read's is the client's (translate_read_error).
  return reading ? translate_read_error(ec) : ec;
}

}  // namespace tunedhttp::detail
