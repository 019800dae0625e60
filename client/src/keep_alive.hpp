#pragma once
// TCP keep-alive on a connected socket, as Go's net.Dialer.KeepAlive sets it.

#include <boost/asio/ip/tcp.hpp>
#include <chrono>

namespace tunedhttp::detail {

/// Negative `period`: SO_KEEPALIVE off. Otherwise SO_KEEPALIVE on with TCP_KEEPIDLE =
/// TCP_KEEPINTVL = ceil(period) seconds (at least 1), like Go before 1.23.
boost::system::error_code apply_keep_alive(boost::asio::ip::tcp::socket& socket,
                                           std::chrono::nanoseconds period);

}  // namespace tunedhttp::detail
