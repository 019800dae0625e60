// A connection's life: it starts (blackhole and reset may end it at once, TLS may come first),
// serves requests, and ends in exactly one logged close.
#include "connection.hpp"

#include <sstream>

namespace tunedhttp::mockserver::detail {
namespace {

// After the server closes its sending side it reads (and drops) what the client still sends, so
// that unread data does not turn the FIN into a reset that destroys the response; at most this
// long.
constexpr std::chrono::milliseconds lingering_close_limit{1000};

std::string endpoint_text(const tcp::endpoint& endpoint) {
  std::ostringstream out;
  out << endpoint;
  return out.str();
}

}  // namespace

awaitable<void> Connection::run() {
  server_->record(EventKind::accepted, number_, 0,
                  endpoint_text(socket_.remote_endpoint(ignored_)));
  if (plan_.blackhole == GoDark::on_accept) {
    co_await go_dark();
    close_now();
    co_return;
  }
  if (plan_.reset_on_accept) {
    reset("on_accept", 0);
    co_return;
  }
  // (No co_await inside conditions: GCC 12 miscompiles some of those.)
  bool ready = true;
  if (server_->tls_context) ready = co_await tls_handshake();
  if (ready && tls_) {
    co_await serve_requests(*tls_);
  } else if (ready) {
    co_await serve_requests(socket_);
  }
  abort("connection ended");  // every path above logs its close; this is a safety net
  close_now();
}

void Connection::abort(const std::string& reason) {
  if (closed_) return;
  closed_ = true;
  server_->record(EventKind::closed_by_server, number_, 0, reason);
  close_now();
}

void Connection::close_now() {
  timer_.cancel();
  lowest().shutdown(tcp::socket::shutdown_both, ignored_);
  lowest().close(ignored_);
}

void Connection::closed_by_peer(const boost::system::error_code& error) {
  if (closed_) return;
  closed_ = true;
  server_->record(EventKind::closed_by_peer, number_, 0, error ? error.message() : "eof");
  close_now();
}

awaitable<void> Connection::close_gracefully(std::string reason) {
  using namespace asio::experimental::awaitable_operators;
  if (closed_) co_return;
  closed_ = true;
  auto& socket = lowest();
  socket.shutdown(tcp::socket::shutdown_send, ignored_);
  // Logged after the FIN is sent: whoever waits for this event may rely on the close.
  server_->record(EventKind::closed_by_server, number_, 0, std::move(reason));
  timer_.expires_after(lingering_close_limit);
  co_await (wait_timer() || drain(socket));
  close_now();
}

awaitable<void> Connection::drain(tcp::socket& socket) {
  std::array<char, 4096> sink;
  for (;;) {
    auto [error, n] = co_await socket.async_read_some(asio::buffer(sink), as_tuple_awaitable);
    if (error) co_return;
  }
}

}  // namespace tunedhttp::mockserver::detail
