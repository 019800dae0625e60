#pragma once
// Dialing a new connection: resolution and connect under `connect`, keep-alive, TLS under
// `tls_handshake`.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <tunedhttp/client.hpp>

#include "connection.hpp"
#include "tracer.hpp"
#include "url.hpp"

namespace tunedhttp::detail {

/// A dialed connection, or why there is none.
struct DialResult {
  boost::system::error_code error;
  std::shared_ptr<Connection> connection;
};

/// Dials `url` as connection number `id` as Go's net.Dialer does (resolution or the resolve
/// override, dual-stack fallback, each address's share of `connect`), then TLS with
/// `tls_context` for https URLs.
boost::asio::awaitable<DialResult> dial(const Url& url, const ClientOptions& options,
                                        boost::asio::ssl::context* tls_context, std::uint64_t id,
                                        Tracer& tracer);

}  // namespace tunedhttp::detail
