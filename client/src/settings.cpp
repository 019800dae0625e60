#include <tunedhttp/settings.hpp>

namespace tunedhttp {

std::chrono::nanoseconds effective_conn_keep_alive(const Settings& settings) {
  // Go's net.Dialer: zero means "enabled with the default period" (15 s).
  if (settings.conn_keep_alive == std::chrono::nanoseconds::zero()) return std::chrono::seconds{15};
  return settings.conn_keep_alive;
}

int effective_max_host_idle_conns(const Settings& settings) {
  // Go's DefaultMaxIdleConnsPerHost.
  return settings.max_host_idle_conns > 0 ? settings.max_host_idle_conns : 2;
}

}  // namespace tunedhttp
