#include <atomic>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/detail/scheduler.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/string.hpp>
#include <mutex>
#include <string_view>
#include <tunedhttp/client.hpp>
#include <tunedhttp/http_syntax.hpp>
#include <tunedhttp/serial_executor.hpp>
#include <tuple>

#include "bodiless_exchange.hpp"
#include "body_stream.hpp"
#include "dialer.hpp"
#include "exchange.hpp"
#include "exchange_rules.hpp"
#include "idle_conn_pool.hpp"
#include "proxy_route.hpp"
#include "tls_context.hpp"
#include "url.hpp"

namespace tunedhttp {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using boost::system::error_code;

namespace {

// Go's isReplayable: a body that cannot be started again (no GetBody) is never replayed. The
// idempotency headers are looked up only for a method that needs them.
bool replayable(const Request& request, const BodySource* source) {
  if (source != nullptr && !source->rewind) return false;
  return detail::is_replayable(request.method(), false) ||
         detail::is_replayable(request.method(),
                               request.find("Idempotency-Key") != request.end() ||
                                   request.find("X-Idempotency-Key") != request.end());
}

// What the client calls itself in User-Agent (Go: "Go-http-client/1.1").
constexpr std::string_view user_agent = "tunedhttp/0.1";

// The facts of a failed attempt, for Go's retry rule (exchange_rules.hpp).
detail::AttemptFacts attempt_facts(const detail::Connection& connection,
                                   const detail::ExchangeFacts& outcome, bool replayable) {
  detail::AttemptFacts facts;
  facts.reused = connection.reused;
  facts.got_response_bytes = outcome.got_response_bytes;
  facts.timed_out = outcome.error == boost::system::errc::timed_out;
  facts.wrote_anything = outcome.wrote_anything;
  facts.replayable = replayable;
  return facts;
}

// got_conn for `connection`, taken from the pool after `idle_time` idle or just dialed.
void emit_got_conn(detail::Tracer& tracer, detail::Connection& connection,
                   std::chrono::nanoseconds idle_time) {
  tracer.set_connection(connection.id);
  if (!tracer.enabled()) return;
  TraceEvent got;
  got.point = TracePoint::got_conn;
  got.at = std::chrono::steady_clock::now();
  got.reused = connection.reused;
  got.idle_time = idle_time;
  got.socket = connection.socket.native_handle();
  tracer.emit(got);
}

// What a caller's cancellation must reach, confined to the request's strand. Closing the
// socket ends every pending operation on it (the expect-continue reader included), so the
// exchange unwinds the way it does for any network error.
struct RequestCancellation {
  void cancel() {
    cancelled = true;
    if (connection) connection->close();
    if (waiter) pool->cancel_waiter(waiter);
  }
  std::shared_ptr<detail::IdleConnPool> pool;
  bool cancelled = false;
  std::shared_ptr<detail::Connection> connection;  ///< the one the exchange is using
  std::shared_ptr<detail::ConnWaiter> waiter;      ///< while waiting for a connection
};

// The TLS context, or the reason it cannot be made (kept, never thrown: see Client's constructor).
std::unique_ptr<asio::ssl::context> make_tls_context_or_error(const TlsOptions& options,
                                                              error_code& setup_error) {
  try {
    return detail::make_tls_context(options);
  } catch (const boost::system::system_error& e) {
    setup_error = e.code();
    return nullptr;
  }
}

}  // namespace

static ClientOptions options_with(const Settings& settings) {
  ClientOptions options;
  options.settings = settings;
  return options;
}

namespace {

// request_problem() for a request whose target is already known to parse: its method and
// fields. Kept apart so that a request's own path parses its URL once.
std::string method_and_field_problem(const Request& request) {
  if (auto problem = method_problem(request.method_string()); !problem.empty()) return problem;
  // RFC 9110 §9.3.8: a TRACE request has no content (Beast cannot frame one).
  if (request.method() == http::verb::trace &&
      (!request.body().empty() || request.has_content_length() || request.chunked())) {
    return "net/http: a TRACE request cannot have a body";
  }
  for (const auto& field : request) {
    if (auto problem = field_problem(field.name_string(), field.value()); !problem.empty()) {
      return problem;
    }
  }
  return {};
}

}  // namespace

std::string request_problem(const Request& request) {
  // (parse_url refuses a target with a space or control character too.)
  error_code ec;
  detail::parse_url(request.target(), ec);
  if (ec) return "net/http: invalid request URL " + quote(request.target()) + ": " + ec.message();
  return method_and_field_problem(request);
}

std::string proxy_problem(const ProxyOptions& options) {
  return detail::ProxySelector(options).problem();
}

struct Client::State : std::enable_shared_from_this<Client::State> {
  State(asio::any_io_executor executor_in, ClientOptions options_in)
      : executor(std::move(executor_in)),
        completion_executor(executor),
        options(std::move(options_in)),
        serial(is_serial(executor)),
        tls_context(make_tls_context_or_error(options.tls, setup_error)),
        pool(std::make_shared<detail::IdleConnPool>(options.settings, options.trace)),
        proxies(options.proxy) {}

