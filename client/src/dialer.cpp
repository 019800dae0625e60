#include "dialer.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <vector>

#include "keep_alive.hpp"
#include "with_timeout.hpp"

namespace tunedhttp::detail {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

// Resolution (skipped for address literals) and one connect attempt per address, in order.
asio::awaitable<error_code> connect_socket(tcp::socket& socket, const Url& url, Tracer& tracer) {
  error_code ec;
  const auto port = static_cast<unsigned short>(std::stoul(url.port));
  std::vector<tcp::endpoint> endpoints;
  if (const auto address = asio::ip::make_address(url.host, ec); !ec) {
    endpoints.emplace_back(address, port);
  } else {
    tracer.emit(TracePoint::dns_start, {}, url.host);
    tcp::resolver resolver(co_await asio::this_coro::executor);
    auto [resolve_error, results] =
        co_await resolver.async_resolve(url.host, url.port, asio::as_tuple(asio::use_awaitable));
    tracer.emit(TracePoint::dns_done, resolve_error, url.host);
    if (resolve_error) co_return resolve_error;
    for (const auto& entry : results) endpoints.push_back(entry.endpoint());
  }
  ec = asio::error::host_not_found;
  for (const auto& endpoint : endpoints) {
    error_code ignored;
    socket.close(ignored);
    const std::string address = tracer.enabled() ? endpoint.address().to_string() : std::string{};
    tracer.emit(TracePoint::connect_start, {}, address);
    auto [connect_error] =
        co_await socket.async_connect(endpoint, asio::as_tuple(asio::use_awaitable));
    tracer.emit(TracePoint::connect_done, connect_error, address);
    if (!connect_error) {
      socket.set_option(tcp::no_delay(true), ignored);
      co_return error_code{};
    }
    ec = connect_error;
  }
  co_return ec;
}

asio::awaitable<error_code> handshake(asio::ssl::stream<tcp::socket&>& stream) {
  auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::client,
                                              asio::as_tuple(asio::use_awaitable));
  co_return ec;
}

}  // namespace

asio::awaitable<DialResult> dial(const Url& url, const Settings& settings,
                                 const TlsOptions& tls_options, asio::ssl::context* tls_context,
                                 std::uint64_t id, Tracer& tracer) {
  auto connection = std::make_shared<Connection>(co_await asio::this_coro::executor);
  connection->id = id;
  connection->key = url.key();
  tracer.set_connection(id);

  tracer.emit(TracePoint::dial_start, {}, url.key());
  auto connected =
      co_await with_timeout(connect_socket(connection->socket, url, tracer), settings.connect);
  error_code ec = connected ? *connected : make_error_code(errc::connect_timeout);
  if (!ec) ec = apply_keep_alive(connection->socket, effective_conn_keep_alive(settings));
  if (tracer.enabled()) {
    TraceEvent done;
    done.point = TracePoint::dial_done;
    done.at = std::chrono::steady_clock::now();
    done.error = ec;
    done.socket = ec ? -1 : connection->socket.native_handle();
    tracer.emit(done);
  }
  if (ec) {
    connection->close();
    co_return DialResult{ec, nullptr};
  }

  if (url.tls) {
    connection->tls =
        std::make_unique<asio::ssl::stream<tcp::socket&>>(connection->socket, *tls_context);
    error_code ignored;
    // SNI is for names only (RFC 6066 §3); addresses are checked against IP SANs instead.
    if (asio::ip::make_address(url.host, ignored); ignored) {
      SSL_set_tlsext_host_name(connection->tls->native_handle(), url.host.c_str());
    }
    if (!tls_options.insecure) {
      connection->tls->set_verify_callback(asio::ssl::host_name_verification(url.host));
    }
    tracer.emit(TracePoint::tls_handshake_start);
    auto shaken = co_await with_timeout(handshake(*connection->tls), settings.tls_handshake);
    ec = shaken ? *shaken : make_error_code(errc::tls_handshake_timeout);
    tracer.emit(TracePoint::tls_handshake_done, ec);
    if (ec) {
      connection->close();
      co_return DialResult{ec, nullptr};
    }
  }
  co_return DialResult{{}, std::move(connection)};
}

}  // namespace tunedhttp::detail
