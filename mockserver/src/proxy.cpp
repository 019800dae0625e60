// The mock server as a forward proxy (ServerOptions::proxy): absolute-form requests
// (`GET http://host:port/path HTTP/1.1`) are forwarded to their target over an upstream
// connection kept per target for the client's connection, and `CONNECT host:port` opens a
// tunnel that relays bytes both ways until either side closes. The mechanisms of the proxy
// faults (faults/stall_connect.cpp, delay_connect.cpp, reject_connect.cpp,
// close_tunnel_idle.cpp) act here, and withhold_continue and hold_headers act on the
// client-facing side of a forwarded request.
#include <boost/asio/connect.hpp>
#include <boost/beast/core/string.hpp>
#include <charconv>
#include <sstream>

#include "connection.hpp"

namespace tunedhttp::mockserver::detail {
namespace {

// How long the proxy tries to reach a target before it answers 502.
constexpr std::chrono::seconds upstream_connect_limit{10};
// The largest response the proxy relays (it holds one whole response at a time).
constexpr std::uint64_t upstream_body_limit = 64 * 1024 * 1024;
constexpr std::size_t relay_chunk = 16 * 1024;

/// Splits "host:port" ("[::1]:443" for IPv6) into host and port; nullopt unless both are there
/// and the port is 1 to 65535.
std::optional<std::pair<std::string, std::string>> split_authority(std::string_view authority) {
  std::string_view host;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos || close + 1 >= authority.size() ||
        authority[close + 1] != ':') {
      return std::nullopt;
    }
    host = authority.substr(1, close - 1);
    port = authority.substr(close + 2);
  } else {
    const auto colon = authority.rfind(':');
    if (colon == std::string_view::npos || authority.find(':') != colon) return std::nullopt;
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  unsigned number = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
  if (host.empty() || port.empty() || ec != std::errc{} || end != port.data() + port.size() ||
      number == 0 || number > 65535) {
    return std::nullopt;
  }
  return std::pair{std::string(host), std::string(port)};
}

/// Header fields that concern only the hop to the proxy, not the target.
bool hop_by_hop(std::string_view name) {
  return beast::iequals(name, "Proxy-Connection") || beast::iequals(name, "Proxy-Authorization") ||
         beast::iequals(name, "Keep-Alive") || beast::iequals(name, "Connection");
}

}  // namespace

std::optional<ProxyTarget> proxy_target_of(http::verb method, std::string_view target) {
  ProxyTarget result;
  if (method == http::verb::connect) {
    auto parts = split_authority(target);
    if (!parts) return std::nullopt;
    result.tunnel = true;
    result.host = parts->first;
    result.port = parts->second;
    result.authority = std::string(target);
    return result;
  }
  constexpr std::string_view scheme = "http://";
  if (target.size() < scheme.size() || !beast::iequals(target.substr(0, scheme.size()), scheme)) {
    return std::nullopt;
  }
  const auto rest = target.substr(scheme.size());
  const auto path_start = rest.find_first_of("/?");
  std::string authority(rest.substr(0, path_start));
  if (authority.empty() || authority.find('@') != std::string::npos) return std::nullopt;
  const auto bracket_end = authority.find(']');
  const bool has_port = authority.front() == '['
                            ? bracket_end != std::string::npos && bracket_end + 1 < authority.size()
                            : authority.find(':') != std::string::npos;
  if (!has_port) authority += ":80";
  auto parts = split_authority(authority);
  if (!parts) return std::nullopt;
  result.host = parts->first;
  result.port = parts->second;
  result.authority = authority;
  result.path = path_start == std::string_view::npos ? "/" : std::string(rest.substr(path_start));
  if (result.path.front() == '?') result.path.insert(0, "/");
  return result;
}

awaitable<bool> Connection::dial(tcp::socket& socket, const ProxyTarget& target,
                                 std::string& problem) {
  using namespace asio::experimental::awaitable_operators;
  tcp::resolver resolver(server_->serial);
  auto [resolve_error, endpoints] =
      co_await resolver.async_resolve(target.host, target.port, as_tuple_awaitable);
  if (closed_) co_return false;
  if (resolve_error) {
    problem = "cannot resolve " + target.host + ": " + resolve_error.message();
    co_return false;
  }
  timer_.expires_after(upstream_connect_limit);
  auto result =
      co_await (wait_timer() || asio::async_connect(socket, endpoints, as_tuple_awaitable));
  if (closed_) co_return false;
  if (result.index() == 0) {
    problem = "cannot reach " + target.authority + ": no answer within " +
              std::to_string(upstream_connect_limit.count()) + " s";
    co_return false;
  }
  const auto connect_error = std::get<0>(std::get<1>(result));
  if (connect_error) {
    problem = "cannot reach " + target.authority + ": " + connect_error.message();
    co_return false;
  }
  boost::system::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  co_return true;
}