  struct LeanRequest;

  /// `target` resolved (detail::resolve), or null with `ec` for a bad URL. The last target
  /// resolved is remembered: a client sends to the same URL again and again, and parsing it,
  /// choosing its route and formatting its key and Host cost a reused request about 2,500 of
  /// its 18,000 instructions (callgrind).
  std::shared_ptr<const detail::Destination> destination_of(std::string_view target,
                                                            error_code& ec) const;
  /// Fails as async_request says, for a request whose URL parsed: a field, TLS, the proxy.
  error_code check_request(const Request& request, const detail::Destination& destination) const;
  /// Rewrites a checked `request` for the wire: the target in origin form (absolute form to a
  /// proxy, with its credentials), Host, User-Agent, and the body's framing.
  static void rewrite_request(Request& request, const detail::Destination& destination,
                              const BodySource* source);
  /// check_request() and rewrite_request() after the URL's own check; sets `destination`.
  error_code prepare_request(Request& request, const BodySource* source,
                             std::shared_ptr<const detail::Destination>& destination) const;
  /// Whether async_request may take its lean path (LeanRequest): a request without a body,
  /// without body timers.
  bool lean_path_fits(const Request& request, const BodySource* source) const {
    return !source && request.body().empty() &&
           options.settings.body_read_idle <= std::chrono::nanoseconds::zero() &&
           !options.settings.low_speed.enabled();
  }
  /// With `stream`, the exchange stops at the final headers and the body is left in `stream`
  /// (its connection, reader and tracer) for a BodyReader; the Response returned is empty.
  asio::awaitable<std::tuple<error_code, Response>> run(
      Request request, std::shared_ptr<BodySource> source, TraceHook hook,
      std::shared_ptr<RequestCancellation> cancellation, detail::BodyStream* stream);
  /// run() after prepare_request(): attempts from `first_attempt` on (0: a pooled connection or
  /// a dial; 1: the one retry, on a new connection).
  asio::awaitable<std::tuple<error_code, Response>> attempts(
      Request request, std::shared_ptr<BodySource> source, detail::Tracer tracer,
      std::shared_ptr<RequestCancellation> cancellation, detail::BodyStream* stream,
      std::shared_ptr<const detail::Destination> destination, int first_attempt);
  /// After attempt `attempt` failed on `connection` (already closed): whether Go's rules send
  /// the request again, on a new connection (counted as a retry).
  bool sends_again(const detail::Connection& connection, const detail::ExchangeFacts& outcome,
                   bool replayable_request, BodySource* source, int attempt);
  /// `probe`: peek at an idle connection before handing it out (IdleConnPool::take).
  asio::awaitable<detail::DialResult> get_conn(
      std::shared_ptr<const detail::Destination> destination, detail::Tracer& tracer,
      std::chrono::nanoseconds& idle_time, RequestCancellation& cancellation, bool probe);
  asio::awaitable<detail::DialResult> dial_for(const detail::Route& route, detail::Tracer& tracer);

