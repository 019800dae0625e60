#pragma once
// Dialing a new connection: resolution and connect under `connect`, keep-alive, TLS under
// `tls_handshake`.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <tunedhttp/client.hpp>

#include "connection.hpp"
#include "proxy_route.hpp"
#include "tracer.hpp"

namespace tunedhttp::detail {

/// A dialed connection, or why there is none.
struct DialResult {
  boost::system::error_code error;
  std::shared_ptr<Connection> connection;
};

/// Dials `route` as connection number `id`, as Go's dialConn does: TCP to the proxy or the target
/// as net.Dialer does (resolution or the resolve override, dual-stack fallback, each address's
/// share of `connect`); through a proxy to an https target, CONNECT under `proxy_connect`; then
/// TLS with `tls_context` to https targets, under `tls_handshake`.
/// The connection's socket is made on `io_executor`, the client's: a pooled connection serves
/// many requests, each on its own strand when the client's executor is not serial, so its
/// socket's own executor must not be the strand of the request that dialed it (every later
/// completion would pass through that strand first). The dial's handlers run on the caller's.
boost::asio::awaitable<DialResult> dial(const Route& route, const ClientOptions& options,
                                        boost::asio::ssl::context* tls_context, std::uint64_t id,
                                        const boost::asio::any_io_executor& io_executor,
                                        Tracer& tracer);

}  // namespace tunedhttp::detail