template <typename Stream>
awaitable<void> Connection::answer_and_close(Stream& stream, std::uint64_t request, unsigned status,
                                             const std::string& why,
                                             const std::string& extra_headers) {
  const auto reason = http::obsolete_reason(static_cast<http::status>(status));
  const std::string body = why + "\n";
  const std::string text =
      "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) +
      "\r\nServer: tunedhttp-mockserver\r\n" + extra_headers +
      "Content-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\nConnection: close\r\n\r\n" + body;
  bool ok = false;
  co_await write_text(stream, text, ok);
  if (!ok) co_return;
  server_->record(EventKind::response_headers_sent, number_, request,
                  std::to_string(status) + " " + why);
  server_->record(EventKind::response_done, number_, request, "");
  co_await close_gracefully(why);
}

template <typename From, typename To>
awaitable<boost::system::error_code> Connection::relay(From& from, To& to,
                                                       Clock::time_point& last_byte) {
  std::array<char, relay_chunk> data;
  for (;;) {
    auto [read_error, n] = co_await from.async_read_some(asio::buffer(data), as_tuple_awaitable);
    if (n > 0) {
      last_byte = Clock::now();
      auto [write_error, written] =
          co_await asio::async_write(to, asio::buffer(data.data(), n), as_tuple_awaitable);
      (void)written;
      if (write_error) co_return write_error;
    }
    if (read_error) co_return read_error;
  }
}

awaitable<void> Connection::watch_tunnel_idle(Duration limit, const Clock::time_point& last_byte) {
  for (;;) {
    timer_.expires_at(last_byte + limit);
    co_await wait_timer();
    if (closed_ || Clock::now() >= last_byte + limit) co_return;
  }
}

template <typename Stream>
awaitable<void> Connection::tunnel(Stream& stream, const ProxyTarget& target,
                                   const RequestInfo& info, const RequestPlan& plan) {
  using namespace asio::experimental::awaitable_operators;
  const auto& connect = plan.connect;
  if (connect.answer_delay) {
    // Bytes the client sends meanwhile are kept for the target; only its close ends the wait.
    arm_timer(*connect.answer_delay, Clock::now());
    const bool waited = co_await hold([&] { return watch_by_reading(stream); });
    if (!waited) co_return;
  }
  if (connect.reject) {
    const std::string challenge =
        *connect.reject == 407 ? "Proxy-Authenticate: Basic realm=\"tunedhttp\"\r\n" : "";
    co_await answer_and_close(stream, info.request, *connect.reject, "reject_connect", challenge);
    co_return;
  }
  tunnel_.emplace(server_->serial);
  std::string problem;
  const bool reached = co_await dial(*tunnel_, target, problem);
  if (closed_) co_return;
  if (!reached) {
    co_await answer_and_close(stream, info.request, 502, "proxy: " + problem);
    co_return;
  }
  bool ok = false;
  co_await write_text(stream, "HTTP/1.1 200 Connection established\r\n\r\n", ok);
  if (!ok) co_return;
  server_->record(EventKind::response_headers_sent, number_, info.request, "200 tunnel");
  server_->record(EventKind::response_done, number_, info.request, "");
  if (buffer_.size() > 0) {  // sent before the answer: the target's
    auto [error, n] = co_await asio::async_write(*tunnel_, buffer_.data(), as_tuple_awaitable);
    buffer_.consume(n);
    if (closed_) co_return;
    if (error) {
      co_await close_gracefully("tunnel: the target closed");
      co_return;
    }
  }

  // Either side closing ends the tunnel, as do D without a byte either way (close_tunnel_idle).
  auto last_byte = Clock::now();
  std::size_t ended_by = 0;  // 0: the client, 1: the target, 2: idle
  boost::system::error_code client_error;
  if (connect.tunnel_idle_close) {
    auto result =
        co_await (relay(stream, *tunnel_, last_byte) || relay(*tunnel_, stream, last_byte) ||
                  watch_tunnel_idle(*connect.tunnel_idle_close, last_byte));
    ended_by = result.index();
    if (ended_by == 0) client_error = std::get<0>(result);
  } else {
    auto result =
        co_await (relay(stream, *tunnel_, last_byte) || relay(*tunnel_, stream, last_byte));
    ended_by = result.index();
    if (ended_by == 0) client_error = std::get<0>(result);
  }
  if (closed_) co_return;
  tunnel_->close(ignored_);
  if (ended_by == 0) {
    closed_by_peer(client_error);
  } else if (ended_by == 1) {
    co_await close_gracefully("tunnel: the target closed");
  } else {
    co_await close_gracefully("close_tunnel_idle");
  }
}

