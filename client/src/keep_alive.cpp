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
                                           std::chrono::nanoseconds period) {
  const int fd = socket.native_handle();
  if (period < std::chrono::nanoseconds::zero()) {
    return set_int_option(fd, SOL_SOCKET, SO_KEEPALIVE, 0);
  }
  const auto seconds = std::chrono::ceil<std::chrono::seconds>(period).count();
  const int whole_seconds = static_cast<int>(std::max<long long>(1, seconds));
  if (auto ec = set_int_option(fd, SOL_SOCKET, SO_KEEPALIVE, 1)) return ec;
  if (auto ec = set_int_option(fd, IPPROTO_TCP, TCP_KEEPIDLE, whole_seconds)) return ec;
  return set_int_option(fd, IPPROTO_TCP, TCP_KEEPINTVL, whole_seconds);
}

}  // namespace tunedhttp::detail
