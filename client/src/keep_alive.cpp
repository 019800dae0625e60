#include "keep_alive.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace tunedhttp::detail {
namespace {

boost::system::error_code set_int_option(int fd, int level, int name, int value) {
  if (::setsockopt(fd, level, name, &value, sizeof value) != 0) {
    return {errno, boost::system::system_category()};
  }
  return {};
}

}  // namespace

boost::system::error_code apply_keep_alive(boost::asio::ip::tcp::socket& socket,
                                           const EffectiveKeepAlive& keep_alive) {
  const int fd = socket.native_handle();
  if (!keep_alive.enabled) return set_int_option(fd, SOL_SOCKET, SO_KEEPALIVE, 0);
  if (auto ec = set_int_option(fd, SOL_SOCKET, SO_KEEPALIVE, 1)) return ec;
  const std::pair<int, int> options[] = {{TCP_KEEPIDLE, keep_alive.idle_seconds},
                                         {TCP_KEEPINTVL, keep_alive.interval_seconds},
                                         {TCP_KEEPCNT, keep_alive.count}};
  for (const auto& [name, value] : options) {
    if (value == 0) continue;
    if (auto ec = set_int_option(fd, IPPROTO_TCP, name, value)) return ec;
  }
  return {};
}

}  // namespace tunedhttp::detail
