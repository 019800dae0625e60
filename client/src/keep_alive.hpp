#pragma once
// TCP keep-alive on a connected socket, as Go's net.Dialer.KeepAlive sets it.

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <tunedhttp/settings.hpp>

namespace tunedhttp::detail {

/// SO_KEEPALIVE off, or on with TCP_KEEPIDLE, TCP_KEEPINTVL and TCP_KEEPCNT as given (each
/// left at the OS default when 0): see effective_keep_alive() for Go's rules.
boost::system::error_code apply_keep_alive(boost::asio::ip::tcp::socket& socket,
                                           const EffectiveKeepAlive& keep_alive);

}  // namespace tunedhttp::detail