  /// With `into` (BlockingClient's), makes `handler` one that ends the request there: the lean
  /// request writes a response to it directly, and every other path needs a handler.
  static void end_in(Delivery* into,
                     asio::any_completion_handler<void(error_code, Response)>& handler) {
    if (!into) return;
    asio::any_completion_handler<void(error_code, Response)> made =
        [into](error_code ec, Response response) { into->end(ec, std::move(response)); };
    // (Swapped in: Boost 1.81's move assignment of any_completion_handler recurses forever.)
    handler.swap(made);
  }

  // Each request's coroutines run one at a time: on the caller's executor when it is serial,
  // else on a strand of their own. Any cancellation type ends the request for good
  // (terminal): the connection is closed.
  // Without a handler (a Delivery), there is no cancellation slot to connect.
  template <class Handler>
  std::pair<asio::any_io_executor, std::shared_ptr<RequestCancellation>> prepare(
      const Handler& handler, bool has_handler = true) {
    const asio::any_io_executor strand =
        serial ? executor : asio::any_io_executor(asio::make_strand(executor));
    std::shared_ptr<RequestCancellation> cancellation;
    if (!has_handler) return {strand, nullptr};
    auto slot = asio::get_associated_cancellation_slot(handler);
    if (slot.is_connected()) {
      cancellation = std::make_shared<RequestCancellation>();
      cancellation->pool = pool;
      slot.assign([strand, cancellation](asio::cancellation_type type) {
        if (type == asio::cancellation_type::none) return;
        asio::post(strand, [cancellation] { cancellation->cancel(); });
      });
    }
    return {strand, std::move(cancellation)};
  }

