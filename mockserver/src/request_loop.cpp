// Reading requests: the loop of a kept-alive connection, with the idle faults acting between
// requests (blackhole=idle, reset=idle, idle_close), the server's header read limit, the
// mechanism of withhold_continue (faults/withhold_continue.cpp) on `Expect: 100-continue`, and
// the defensive limits on what a client may send.
#include <boost/beast/core/string.hpp>
#include <sstream>

#include "connection.hpp"

namespace tunedhttp::mockserver::detail {
namespace {

// Defensive limits.
constexpr std::uint64_t request_body_limit = 64 * 1024 * 1024;  // larger bodies get 413
constexpr std::uint32_t request_header_limit = 64 * 1024;       // larger headers get 431
constexpr std::size_t read_chunk = 16 * 1024;                   // bytes per read of a body

}  // namespace

template <typename Stream>
awaitable<void> Connection::serve_requests(Stream& stream) {
  using namespace asio::experimental::awaitable_operators;
  while (!closed_) {
    // Idle: between requests (or before the first). A NAT that drops idle flows, if any.
    if (plan_.blackhole == GoDark::when_idle && buffer_.size() == 0) {
      timer_.expires_after(plan_.blackhole_idle);
      const auto end = co_await stall([&] { return watch_by_reading(stream); });
      if (end == StallEnd::closed) co_return;
      if (end == StallEnd::elapsed) {
        co_await go_dark();
        co_return;
      }
    }
    if (plan_.reset_idle && buffer_.size() == 0) {
      const bool open = co_await reset_when_idle(stream);
      if (!open) co_return;
    }
    // The server's own idle limit, if any.
    if (plan_.idle_close && buffer_.size() == 0) {
      timer_.expires_after(*plan_.idle_close);
      const auto end = co_await stall([&] { return watch_by_reading(stream); });
      if (end == StallEnd::closed) co_return;
      if (end == StallEnd::elapsed) {
        co_await close_gracefully("idle_close");
        co_return;
      }
    }
    http::request_parser<http::string_body> parser;
    parser.body_limit(request_body_limit);
    parser.header_limit(request_header_limit);
    const bool timed = server_->options.header_read_timeout > Clock::duration::zero();
    if (timed && responses_ > 0 && buffer_.size() == 0) {
      // A kept connection may idle: the head's time starts with its first byte (Go's rule).
      const auto watched = co_await watch_by_reading(stream);
      if (watched == Watched::closed) {
        closed_by_peer(last_error_);
        co_return;
      }
    }
    boost::system::error_code read_error;
    // A kept connection's watch usually read the whole head: parsed at once, it needs no timer
    // and no read (what async_read_header would do first, but after arming the timer).
    const bool decided = buffer_.size() != 0 && parse_buffered_head(parser, read_error);
    if (!decided && timed) {
      timer_.expires_after(server_->options.header_read_timeout);
      auto result = co_await (wait_timer() || read_header(stream, parser));
      if (closed_) co_return;
      if (result.index() == 0) {
        co_await close_gracefully("header_read_timeout");
        co_return;
      }
      read_error = std::get<1>(result);
    } else if (!decided) {
      read_error = co_await read_header(stream, parser);
    }
    if (closed_) co_return;
    if (read_error) {
      co_await reject_request(stream, read_error);
      co_return;
    }
    const auto& request = parser.get();
    const std::string_view target = request.target();
    std::optional<ProxyTarget> proxied;
    if (server_->options.proxy) proxied = proxy_target_of(request.method(), target);
    RequestInfo info;
    info.listener = listener_;
    info.connection = number_;
    const std::string_view path = proxied && !proxied->tunnel ? proxied->path : target;
    info.path = std::string(path.substr(0, path.find('?')));
    const auto plan = server_->take_request(info);
    server_->record(EventKind::request_headers_read, number_, info.request,
                    std::string(request.method_string()) + " " + std::string(target));

    if (proxied) {
      server_->record(proxied->tunnel ? EventKind::proxy_connect : EventKind::proxy_forward,
                      number_, info.request,
                      proxied->tunnel ? proxied->authority : std::string(target));
      if (proxied->tunnel) {
        co_await tunnel(stream, *proxied, info, plan);
        co_return;
      }
      const bool keep_alive = co_await forward(stream, parser, *proxied, info, plan);
      if (closed_) co_return;
      const bool next = co_await next_request_follows(keep_alive);
      if (!next) co_return;
      continue;
    }
    if (server_->options.proxy && (request.method() == http::verb::connect ||
                                   (!target.empty() && target.front() != '/' && target != "*"))) {
      co_await answer_and_close(stream, info.request, 400,
                                "proxy: CONNECT host:port, an http:// URL or a path expected");
      co_return;
    }

    const bool has_body = !parser.is_done();
    const bool expects_continue =
        has_body && beast::iequals(request[http::field::expect], "100-continue");
    if (expects_continue) {
      if (plan.expect_continue.reply_instead) {
        co_await reply_instead_of_continue(stream, info, *plan.expect_continue.reply_instead);
        co_return;
      }
      const bool open = co_await continue_unless_withheld(stream, plan, info.request);
      if (!open) co_return;
    }
    if (has_body) {
      const bool read = co_await read_body(stream, parser, info.request, plan.stop_reading_after);
      if (!read) co_return;
    }

    if (plan_.blackhole == GoDark::after_request) {
      co_await go_dark();
      co_return;
    }
    if (plan.reset_after_request) {
      reset("after_headers", info.request);
      co_return;
    }
    const bool keep_alive = co_await respond(stream, info, plan, parser.get());
    if (closed_) co_return;
    const bool next = co_await next_request_follows(keep_alive);
    if (!next) co_return;
  }
}

awaitable<bool> Connection::next_request_follows(bool keep_alive) {
  ++responses_;
  if (!keep_alive) {
    co_await close_gracefully("Connection: close");
    co_return false;
  }
  if (plan_.close_after_responses && responses_ >= *plan_.close_after_responses) {
    co_await close_gracefully("close_after_requests");
    co_return false;
  }
  co_return true;
}

template <typename Stream>
awaitable<bool> Connection::continue_unless_withheld(Stream& stream, const RequestPlan& plan,
                                                     std::uint64_t request) {
  bool send_continue = buffer_.size() == 0;  // the body already arriving needs no 100
  if (send_continue && plan.expect_continue.withhold) {
    arm_timer(*plan.expect_continue.withhold, Clock::now());
    const auto end = co_await stall([&] { return watch_by_reading(stream); });
    if (end == StallEnd::closed) co_return false;
    send_continue = end == StallEnd::elapsed;
  }
  if (send_continue) {
    bool ok = false;
    co_await write_text(stream, "HTTP/1.1 100 Continue\r\n\r\n", ok);
    if (!ok) co_return false;
    server_->record(EventKind::continue_sent, number_, request,
                    plan.expect_continue.withhold ? plan.expect_continue.withhold->by : "");
  }
  co_return true;
}

template <typename Stream>
awaitable<bool> Connection::read_body(Stream& stream,
                                      http::request_parser<http::string_body>& parser,
                                      std::uint64_t request,
                                      std::optional<std::uint64_t> stop_reading_after) {
  if (buffer_.size() == 0) {
    auto [error, n] =
        co_await stream.async_read_some(buffer_.prepare(read_chunk), as_tuple_awaitable);
    buffer_.commit(n);
    if (closed_) co_return false;
    if (n == 0) {
      closed_by_peer(error);
      co_return false;
    }
  }
  server_->record(EventKind::body_first_byte, number_, request, "");
  if (stop_reading_after) {
    co_await stop_reading(stream, parser, request, *stop_reading_after);
    co_return false;
  }
  auto [error, n] = co_await http::async_read(stream, buffer_, parser, as_tuple_awaitable);
  (void)n;
  if (closed_) co_return false;
  if (error) {
    co_await reject_request(stream, error);
    co_return false;
  }
  server_->record(EventKind::body_done, number_, request,
                  std::to_string(parser.get().body().size()) + " bytes");
  co_return true;
}

bool Connection::parse_buffered_head(http::request_parser<http::string_body>& parser,
                                     boost::system::error_code& error) {
  const std::size_t used = parser.put(buffer_.data(), error);
  buffer_.consume(used);
  if (error == http::error::need_more) {
    error = {};
    return false;  // read the rest, under the header read timeout
  }
  return true;
}

template <typename Stream>
awaitable<boost::system::error_code> Connection::read_header(
    Stream& stream, http::request_parser<http::string_body>& parser) {
  auto [error, n] = co_await http::async_read_header(stream, buffer_, parser, as_tuple_awaitable);
  (void)n;
  co_return error;
}

template <typename Stream>
awaitable<void> Connection::reject_request(Stream& stream, const boost::system::error_code& error) {
  unsigned status = 0;
  if (error == http::error::body_limit) {
    status = 413;
  } else if (error == http::error::header_limit) {
    status = 431;
  } else if (error.category() == http::make_error_code(http::error::bad_target).category() &&
             error != http::error::end_of_stream && error != http::error::partial_message) {
    status = 400;
  }
  if (status == 0) {
    closed_by_peer(error);
    co_return;
  }
  http::response<http::string_body> response{static_cast<http::status>(status), 11};
  response.body() = error.message() + "\n";
  response.keep_alive(false);
  response.prepare_payload();
  std::ostringstream text;
  text << response;
  bool ok = false;
  co_await write_text(stream, text.str(), ok);
  if (ok) co_await close_gracefully("bad request: " + error.message());
}

template <typename Stream>
awaitable<void> Connection::reply_instead_of_continue(Stream& stream, const RequestInfo& info,
                                                      unsigned status) {
  http::response<http::string_body> response{static_cast<http::status>(status), 11};
  response.body() = "withhold_continue: final status instead of 100 Continue\n";
  response.keep_alive(false);  // the unread body leaves the connection out of sync
  response.prepare_payload();
  std::ostringstream text;
  text << response;
  bool ok = false;
  co_await write_text(stream, text.str(), ok);
  if (!ok) co_return;
  server_->record(EventKind::response_headers_sent, number_, info.request,
                  std::to_string(status) + " withhold_continue");
  server_->record(EventKind::response_done, number_, info.request, "");
  ++responses_;
  co_await close_gracefully("withhold_continue reply");
}

template awaitable<void> Connection::serve_requests(tcp::socket&);
template awaitable<void> Connection::serve_requests(TlsStream&);
// Used by the proxy (proxy.cpp) too.
template awaitable<void> Connection::reply_instead_of_continue(tcp::socket&, const RequestInfo&,
                                                               unsigned);
template awaitable<void> Connection::reply_instead_of_continue(TlsStream&, const RequestInfo&,
                                                               unsigned);
template awaitable<bool> Connection::continue_unless_withheld(tcp::socket&, const RequestPlan&,
                                                              std::uint64_t);
template awaitable<bool> Connection::continue_unless_withheld(TlsStream&, const RequestPlan&,
                                                              std::uint64_t);
template awaitable<bool> Connection::read_body(tcp::socket&,
                                               http::request_parser<http::string_body>&,
                                               std::uint64_t, std::optional<std::uint64_t>);
template awaitable<bool> Connection::read_body(TlsStream&, http::request_parser<http::string_body>&,
                                               std::uint64_t, std::optional<std::uint64_t>);

}  // namespace tunedhttp::mockserver::detail
