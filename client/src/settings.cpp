#include <algorithm>
#include <tunedhttp/settings.hpp>

namespace tunedhttp {

std::chrono::nanoseconds effective_conn_keep_alive(const Settings& settings) {
  // Go's net.Dialer: zero means "enabled with the default period" (15 s).
  if (settings.conn_keep_alive == std::chrono::nanoseconds::zero()) return std::chrono::seconds{15};
  return settings.conn_keep_alive;
}

std::chrono::nanoseconds effective_dual_stack_fallback_delay(const Settings& settings) {
  // Go's Dialer.fallbackDelay.
  if (settings.dual_stack_fallback_delay == std::chrono::nanoseconds::zero()) {
    return std::chrono::milliseconds{300};
  }
  return settings.dual_stack_fallback_delay;
}

namespace {

// Whole seconds as the socket holds them: rounded up, at least 1.
int socket_seconds(std::chrono::nanoseconds d) {
  const auto seconds = std::chrono::ceil<std::chrono::seconds>(d).count();
  return static_cast<int>(std::clamp<long long>(seconds, 1, 32767));
}

// A KeepAliveConfig field: 0 = Go's default, negative = the OS default (0 here), else itself.
int config_seconds(std::chrono::nanoseconds d) {
  if (d == std::chrono::nanoseconds::zero()) return 15;
  return d < std::chrono::nanoseconds::zero() ? 0 : socket_seconds(d);
}

}  // namespace

EffectiveKeepAlive effective_keep_alive(const Settings& settings) {
  EffectiveKeepAlive applied;
  if (settings.keep_alive.enable) {
    const auto& config = settings.keep_alive;
    applied.idle_seconds = config_seconds(config.idle);
    applied.interval_seconds = config_seconds(config.interval);
    applied.count = config.count == 0 ? 9 : std::clamp(config.count, 0, 127);
    return applied;
  }
  const auto period = effective_conn_keep_alive(settings);
  if (period < std::chrono::nanoseconds::zero()) {
    applied.enabled = false;
    return applied;
  }
  // Go up to 1.22: idle = interval = the period; the kernel's probe count.
  applied.idle_seconds = applied.interval_seconds = socket_seconds(period);
  return applied;
}

int effective_max_host_idle_conns(const Settings& settings) {
  // Go's DefaultMaxIdleConnsPerHost.
  return settings.max_host_idle_conns > 0 ? settings.max_host_idle_conns : 2;
}

}  // namespace tunedhttp