  asio::any_io_executor executor;
  /// `executor` as a completion handler's executor is compared with it (complete()), made once.
  const asio::any_completion_executor completion_executor;
  ClientOptions options;
  error_code setup_error;  ///< why tls_context is null
  const bool serial;       ///< is_serial(executor)
  /// Requests are made on the only thread that runs the executor (start_requests_in_line).
  std::atomic<bool> in_line{false};
  std::unique_ptr<asio::ssl::context> tls_context;  ///< null when the TLS options are bad
  std::shared_ptr<detail::IdleConnPool> pool;
  const detail::ProxySelector proxies;
  mutable std::mutex destination_mutex;
  mutable std::string last_target;                                      ///< guarded
  mutable std::shared_ptr<const detail::Destination> last_destination;  ///< guarded
  std::atomic<std::uint64_t> next_request{1};
  std::atomic<std::uint64_t> next_connection{1};
};

// A new connection of our own, counted as a dial when it succeeds.
asio::awaitable<detail::DialResult> Client::State::dial_for(const detail::Route& route,
                                                            detail::Tracer& tracer) {
  auto dialed =
      co_await detail::dial(route, options, tls_context.get(), next_connection++, executor, tracer);
  if (!dialed.error) pool->count_dial();
  co_return dialed;
}

// Go's Transport.getConn: an idle connection if there is one; otherwise dial, and meanwhile
// take any connection another request puts back first. A dial that loses the race is not
// wasted: its connection goes to the pool (or to the next waiter).
asio::awaitable<detail::DialResult> Client::State::get_conn(
    std::shared_ptr<const detail::Destination> destination, detail::Tracer& tracer,
    std::chrono::nanoseconds& idle_time, RequestCancellation& cancellation, bool probe) {
  // The common case first, without the waiter's allocation and channel.
  const std::string& key = destination->key;
  if (auto idle = pool->take(key, idle_time, probe))
    co_return detail::DialResult{{}, std::move(idle)};
  auto strand = co_await asio::this_coro::executor;
  auto waiter = std::make_shared<detail::ConnWaiter>(strand, key);
  cancellation.waiter = waiter;
  if (auto idle = pool->take_or_wait(waiter, idle_time, probe)) {
    co_return detail::DialResult{{}, std::move(idle)};
  }
  // The dial runs on its own: it may outlive this request when a put satisfies us first.
  asio::co_spawn(
      strand,
      [state = shared_from_this(), destination, waiter,
       dial_tracer = tracer]() mutable -> asio::awaitable<void> {
        auto dialed = co_await state->dial_for(destination->route, dial_tracer);
        if (!state->pool->deliver_dial(waiter, dialed.error, dialed.connection) &&
            dialed.connection) {
          state->pool->put(dialed.connection);
        }
      },
      asio::detached);
  // A cancelled request stops waiting; its dial, as in Go, still finishes and feeds the pool.
  auto [error, connection] =
      co_await waiter->delivery.async_receive(asio::as_tuple(asio::use_awaitable));
  cancellation.waiter.reset();
  co_return detail::DialResult{error, std::move(connection)};
}

std::shared_ptr<const detail::Destination> Client::State::destination_of(std::string_view target,
                                                                         error_code& ec) const {
  {
    std::lock_guard lock(destination_mutex);
    if (last_destination && target == last_target) return last_destination;
  }
  auto resolved = detail::resolve(target, proxies, ec);
  if (!resolved) return nullptr;
  auto destination = std::make_shared<const detail::Destination>(std::move(*resolved));
  std::lock_guard lock(destination_mutex);
  last_target.assign(target);
  last_destination = destination;
  return destination;
}

error_code Client::State::check_request(const Request& request,
                                        const detail::Destination& destination) const {
  // Go's httpguts rules, before anything is dialled or written: no field can inject a line.
  if (!method_and_field_problem(request).empty()) return errc::invalid_request;
  if (destination.route.target.tls && !tls_context) return errc::invalid_tls_options;
  return destination.route_error;
}

void Client::State::rewrite_request(Request& request, const detail::Destination& destination,
                                    const BodySource* source) {
  request.target(destination.wire_target);
  const auto& proxy = destination.route.proxy;
  // Go sends the proxy's credentials with each request when it talks to it directly.
  if (destination.route.absolute_form() && !proxy->authorization.empty() &&
      request.find(http::field::proxy_authorization) == request.end()) {
    request.set(http::field::proxy_authorization, proxy->authorization);
  }
  if (request.find(http::field::host) == request.end()) {
    request.set(http::field::host, destination.host);
  }
  if (request.find(http::field::user_agent) == request.end()) {
    request.set(http::field::user_agent, user_agent);
  }
  if (source) {
    request.body().clear();  // the body is the source's
    request.content_length(source->size);
  } else if (!request.body().empty() && !request.has_content_length() && !request.chunked()) {
    request.prepare_payload();
  }
}

error_code Client::State::prepare_request(
    Request& request, const BodySource* source,
    std::shared_ptr<const detail::Destination>& destination) const {
  error_code ec;
  destination = destination_of(request.target(), ec);
  if (ec) return ec;
  if ((ec = check_request(request, *destination))) return ec;
  rewrite_request(request, *destination, source);
  return {};
}

asio::awaitable<std::tuple<error_code, Response>> Client::State::run(
    Request request, std::shared_ptr<BodySource> source, TraceHook hook,
    std::shared_ptr<RequestCancellation> cancellation, detail::BodyStream* stream) {
  detail::Tracer tracer(&options.trace, std::move(hook), next_request++);
  std::shared_ptr<const detail::Destination> destination;
  if (auto ec = prepare_request(request, source.get(), destination)) {
    co_return std::tuple{ec, Response{}};
  }
  co_return co_await attempts(std::move(request), std::move(source), std::move(tracer),
                              std::move(cancellation), stream, std::move(destination), 0);
}

asio::awaitable<std::tuple<error_code, Response>> Client::State::attempts(
    Request request, std::shared_ptr<BodySource> source, detail::Tracer tracer,
    std::shared_ptr<RequestCancellation> shared_cancellation, detail::BodyStream* stream,
    std::shared_ptr<const detail::Destination> destination, int first_attempt) {
  // A caller that cannot cancel shares nothing: the request's own frame holds its state.
  RequestCancellation own_cancellation;
  RequestCancellation* const cancellation =
      shared_cancellation ? shared_cancellation.get() : &own_cancellation;
  const auto aborted = std::tuple{error_code{asio::error::operation_aborted}, Response{}};
  // Decided once: neither the method, the headers nor the source change between attempts.
  const bool replayable_request = replayable(request, source.get());
  // A request Go would not send twice cannot be retried if the server closed the connection it
  // takes a moment ago (the idle read adopted would say so only after the request went): that
  // one connection is peeked at first. Any other request relies on the idle read and the retry.
  const bool probe_idle = !replayable_request;
  for (int attempt = first_attempt;; ++attempt) {
    tracer.set_connection(0);
    tracer.emit(TracePoint::get_conn, {}, tracer.enabled() ? destination->key : std::string{});
    std::chrono::nanoseconds idle_time{0};
    // A retry dials afresh: the connection that just failed shows the pool may hold more
    // connections the server has dropped.
    detail::DialResult obtained;
    // (Not a conditional expression: GCC 12 miscompiles co_await inside ?:.)
    if (attempt == 0) {
      obtained = co_await get_conn(destination, tracer, idle_time, *cancellation, probe_idle);
    } else {
      obtained = co_await dial_for(destination->route, tracer);
    }
    if (cancellation->cancelled) {
      if (obtained.connection) {
        obtained.connection->close();
        pool->count_close(CloseReason::error);
      }
      co_return aborted;
    }
    if (obtained.error) co_return std::tuple{obtained.error, Response{}};
    auto connection = std::move(obtained.connection);
    cancellation->connection = connection;
    emit_got_conn(tracer, *connection, idle_time);

    detail::ExchangeOutcome outcome;
    if (stream) {
      stream->reader.emplace(options.header_limit, options.body_limit,
                             request.method() == http::verb::head);
      outcome = co_await detail::run_exchange_to_headers(*connection, request, options, tracer,
                                                         *stream->reader, source.get());
    } else {
      outcome = co_await detail::run_exchange(*connection, request, options, tracer, source.get());
    }
    cancellation->connection.reset();
    if (!outcome.error && !cancellation->cancelled) {
      if (stream) {
        // The body is the caller's to read; the connection goes with it.
        stream->connection = std::move(connection);
        stream->facts.request_keep_alive = request.keep_alive();
        stream->facts.body_skipped = outcome.body_skipped;
        stream->facts.answered_early = outcome.answered_early;
        stream->tracer.emplace(std::move(tracer));
        // Armed after got_response_headers was recorded: never early.
        stream->pace.emplace(options.settings, std::chrono::steady_clock::now());
        co_return std::tuple{error_code{}, Response{}};
      }
      detail::give_back(*pool, connection, outcome.reusable, tracer);
      co_return std::tuple{error_code{}, std::move(outcome.response)};
    }
    connection->close();
    pool->count_close(CloseReason::error);
    if (cancellation->cancelled) co_return aborted;
    if (sends_again(*connection, outcome, replayable_request, source.get(), attempt)) continue;
    co_return std::tuple{outcome.error, Response{}};
  }
}

bool Client::State::sends_again(const detail::Connection& connection,
                                const detail::ExchangeFacts& outcome, bool replayable_request,
                                BodySource* source, int attempt) {
  if (attempt != 0 ||
      !detail::should_retry(attempt_facts(connection, outcome, replayable_request))) {
    return false;
  }
  // Go's rewindBody: a body already read starts again from its first byte, or the request is
  // not sent twice.
  if (outcome.source_read && !(source->rewind && source->rewind())) return false;
  pool->count_retry();
  return true;
}

Request make_request(http::verb method, const std::string& url, std::string body) {
  Request request{method, url, 11};
  request.body() = std::move(body);
  // (A TRACE with a body is left unframed: request_problem() refuses it, Beast would throw.)
  if (method == http::verb::trace) return request;
  if (!request.body().empty() || method == http::verb::post || method == http::verb::put ||
      method == http::verb::patch) {
    request.prepare_payload();
  }
  return request;
}

Client::Client(asio::any_io_executor executor, ClientOptions options)
    : state_(std::make_shared<State>(std::move(executor), std::move(options))) {}

Client::Client(asio::any_io_executor executor, ClientOptions options, error_code& ec)
    : Client(std::move(executor), std::move(options)) {
  ec = setup_error();
}

Client::Client(asio::any_io_executor executor, Settings settings)
    : Client(std::move(executor), options_with(settings)) {}

Client::~Client() { state_->pool->close_all(CloseReason::client_closed); }

PoolStats Client::pool_stats() const { return state_->pool->stats(); }

void Client::close_idle_connections() { state_->pool->close_all(CloseReason::client_closed); }

const Settings& Client::settings() const { return state_->options.settings; }

void Client::start_requests_in_line() { state_->in_line = true; }

void Client::Delivery::end(error_code result, Response&& received) {
  error = result;
  *response = std::move(received);
  done = true;
}

error_code Client::setup_error() const { return state_->setup_error; }

namespace {

// Hands `value` to `handler` on its associated executor (the request's strand by default),
// releasing the caller's cancellation slot first. Every caller runs on `strand`.
template <class Value>
void complete(asio::any_completion_handler<void(error_code, Value)> handler,
              const asio::any_completion_executor& strand, error_code ec, Value&& value) {
  auto call = [ec](auto& to_call, Value& result) {
    // The slot is the caller's; it is released before the handler runs.
    auto caller_slot = asio::get_associated_cancellation_slot(to_call);
    if (caller_slot.is_connected()) caller_slot.clear();
    std::move(to_call)(ec, std::move(result));
  };
  auto executor = asio::get_associated_executor(handler, strand);
  // The handler's executor is the one we are running on (the request's strand, by default):
  // dispatch would call it at once. Calling it here skips dispatch's type-erased function and
  // two moves of the response: with the executor compared made once per client, about 1,300 of
  // the 13,900 instructions a reused request took (callgrind).
  if (executor == strand) return call(handler, value);
  asio::dispatch(executor, [call, pending = std::move(handler),
                            result = std::move(value)]() mutable { call(pending, result); });
}

// The error of a request coroutine that threw, or `ec`.
error_code error_of(std::exception_ptr failure, error_code ec) {
  if (!failure) return ec;
  try {
    std::rethrow_exception(failure);
  } catch (const boost::system::system_error& e) {
    return e.code();
  } catch (...) {
    return asio::error::no_memory;
  }
}

// Runs `work` (run() or attempts(), coroutines of `state`'s) on `strand` and completes `handler`
// with its result. The completion holds `state`, so the Client's state outlives the coroutines
// even when the Client is destroyed first.
template <class State, class Work>
void spawn_request(std::shared_ptr<State> state, const asio::any_io_executor& strand, Work work,
                   asio::any_completion_handler<void(error_code, Response)> handler) {
  asio::co_spawn(strand, std::move(work),
                 [state = std::move(state), strand, handler = std::move(handler)](
                     std::exception_ptr failure, std::tuple<error_code, Response> result) mutable {
                   auto& [ec, response] = result;
                   complete(std::move(handler), strand, error_of(failure, ec), std::move(response));
                 });
}

}  // namespace

// async_request's lean path: a request without a body on a pooled connection, carried out
// by one composed operation (bodiless_exchange.hpp) instead of the coroutines. Its handlers run
// on the request's strand (prepare()): the client's executor itself when it is serial, else a
// strand of the request's own. A direct request is sent without being rewritten (its target,
// Host and User-Agent are formatted from the destination); a retry rewrites it and goes to the
// coroutines.
struct Client::State::LeanRequest final : detail::BodilessExchange {
  LeanRequest(std::shared_ptr<State> state_in, asio::any_io_executor strand_in, Request&& request,
              detail::Tracer tracer, std::shared_ptr<const detail::Destination> destination_in,
              bool rewritten_in, std::shared_ptr<RequestCancellation> cancellation_in,
              asio::any_completion_handler<void(error_code, Response)> handler_in,
              Delivery* into_in, bool replayable_in)
      : BodilessExchange(std::move(request), state_in->options, std::move(tracer),
                         rewritten_in
                             ? std::nullopt
                             : std::optional(detail::WireForm{destination_in->wire_target,
                                                              destination_in->host, user_agent}),
                         state_in->serial ? std::nullopt : std::optional(strand_in)),
        state(std::move(state_in)),
        own_completion_executor(
            state->serial ? std::nullopt
                          : std::optional<asio::any_completion_executor>(std::move(strand_in))),
        destination(std::move(destination_in)),
        rewritten(rewritten_in),
        cancellation(std::move(cancellation_in)),
        handler(std::move(handler_in)),
        into(into_in),
        replayable_request(replayable_in) {}

