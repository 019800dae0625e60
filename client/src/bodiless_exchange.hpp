#pragma once
// One request without a body on a connection, plain or TLS, as one composed operation: the lean
// path of async_request for its commonest call, a GET, HEAD or DELETE on a pooled connection.
//
// It takes the same steps, in the same order and with the same trace points, as Exchange's
// send_then_read_headers and read_body (exchange.cpp), without a chain of coroutines: the head is
// written in place, the idle read is adopted as the response's first read, and the parser
// (ResponseReader) is fed until the response is complete. Its own state is one object per
// request, and its timer exists only while response_header or request_write_idle is set.
//
// Its handlers (the socket's, the timer's) must never run at once. On a serial executor they
// run on the socket's own; on any other, each is bound to a strand of the request's own, and the
// idle read's result hops onto it. A body timer (body_read_idle, low_speed) is not its job;
// Client sends such requests through the coroutines.

#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <tunedhttp/client.hpp>

#include "connection.hpp"
#include "exchange.hpp"
#include "request_head.hpp"
#include "response_reader.hpp"
#include "tracer.hpp"

namespace tunedhttp::detail {

/// Writes a request without a body and reads its whole response, then calls finished() once with
/// outcome() filled in, as run_exchange would return it. Never calls finished() from start().
class BodilessExchange : public std::enable_shared_from_this<BodilessExchange>,
                         private IdleReadAdopter {
 public:
  /// `request`: body empty, no BodySource; target already in origin (or absolute) form, or
  /// else `wire` says what to send instead (request_head.hpp), and must outlive the operation.
  /// `options` must outlive the operation too (the Client's do). `strand`: the request's own,
  /// when the socket's executor is not serial; start() must then run on it.
  BodilessExchange(Request&& request, const ClientOptions& options, Tracer tracer,
                   std::optional<WireForm> wire,
                   std::optional<boost::asio::any_io_executor> strand = std::nullopt);
  virtual ~BodilessExchange() = default;
  BodilessExchange(const BodilessExchange&) = delete;
  BodilessExchange& operator=(const BodilessExchange&) = delete;

  /// Starts the exchange on `connection`, plain or TLS.
  void start(std::shared_ptr<Connection> connection);

 protected:
  /// The exchange ended: the outcome is in outcome(). Called from a handler, once.
  virtual void finished() = 0;

  /// The attempt's outcome, but its response: see release_response(). (An ExchangeOutcome's
  /// empty response would cost every request its construction and destruction.)
  ExchangeFacts& outcome() { return outcome_; }
  /// The response, from finished() when the outcome has no error: moved out of the parser once,
  /// straight to the caller's handler, rather than through the outcome (each move of a
  /// Response moves its fields' tree and list, about a hundred instructions with its destructor).
  Response release_response() { return reader_.release(); }
  /// Where our handlers run: the request's strand, or the socket's executor. After start().
  boost::asio::any_io_executor executor() const;
  Request& request() { return request_; }
  Tracer& tracer() { return tracer_; }
  const std::shared_ptr<Connection>& connection() const { return connection_; }

 private:
  // Which limit the timer is running for, and so the error when it fires first.
  enum class Limit { none, request_write_idle, response_header };

  void write_rest(std::size_t written);
  void on_written();
  void read_first();
  void adopted(const IdleReadResult& read) override;
  void on_adopted(const IdleReadResult& read);
  // Starts an operation with `handler`, bound to the strand if there is one: `initiate(handler)`.
  template <class Initiate, class Handler>
  void launch(Initiate initiate, Handler handler);

  // What a read's result goes to.
  using ReadDone = void (BodilessExchange::*)(const boost::system::error_code&, std::size_t);
  // One read of the response into `into`, then `then`: at once when TLS has it decrypted
  // already, else from the read's handler.
  void read_some(boost::asio::mutable_buffer into, ReadDone then);
  void on_first_read(const boost::system::error_code& ec, std::size_t n);
  void parse();
  void on_read(const boost::system::error_code& ec, std::size_t n);
  void complete_response();
  void fail(boost::system::error_code ec);
  void finish();
  void arm(Limit limit, std::chrono::nanoseconds duration);
  void disarm();
  // The error a read (`reading`) or a write failed with: the limit's own when its timer closed
  // the connection.
  boost::system::error_code io_error(const boost::system::error_code& ec, bool reading) const;

  Request request_;
  const std::optional<WireForm> wire_;
  const std::optional<boost::asio::any_io_executor> strand_;
  const ClientOptions& options_;
  Tracer tracer_;
  ResponseReader reader_;
  std::shared_ptr<Connection> connection_;
  ExchangeFacts outcome_;
  // On the heap, made the first time a limit is armed: most requests set none, and inline it
  // would take the lean request past glibc's per-thread cache (LeanRequest in client.cpp).
  std::unique_ptr<boost::asio::steady_timer> timer_;
  Limit limit_ = Limit::none;    ///< the limit the timer runs for
  Limit expired_ = Limit::none;  ///< the limit whose timer fired and closed the connection
  std::uint64_t arming_ = 0;     ///< counts armings: a fired handler of an older one is stale
  bool starting_ = false;        ///< inside start(): finishing must wait for a handler
  bool done_ = false;
};

}  // namespace tunedhttp::detail
