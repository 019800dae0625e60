#pragma once
// One accepted connection and the coroutine that serves it, on the server's serial executor. The
// class is declared here and defined by part, each beside what it carries out:
// - connection.cpp: its life: run, the ways it closes, its waits
// - tls_handshake.cpp: the TLS handshake, delayed by delay_tls_handshake (ClientHello capture)
// - request_loop.cpp: reading requests, `Expect: 100-continue` (withhold_continue), limits
// - response_writer.cpp: writing the answer (hold_headers, drip_body, reset=mid-body,
//   stall_body)
// - connection_blackhole.cpp: going dark (blackhole)
// - connection_reset.cpp: closing with a reset (reset)
// - connection_body_stalls.cpp: a body that stops (stall_body), a request body no longer read
//   (stop_reading)
// - proxy.cpp: forwarding and tunnelling (ServerOptions::proxy; the proxy faults)
// Member templates on the stream are instantiated for both streams (tcp::socket, TlsStream) in
// the file that defines them.

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "server_core.hpp"

namespace tunedhttp::mockserver::detail {

namespace beast = boost::beast;
namespace http = beast::http;
using TlsStream = asio::ssl::stream<tcp::socket>;
inline constexpr auto as_tuple_awaitable = asio::as_tuple(asio::use_awaitable);

// Bytes per read while only watching a connection (held, idle, waiting for a body): small, so
// that a held connection keeps no bigger buffer than its request needed.
inline constexpr std::size_t watch_chunk = 512;

/// Where a request to a proxy goes (proxy.cpp).
struct ProxyTarget {
  bool tunnel = false;    ///< CONNECT: a tunnel, not a forwarded request
  std::string host;       ///< as written, without brackets
  std::string port;       ///< digits
  std::string authority;  ///< "host:port" (the port added when the URL has none)
  std::string path;       ///< origin form ("/p?q") of a forwarded request
};

/// The target of a request a proxy handles: CONNECT host:port, or an absolute-form `http://`
/// URL; nullopt for anything else (an origin-form request, another scheme, a bad authority).
std::optional<ProxyTarget> proxy_target_of(http::verb method, std::string_view target);

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(std::shared_ptr<ServerCore> server, std::uint64_t number, tcp::socket socket,
             std::string listener, ConnectionPlan plan)
      : server_(std::move(server)),
        number_(number),
        listener_(std::move(listener)),
        socket_(std::move(socket)),
        timer_(server_->serial),
        plan_(std::move(plan)) {}

  /// Serves the connection until it closes.
  awaitable<void> run();

  /// The server closes at once, for `reason` (logged as closed_by_server): stop(), or a
  /// connection that cannot go on. Pending operations complete with errors and the coroutine
  /// ends. Does nothing once closed.
  void abort(const std::string& reason);

 private:
  enum class StallEnd { elapsed, data, closed };
  enum class Watched { data, closed };

  /// A proxy's connection to a forwarded request's target.
  struct Upstream {
    explicit Upstream(const asio::any_io_executor& serial) : socket(serial) {}
    tcp::socket socket;
    beast::flat_buffer buffer;
    bool keep = true;  ///< false once it is out of step (an answer came before the body).
  };

  tcp::socket& lowest() { return tls_ ? tls_->next_layer() : socket_; }

  // --- closing (connection.cpp) ---
  void close_now();
  /// The client closed (EOF, reset, or a failed read/write): record it once.
  void closed_by_peer(const boost::system::error_code& error);
  /// The server closes: FIN first, then read and drop what the client still sends until it
  /// closes too (or a limit), so the response is not lost to a reset.
  awaitable<void> close_gracefully(std::string reason);
  awaitable<void> drain(tcp::socket& socket);

  // --- waits (here) ---
  awaitable<void> wait_timer() { co_await timer_.async_wait(as_tuple_awaitable); }

  void arm_timer(const Wait& wait, Clock::time_point from) {
    timer_.expires_at(from + (wait.duration ? *wait.duration : Clock::duration(forever)));
  }

  /// Watches by reading into the request buffer (the parser will find the bytes there).
  template <typename Stream>
  awaitable<Watched> watch_by_reading(Stream& stream) {
    auto [error, n] =
        co_await stream.async_read_some(buffer_.prepare(watch_chunk), as_tuple_awaitable);
    buffer_.commit(n);
    if (n > 0) co_return Watched::data;
    last_error_ = error;
    co_return Watched::closed;
  }