template <typename Stream>
awaitable<bool> Connection::forward(Stream& stream, http::request_parser<http::string_body>& parser,
                                    const ProxyTarget& target, const RequestInfo& info,
                                    const RequestPlan& plan) {
  using namespace asio::experimental::awaitable_operators;
  const auto& request = parser.get();
  const bool has_body = !parser.is_done();
  const bool expects_continue =
      has_body && beast::iequals(request[http::field::expect], "100-continue");
  if (expects_continue && plan.expect_continue.reply_instead) {
    co_await reply_instead_of_continue(stream, info, *plan.expect_continue.reply_instead);
    co_return false;
  }

  auto& upstream = upstreams_[target.authority];
  if (!upstream) {
    upstream = std::make_unique<Upstream>(server_->serial);
    std::string problem;
    const bool reached = co_await dial(upstream->socket, target, problem);
    if (closed_) co_return false;
    if (!reached) {
      co_await give_up_on_target(stream, target, info.request, problem);
      co_return false;
    }
  }
  // The head, in origin form, without what concerns only the hop to the proxy.
  http::request<http::empty_body> head;
  head.method_string(request.method_string());
  head.target(target.path);
  head.version(11);
  for (const auto& field : request) {
    if (!hop_by_hop(field.name_string())) head.insert(field.name_string(), field.value());
  }
  std::ostringstream head_text;
  head_text << head.base();
  bool ok = false;
  co_await write_text_to_upstream(*upstream, head_text.str(), ok);
  if (closed_) co_return false;
  if (!ok) {
    co_await give_up_on_target(stream, target, info.request, "the target closed");
    co_return false;
  }

  // `Expect: 100-continue`: the target's 100 is relayed to the client unless withhold_continue
  // swallows it; the client's body, whenever it comes, goes on to the target.
  std::optional<http::response_parser<http::string_body>> answer;
  if (expects_continue && buffer_.size() == 0) {
    auto first =
        co_await (upstream->socket.async_wait(tcp::socket::wait_read, as_tuple_awaitable) ||
                  watch_by_reading(stream));
    if (closed_) co_return false;
    if (first.index() == 1 && std::get<1>(first) == Watched::closed) {
      closed_by_peer(last_error_);
      co_return false;
    }
    if (first.index() == 0) {
      const auto error = co_await read_answer_head(*upstream, answer, false);
      if (closed_) co_return false;
      if (error) {
        co_await give_up_on_target(stream, target, info.request, "the target closed");
        co_return false;
      }
      if (answer->get().result() == http::status::continue_) {
        answer.reset();
        const bool open = co_await continue_unless_withheld(stream, plan, info.request);
        if (!open) co_return false;
      } else if (answer->get().result_int() >= 200) {
        // The target answered without the body: the client's connection cannot be reused
        // (its body may be on the way), so the answer is relayed and the connection closed.
        upstream->keep = false;
      } else {
        answer.reset();  // another interim answer: dropped
      }
    }
  }
  const bool send_body = has_body && !(answer && answer->get().result_int() >= 200);
  if (send_body) {
    const bool read = co_await read_body(stream, parser, info.request, plan.stop_reading_after);
    if (!read) co_return false;
    std::string body_text = request.body();
    if (request.chunked()) {
      std::ostringstream chunked;
      if (!body_text.empty())
        chunked << std::hex << body_text.size() << "\r\n" << body_text << "\r\n";
      chunked << "0\r\n\r\n";
      body_text = chunked.str();
    }
    co_await write_text_to_upstream(*upstream, body_text, ok);
    if (closed_) co_return false;
    if (!ok) {
      co_await give_up_on_target(stream, target, info.request, "the target closed");
      co_return false;
    }
  }
  const auto forwarded_at = Clock::now();

  // The final answer: interim ones are dropped (a 100 that comes after the body means nothing).
  for (;;) {
    if (!answer) {
      const auto error =
          co_await read_answer_head(*upstream, answer, request.method() == http::verb::head);
      if (closed_) co_return false;
      if (error) {
        co_await give_up_on_target(stream, target, info.request, "the target closed");
        co_return false;
      }
    }
    if (answer->get().result_int() >= 200) break;
    answer.reset();
  }
  if (!answer->is_done()) {
    auto [error, n] =
        co_await http::async_read(upstream->socket, upstream->buffer, *answer, as_tuple_awaitable);
    (void)n;
    if (closed_) co_return false;
    if (error) {
      co_await give_up_on_target(stream, target, info.request, "the target's answer broke off");
      co_return false;
    }
  }
  auto response = answer->release();
  if (!upstream->keep || !response.keep_alive()) upstreams_.erase(target.authority);

  if (plan.hold_headers) {
    arm_timer(*plan.hold_headers, forwarded_at);
    const bool held = co_await hold([&] { return watch_by_reading(stream); });
    if (!held) co_return false;
  }
  const bool keep_alive = request.keep_alive() && send_body == has_body;
  for (const auto& name : {"Connection", "Keep-Alive", "Proxy-Connection"}) response.erase(name);
  const bool bodyless = request.method() == http::verb::head || response.result_int() == 204 ||
                        response.result_int() == 304;
  if (!bodyless && !response.chunked() && !response.has_content_length()) {
    response.content_length(response.body().size());  // it was delimited by the target's close
  }
  response.keep_alive(keep_alive);
  http::response_serializer<http::string_body> serializer{response};
  auto [head_error, head_n] =
      co_await http::async_write_header(stream, serializer, as_tuple_awaitable);
  (void)head_n;
  if (closed_) co_return false;
  if (head_error) {
    closed_by_peer(head_error);
    co_return false;
  }
  server_->record(
      EventKind::response_headers_sent, number_, info.request,
      std::to_string(response.result_int()) + (plan.hold_headers ? " hold_headers" : ""));
  auto [body_error, body_n] = co_await http::async_write(stream, serializer, as_tuple_awaitable);
  (void)body_n;
  if (closed_) co_return false;
  if (body_error) {
    closed_by_peer(body_error);
    co_return false;
  }
  server_->record(EventKind::response_done, number_, info.request, "");
  co_return keep_alive;
}