  /// Starts the exchange on `connection`, on the executor's thread.
  void begin(std::shared_ptr<detail::Connection> connection) {
    if (cancellation) cancellation->connection = connection;
    start(std::move(connection));
  }

  // What attempts() does with an attempt's outcome, for the first attempt.
  void finished() override {
    auto& outcome = this->outcome();
    const auto& connection = this->connection();
    const bool cancelled = cancellation && cancellation->cancelled;
    if (cancellation) cancellation->connection.reset();
    if (!outcome.error && !cancelled) {
      detail::give_back(*state->pool, connection, outcome.reusable, tracer());
      // On the executor's thread, which is the waiting caller's: no dispatch to make.
      if (into) return into->end({}, release_response());
      return complete(std::move(handler), completion_executor(), {}, release_response());
    }
    end_in(into, handler);
    connection->close();
    state->pool->count_close(CloseReason::error);
    if (cancelled) {
      return complete(std::move(handler), completion_executor(), asio::error::operation_aborted,
                      Response{});
    }
    if (state->sends_again(*connection, outcome, replayable_request, nullptr, 0)) {
      if (!rewritten) rewrite_request(request(), *destination, nullptr);
      return spawn_request(state, executor(),
                           state->attempts(std::move(request()), nullptr, std::move(tracer()),
                                           cancellation, nullptr, destination, 1),
                           std::move(handler));
    }
    complete(std::move(handler), completion_executor(), outcome.error, Response{});
  }