  /// Waits for the timer (armed by the caller) or for the watch, whichever ends first.
  template <typename Watch>
  awaitable<StallEnd> stall(Watch watch) {
    using namespace asio::experimental::awaitable_operators;
    if (timer_.expiry() <= Clock::now()) co_return StallEnd::elapsed;
    auto result = co_await (wait_timer() || watch());
    if (closed_) co_return StallEnd::closed;
    if (result.index() == 0) co_return StallEnd::elapsed;
    if (std::get<1>(result) == Watched::data) co_return StallEnd::data;
    closed_by_peer(last_error_);
    co_return StallEnd::closed;
  }

  /// Waits out the whole timer; data that arrives meanwhile is kept (or left unread), only the
  /// peer closing ends the wait early.
  template <typename Watch>
  awaitable<bool> hold(Watch watch) {
    auto end = co_await stall(watch);
    if (end == StallEnd::data) {
      co_await wait_timer();
      end = closed_ ? StallEnd::closed : StallEnd::elapsed;
    }
    co_return end == StallEnd::elapsed;
  }

  template <typename Stream>
  awaitable<void> write_text(Stream& stream, const std::string& text, bool& ok) {
    co_await write_pieces(stream, {text}, ok);  // the one write path (response_writer.cpp)
  }

  // --- TLS (tls_handshake.cpp) ---
  /// Returns false when the connection is over.
  awaitable<bool> tls_handshake();
  /// Whether the client's first byte starts a TLS record (a TLS proxy serves both).
  awaitable<bool> starts_with_tls_record();
  /// Reads exactly one TLS record (the ClientHello) from the TCP socket, to hand to OpenSSL
  /// later.
  awaitable<bool> read_client_hello(std::vector<unsigned char>& record);
  /// Watches a connection whose bytes we must not consume (before the TLS handshake): waits
  /// until readable and peeks.
  awaitable<Watched> watch_by_peeking();

  // --- requests (request_loop.cpp) ---
  template <typename Stream>
  awaitable<void> serve_requests(Stream& stream);
  template <typename Stream>
  awaitable<boost::system::error_code> read_header(Stream& stream,
                                                   http::request_parser<http::string_body>& parser);
  /// Parses the request head from what is already buffered. True when that decided it: the
  /// head is whole (`error` empty) or bad (`error` set); false when more bytes are needed.
  bool parse_buffered_head(http::request_parser<http::string_body>& parser,
                           boost::system::error_code& error);
  /// A read error on a request: EOF or reset is the client closing; a bad request gets a status
  /// and the connection is closed.
  template <typename Stream>
  awaitable<void> reject_request(Stream& stream, const boost::system::error_code& error);
  template <typename Stream>
  awaitable<void> reply_instead_of_continue(Stream& stream, const RequestInfo& info,
                                            unsigned status);
  /// Sends `100 Continue` unless withhold_continue holds it back until the client's body comes;
  /// false when the connection is over.
  template <typename Stream>
  awaitable<bool> continue_unless_withheld(Stream& stream, const RequestPlan& plan,
                                           std::uint64_t request);
  /// Reads the request's body (events body_first_byte, body_done); false when the connection
  /// is over. With `stop_reading_after` (stop_reading), only that many bytes, then nothing.
  template <typename Stream>
  awaitable<bool> read_body(Stream& stream, http::request_parser<http::string_body>& parser,
                            std::uint64_t request,
                            std::optional<std::uint64_t> stop_reading_after = std::nullopt);
  /// After an answer: closes when it is the last (Connection: close, close_after_requests);
  /// true when the connection reads its next request.
  awaitable<bool> next_request_follows(bool keep_alive);

  // --- responses (response_writer.cpp) ---
  /// Writes the response per Route and plan; returns whether the connection stays open.
  template <typename Stream>
  awaitable<bool> respond(Stream& stream, const RequestInfo& info, const RequestPlan& plan,
                          const http::request<http::string_body>& request);
  /// The serialized head of `route`'s response, cached for the connection's next requests.
  const std::string& response_head(const Route& route, unsigned version, bool keep_alive);
  /// Up to four pieces of one write; empty ones are skipped. (An array by value, so that the
  /// coroutine's frame holds them: no temporary has to outlive a suspension.)
  using Pieces = std::array<std::string_view, 4>;
  /// Writes the non-empty pieces in one gathered write.
  template <typename Stream>
  awaitable<void> write_pieces(Stream& stream, Pieces pieces, bool& ok);
  /// Writes `head` and `size_line`, `length` generated body bytes and `suffix`, holding at
  /// most one piece of filler in memory whatever the length.
  template <typename Stream>
  awaitable<void> write_generated(Stream& stream, std::string_view head, std::string_view size_line,
                                  std::size_t length, std::string_view suffix, bool& ok);