template <typename Stream>
awaitable<void> Connection::give_up_on_target(Stream& stream, const ProxyTarget& target,
                                              std::uint64_t request, const std::string& why) {
  upstreams_.erase(target.authority);  // its connection is out of step, or gone
  co_await answer_and_close(stream, request, 502, "proxy: " + why);
}

awaitable<boost::system::error_code> Connection::read_answer_head(
    Upstream& upstream, std::optional<http::response_parser<http::string_body>>& answer,
    bool head_request) {
  answer.emplace();
  answer->body_limit(upstream_body_limit);
  if (head_request) answer->skip(true);  // a HEAD's answer has no body, whatever it says
  auto [error, n] = co_await http::async_read_header(upstream.socket, upstream.buffer, *answer,
                                                     as_tuple_awaitable);
  (void)n;
  co_return error;
}

awaitable<void> Connection::write_text_to_upstream(Upstream& upstream, const std::string& text,
                                                   bool& ok) {
  auto [error, n] =
      co_await asio::async_write(upstream.socket, asio::buffer(text), as_tuple_awaitable);
  (void)n;
  ok = !error && !closed_;
}

template awaitable<void> Connection::answer_and_close(tcp::socket&, std::uint64_t, unsigned,
                                                      const std::string&, const std::string&);
template awaitable<void> Connection::answer_and_close(TlsStream&, std::uint64_t, unsigned,
                                                      const std::string&, const std::string&);
template awaitable<void> Connection::tunnel(tcp::socket&, const ProxyTarget&, const RequestInfo&,
                                            const RequestPlan&);
template awaitable<void> Connection::tunnel(TlsStream&, const ProxyTarget&, const RequestInfo&,
                                            const RequestPlan&);
template awaitable<bool> Connection::forward(tcp::socket&, http::request_parser<http::string_body>&,
                                             const ProxyTarget&, const RequestInfo&,
                                             const RequestPlan&);
template awaitable<bool> Connection::forward(TlsStream&, http::request_parser<http::string_body>&,
                                             const ProxyTarget&, const RequestInfo&,
                                             const RequestPlan&);

}  // namespace tunedhttp::mockserver::detail
