// The TLS handshake, and the mechanism of delay_tls_handshake (faults/delay_tls_handshake.cpp):
// the server leaves the ClientHello unread for the delay, or reads it off the socket first
// (after_client_hello) and hands it to OpenSSL when the delay is over.
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>

#include "connection.hpp"

namespace tunedhttp::mockserver::detail {
namespace {

namespace ssl = asio::ssl;

constexpr std::size_t tls_record_limit = 16 * 1024 + 2048;  // largest ClientHello record

}  // namespace

awaitable<bool> Connection::tls_handshake() {
  tls_.emplace(std::move(socket_), *server_->tls_context);
  std::vector<unsigned char> client_hello;
  if (plan_.tls_handshake_delay) {
    if (plan_.delay_after_client_hello) {
      const bool read = co_await read_client_hello(client_hello);
      if (!read) co_return false;
    }
    arm_timer(*plan_.tls_handshake_delay, Clock::now());
    for (;;) {
      const auto end = co_await stall([this] { return watch_by_peeking(); });
      if (end == StallEnd::closed) co_return false;
      if (end == StallEnd::elapsed) break;
      if (!client_hello.empty()) {
        co_await wait_timer();  // more than a ClientHello: just wait
        if (closed_) co_return false;
        break;
      }
      // The ClientHello came. Take it off the socket (OpenSSL gets it later) and go on
      // watching, so that the client giving up (its FIN) is seen; the client cannot tell.
      const bool read = co_await read_client_hello(client_hello);
      if (!read) co_return false;
    }
  }
  auto [error, used] = co_await tls_->async_handshake(
      ssl::stream_base::server, asio::buffer(client_hello), as_tuple_awaitable);
  (void)used;
  if (closed_) co_return false;
  if (error) {
    const bool peer_gone = error == asio::error::eof || error == ssl::error::stream_truncated ||
                           error == asio::error::connection_reset;
    if (peer_gone) {
      closed_by_peer(error);
    } else {
      abort("TLS handshake failed: " + error.message());
    }
    co_return false;
  }
  server_->record(EventKind::tls_done, number_, 0, "");
  co_return true;
}

awaitable<bool> Connection::read_client_hello(std::vector<unsigned char>& record) {
  auto& socket = lowest();
  record.resize(5);
  auto [error, n] = co_await asio::async_read(socket, asio::buffer(record), as_tuple_awaitable);
  if (!error) {
    const std::size_t length = (std::size_t{record[3]} << 8) | record[4];
    if (record[0] != 22 || length > tls_record_limit) {
      abort("not a TLS ClientHello");
      co_return false;
    }
    record.resize(5 + length);
    std::tie(error, n) = co_await asio::async_read(socket, asio::buffer(record.data() + 5, length),
                                                   as_tuple_awaitable);
  }
  if (error) {
    if (!closed_) closed_by_peer(error);
    co_return false;
  }
  co_return true;
}

awaitable<Connection::Watched> Connection::watch_by_peeking() {
  auto& socket = lowest();
  auto [error] = co_await socket.async_wait(tcp::socket::wait_read, as_tuple_awaitable);
  if (error) {
    last_error_ = error;
    co_return Watched::closed;
  }
  char byte = 0;
  const auto n = socket.receive(asio::buffer(&byte, 1), tcp::socket::message_peek, last_error_);
  co_return (last_error_ || n == 0) ? Watched::closed : Watched::data;
}

}  // namespace tunedhttp::mockserver::detail