  // --- blackhole (connection_blackhole.cpp) and reset (connection_reset.cpp) ---
  awaitable<void> go_dark();
  void reset(const char* when, std::uint64_t request);
  /// reset=idle: idle for the plan's time, the connection is forgotten; the next bytes or the
  /// FIN from the peer are answered with the RST. Returns false when the connection is over.
  template <typename Stream>
  awaitable<bool> reset_when_idle(Stream& stream);

  // --- proxy (proxy.cpp) ---
  /// CONNECT: the proxy faults act, then the tunnel relays bytes until it ends the connection.
  template <typename Stream>
  awaitable<void> tunnel(Stream& stream, const ProxyTarget& target, const RequestInfo& info,
                         const RequestPlan& plan);
  /// An absolute-form request: forwarded, its answer relayed; returns keep-alive as respond().
  template <typename Stream>
  awaitable<bool> forward(Stream& stream, http::request_parser<http::string_body>& parser,
                          const ProxyTarget& target, const RequestInfo& info,
                          const RequestPlan& plan);
  /// Resolves and connects to the target; false with `problem` set when it cannot.
  awaitable<bool> dial(tcp::socket& socket, const ProxyTarget& target, std::string& problem);
  /// The proxy's own answer (an error status, `Connection: close`), then the close.
  template <typename Stream>
  awaitable<void> answer_and_close(Stream& stream, std::uint64_t request, unsigned status,
                                   const std::string& why, const std::string& extra_headers = "");
  /// Copies bytes from one side of a tunnel to the other until either fails; its error.
  template <typename From, typename To>
  awaitable<boost::system::error_code> relay(From& from, To& to, Clock::time_point& last_byte);
  /// Ends once no byte went through the tunnel for `limit` (close_tunnel_idle).
  awaitable<void> watch_tunnel_idle(Duration limit, const Clock::time_point& last_byte);
  awaitable<void> write_text_to_upstream(Upstream& upstream, const std::string& text, bool& ok);
  /// Reads the head of the target's next answer into a fresh `answer`; its error.
  awaitable<boost::system::error_code> read_answer_head(
      Upstream& upstream, std::optional<http::response_parser<http::string_body>>& answer,
      bool head_request);
  /// The target failed a forwarded request: its connection is dropped, the client gets 502.
  template <typename Stream>
  awaitable<void> give_up_on_target(Stream& stream, const ProxyTarget& target,
                                    std::uint64_t request, const std::string& why);
  // --- the stalls after the headers (connection_body_stalls.cpp) ---
  /// stall_body: the body stopped after `sent` bytes; the connection is held open, watched so
  /// that the client's close is seen and logged, until the server stops.
  template <typename Stream>
  awaitable<void> stall_body(Stream& stream, std::uint64_t request, std::uint64_t sent);
  /// stop_reading: reads the request body until at least `limit` bytes of it are in (or it
  /// ends), then reads nothing more and never answers, until the server stops.
  template <typename Stream>
  awaitable<void> stop_reading(Stream& stream, http::request_parser<http::string_body>& parser,
                               std::uint64_t request, std::uint64_t limit);

  std::shared_ptr<ServerCore> server_;
  std::uint64_t number_;
  std::string listener_;  // the address it was accepted on
  tcp::socket socket_;    // moved into tls_ for TLS
  std::optional<TlsStream> tls_;
  asio::steady_timer timer_;  // the one timer of this connection's current wait
  ConnectionPlan plan_;
  beast::flat_buffer buffer_;
  std::uint64_t responses_ = 0;
  // The last response head serialized (response_head()): a kept-alive connection asking the
  // same route again reuses it.
  struct CachedHead {
    const Route* route = nullptr;
    unsigned version = 0;
    bool keep_alive = false;
    std::string text = "";
  } head_;
  bool closed_ = false;  // closed (and logged) by either side
  boost::system::error_code last_error_;
  boost::system::error_code ignored_;
  // A proxy's connections: per forwarded target, and the one a tunnel relays to.
  std::map<std::string, std::unique_ptr<Upstream>> upstreams_;
  std::optional<tcp::socket> tunnel_;
};

}  // namespace tunedhttp::mockserver::detail