  // The strand as complete() compares it with the handler's executor: made once per client
  // when it is the client's executor.
  const asio::any_completion_executor& completion_executor() const {
    return own_completion_executor ? *own_completion_executor : state->completion_executor;
  }

  std::shared_ptr<State> state;
  const std::optional<asio::any_completion_executor> own_completion_executor;
  /// Where the request goes; it holds what the exchange's WireForm refers to.
  std::shared_ptr<const detail::Destination> destination;
  const bool rewritten;  ///< the request was rewritten for the wire (sent through a proxy)
  std::shared_ptr<RequestCancellation> cancellation;
  asio::any_completion_handler<void(error_code, Response)> handler;  ///< empty with `into`
  Delivery* const into;  ///< BlockingClient's, or null: where a response goes without a handler
  const bool replayable_request;
};

void Client::start_request(Request request, std::shared_ptr<BodySource> source, TraceHook trace,
                           asio::any_completion_handler<void(error_code, Response)> handler,
                           Delivery* into) {
  // Copied only where it is kept (the coroutines, the lean request): a copy is an atomic
  // increment and decrement.
  State* const state = state_.get();
  auto [strand, cancellation] = state->prepare(handler, into == nullptr);
  if (!state->lean_path_fits(request, source.get())) {
    State::end_in(into, handler);
    auto work = state->run(std::move(request), std::move(source), std::move(trace),
                           std::move(cancellation), nullptr);
    return spawn_request(state_, strand, std::move(work), std::move(handler));
  }
  detail::Tracer tracer(&state->options.trace, std::move(trace), state->next_request++);
  error_code ec;
  auto destination = state->destination_of(request.target(), ec);
  if (!ec) ec = state->check_request(request, *destination);
  if (ec) {
    State::end_in(into, handler);
    // Never completed inside the initiating function.
    return asio::post(strand, [strand = strand, ec, handler = std::move(handler)]() mutable {
      complete(std::move(handler), strand, ec, Response{});
    });
  }
  // Through a proxy the request's own fields change (absolute form, credentials): it is
  // rewritten. A direct one is sent as it is, with the destination's target and fields.
  const bool rewritten = destination->route.proxy.has_value();
  if (rewritten) State::rewrite_request(request, *destination, nullptr);
  // Stamped before the pool is asked, reported only if it has a connection: otherwise
  // attempts() reports its own.
  TraceEvent get_conn;
  if (tracer.enabled()) {
    get_conn.point = TracePoint::get_conn;
    get_conn.at = std::chrono::steady_clock::now();
    get_conn.detail = destination->key;
  }
  std::chrono::nanoseconds idle_time{0};
  const bool replayable_request = replayable(request, nullptr);
  // As attempts() asks: a request that could not be retried has its connection peeked at.
  if (auto connection = state->pool->take(destination->key, idle_time, !replayable_request)) {
    tracer.emit(get_conn);
    emit_got_conn(tracer, *connection, idle_time);
    // One allocation (make_shared: the object and its counts). glibc serves one of up to 1,032
    // bytes from a per-thread cache in a few dozen instructions; a larger one takes its general
    // path, about 500 instructions for the malloc and the free (callgrind), every request.
    static_assert(sizeof(State::LeanRequest) + 2 * sizeof(void*) <= 1032,
                  "a lean request would no longer fit glibc's per-thread cache");
    auto lean = std::make_shared<State::LeanRequest>(
        state_, strand, std::move(request), std::move(tracer), std::move(destination), rewritten,
        std::move(cancellation), std::move(handler), into, replayable_request);
    // The exchange's handlers run on its strand, so it starts there too, or the start would race
    // its own first handlers: in line when this thread is already on it, else dispatched (the
    // request's own strand, or a serial executor that another thread runs).
    if (state->serial && (state->in_line || running_in_this_thread(strand))) {
      return lean->begin(std::move(connection));
    }
    return asio::dispatch(strand, [lean, connection = std::move(connection)]() mutable {
      lean->begin(std::move(connection));
    });
  }
  if (!rewritten) State::rewrite_request(request, *destination, nullptr);
  State::end_in(into, handler);
  auto work = state->attempts(std::move(request), nullptr, std::move(tracer),
                              std::move(cancellation), nullptr, std::move(destination), 0);
  spawn_request(state_, strand, std::move(work), std::move(handler));
}

void Client::start_stream_request(
    Request request, std::shared_ptr<BodySource> source, TraceHook trace,
    asio::any_completion_handler<void(error_code, StreamedResponse)> handler) {
  auto state = state_;
  auto [strand, cancellation] = state->prepare(handler);
  auto stream = std::make_shared<detail::BodyStream>(strand, state, state->pool, state->options);
  auto work = state->run(std::move(request), std::move(source), std::move(trace),
                         std::move(cancellation), stream.get());
  asio::co_spawn(strand, std::move(work),
                 [stream, strand = strand, handler = std::move(handler)](
                     std::exception_ptr failure, std::tuple<error_code, Response> result) mutable {
                   const auto ec = error_of(failure, std::get<0>(result));
                   StreamedResponse response;
                   if (!ec) {
                     response.header = stream->reader->header();
                     response.body = BodyReader(stream);
                   }
                   complete(std::move(handler), strand, ec, std::move(response));
                 });
}

}  // namespace tunedhttp
